/**
 * The demo page end to end in a real browser (Debian's Chromium driven by playwright-core, as the
 * figures are rendered): build the page with a small exported model, serve it on localhost, feed a
 * photo through the file input, wait for the result, and check the label colours it drew against
 * `offseg predict`'s recipe on the same .onnx in Node (ONNX Runtime in both). The screenshot goes to
 * the test's temporary folder (results/figures/demo.png is `npm run reproduce`'s, with the
 * workspace's trained model). Without Chromium the test is skipped with one line saying how to get it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { selectBackend } from '../lib/backend/select.ts';
import { createModel } from '../lib/models/registry.ts';
import { exportOnnx } from '../lib/export/onnx.ts';
import { OrtEngine } from '../lib/engine/ort_engine.ts';
import { engineNet } from '../lib/eval/tensor_net.ts';
import { segmentPhoto } from '../lib/eval/segment_photo.ts';
import { photoTest } from '../lib/cli/predict_setup.ts';
import { datasetMeta } from '../lib/data/metainfo.ts';
import { bundlePage } from '../demo/build.ts';
import { prepareDemoModel, writePalettes } from '../demo/prepare.ts';
import { serveDemo } from '../demo/serve.ts';
import { expectStatus, segmentOnPage } from '../demo/screenshot.ts';
import { chromiumMissing, launchChromium } from '../lib/report/chromium.ts';
import type { DemoState } from '../demo/card.ts';

/** A small keep-ratio scale keeps the browser's inference short: the 96×64 photo stays 96×64. */
const SCALE: [number, number] = [256, 64];
const missing = chromiumMissing();

/** A 96×64 "photo": sky gradient, a ground band and two discs, so the labels form regions. */
async function photo(path: string): Promise<void> {
  const [w, h] = [96, 64];
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 3 * (y * w + x);
      const disc = (x - 30) ** 2 + (y - 40) ** 2 < 150 || (x - 70) ** 2 + (y - 22) ** 2 < 90;
      const rgb = disc
        ? [200, 40, 50]
        : y > 44
          ? [70 + (x % 7) * 6, 120, 50]
          : [90 + y, 150 + y, 235];
      d.set(rgb, o);
    }
  }
  writeFileSync(
    path,
    await sharp(Buffer.from(d), { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

test(
  'demo page segments a photo in Chromium like the Node recipe',
  { skip: missing },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'offseg-demo-'));
    try {
      // a small exported model: OffSeg-T, 150 ADE20K classes, random weights, dynamic H×W
      await selectBackend({ prefer: 'cpu', log: false });
      const model = createModel('offseg-t', { numClasses: 150, seed: 1 });
      const onnx = join(dir, 'offseg-t.onnx');
      writeFileSync(
        onnx,
        (await exportOnnx(model, { modelName: 'offseg-t', dynamic: true })).bytes,
      );
      model.dispose();
      const out = join(dir, 'site');
      const card = await prepareDemoModel({
        out,
        onnx,
        palette: 'ade20k',
        mode: 'whole',
        scale: SCALE,
        samples: false,
        log: () => undefined,
      });
      await bundlePage(out);
      await writePalettes(out, false);
      const img = join(dir, 'scene.png');
      await photo(img);

      // Node: the same .onnx through offseg predict's recipe
      const raw = await sharp(img).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const rgb = {
        data: new Uint8Array(raw.data),
        width: raw.info.width,
        height: raw.info.height,
      };
      const engine = await OrtEngine.fromFile(onnx);
      const test = photoTest('ade20k', 'whole');
      test.pipeline.scale = SCALE;
      const ref = await segmentPhoto(engineNet(engine), rgb, test);
      await engine.dispose();

      const server = await serveDemo(out, 0);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(server.url);
        await expectStatus(page, 'ready');
        assert.match(
          (await page.textContent('#model-label')) ?? '',
          /offseg-t from offseg-t\.onnx/,
        );
        assert.match(
          (await page.textContent('#runtime')) ?? '',
          /keep-ratio resize to 256×64, whole/,
        );
        await segmentOnPage(page, { file: img });
        // the label colours the page drew, pixel by pixel, against the Node prediction's colours
        const drawn = (await page.evaluate(`(() => {
          const c = document.getElementById('labels');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
          return { width: d.width, height: d.height, rgba: Array.from(d.data) };
        })()`)) as { width: number; height: number; rgba: number[] };
        assert.deepEqual([drawn.width, drawn.height], [96, 64]);
        const palette = datasetMeta('ade20k').palette;
        let differ = 0;
        for (let i = 0; i < ref.labels.length; i++) {
          const c = palette[ref.labels[i]];
          const o = 4 * i;
          if (drawn.rgba[o] !== c[0] || drawn.rgba[o + 1] !== c[1] || drawn.rgba[o + 2] !== c[2])
            differ++;
        }
        // ONNX Runtime's CPU kernels in Node (AVX2) and in the browser (WebAssembly SIMD) sum in
        // different orders: a pixel may flip where two classes tie to within float32 rounding.
        assert.ok(
          differ <= ref.labels.length * 0.001,
          `${differ} of ${ref.labels.length} pixels differ`,
        );
        t.diagnostic(`label colours: ${differ} of ${ref.labels.length} pixels differ from Node`);
        const last = await page.evaluate(
          () => (globalThis as unknown as { offsegDemo: DemoState }).offsegDemo.last!,
        );
        assert.equal(last.width * last.height, ref.labels.length);
        const legend = await page.$$eval('#legend li', (lis) =>
          lis.map((l) => l.textContent ?? ''),
        );
        assert.equal(legend.length, last.classes.length);
        assert.match((await page.textContent('#latency')) ?? '', /Inference \d+ ms \(WebAssembly/);
        assert.deepEqual(errors, []);
        const shot = join(dir, 'demo.png');
        await page.screenshot({ path: shot, fullPage: true });
        assert.ok(statSync(shot).size > 1000, 'screenshot written');
        assert.equal(card.dataset.name, 'ade20k');
      } finally {
        await browser.close();
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
