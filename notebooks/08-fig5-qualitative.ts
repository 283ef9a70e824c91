// %% [markdown]
// # Fig. 5 — per-pixel classification vs Offset Learning, side by side
//
// The paper's Fig. 5 shows ADE20K images where Offset Learning fixes per-pixel mistakes. Here
// (**proxy**): the seed-0 proxy models of notebook 04 — the per-pixel FreqFusion variant
// (`offseg-t-pp`, Table 6 row 2) and OffSeg-T (`offseg-t`) — on the same built-in val images.
// Columns: image | ground truth | per-pixel | Offset Learning, coloured with the built-in
// palette (ignored pixels black). The images are the first ones of the val split (no picking),
// and each prediction panel is labelled with its pixel accuracy on that image.

// %%
// Setup: backend, run mode, models and the val split.
import * as tf from '@tensorflow/tfjs-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend, selectBackend } from './lib/backend/select';
import { buildDatasets, testPipeline } from './lib/train/build';
import { applyTestPipeline } from './lib/data/transforms/pipeline';
import { argmaxLabels, predictLogits } from './lib/eval/inference';
import { figureHtml, pngBytes, savePng } from './lib/report/figure';
import { resultsDir } from './lib/report/paths';
import { show } from './lib/report/display';
import { isQuick, writeSection } from './lib/report/section';
import {
  backbonePath,
  finetuneConfig,
  loadProxyModel,
  proxyProtocolMarkdown,
  runProxy,
  type ProxyResult,
} from './lib/train/proxy';

const backend = await selectBackend();
const quick = isQuick();
console.log(`backend ${describeBackend(backend)}; ${quick ? 'quick' : 'full'} run`);
const MODELS = [
  { name: 'offseg-t-pp', label: 'per-pixel' },
  { name: 'offseg-t', label: 'Offset Learning' },
];
const runs: Record<string, ProxyResult | undefined> = {};
for (const m of MODELS)
  runs[m.name] = await runProxy({ model: m.name, seed: 0, quick: quick, needModel: true });
const { config } = finetuneConfig('offseg-t', 0, backbonePath(quick), quick);
const { val } = await buildDatasets(config, ['val']);

// %% [markdown]
// ## Predictions

// %%
const NUM = 6;
const SCALE = 3; // 64-px images shown at 192 px (nearest neighbour)
type Panel = { data: Uint8Array; h: number; w: number; title: string };
const palette = val!.palette;
function colorize(label: ArrayLike<number>, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w * 3);
  for (let i = 0; i < h * w; i++) {
    const c = label[i] === val!.ignoreIndex ? [0, 0, 0] : palette[label[i]];
    out.set(c, i * 3);
  }
  return out;
}
function pixelAcc(pred: ArrayLike<number>, gt: ArrayLike<number>): number {
  let ok = 0;
  let n = 0;
  for (let i = 0; i < gt.length; i++) {
    if (gt[i] === val!.ignoreIndex) continue;
    n++;
    if (pred[i] === gt[i]) ok++;
  }
  return n ? (100 * ok) / n : NaN;
}
const rows: Panel[][] = [];
const ready = MODELS.filter((m) => runs[m.name]);
const models = ready.map((m) => ({ ...m, model: loadProxyModel(runs[m.name]!) }));
for (let i = 0; i < Math.min(NUM, val!.length); i++) {
  const raw = await val!.load(i);
  const { height: h, width: w } = raw.img;
  const s = applyTestPipeline(raw, testPipeline(config));
  const row: Panel[] = [
    { data: raw.img.data, h, w, title: `val #${i}` },
    { data: colorize(raw.label.data, h, w), h, w, title: 'ground truth' },
  ];
  for (const m of models) {
    const logits = tf.tidy(() =>
      predictLogits(m.model, tf.tensor4d(s.image, [1, s.height, s.width, 3]), [h, w], {
        mode: 'whole',
      }),
    );
    const pred = await argmaxLabels(logits);
    logits.dispose();
    row.push({
      data: colorize(pred, h, w),
      h,
      w,
      title: `${m.label}: ${pixelAcc(pred, raw.label.data).toFixed(1)} % px`,
    });
  }
  rows.push(row);
}
for (const m of models) m.model.dispose();

// %% [markdown]
// ## Fig. 5 (proxy) — image | ground truth | per-pixel | Offset Learning

// %%
// One PNG grid (nearest-neighbour upscaled tiles, white gaps).
const cols = 2 + models.length;
const tile = 64 * SCALE;
const gap = 6;
const W = cols * tile + (cols + 1) * gap;
const H = Math.max(1, rows.length) * tile + (rows.length + 1) * gap;
const grid = new Uint8Array(W * H * 3).fill(255);
rows.forEach((row, r) =>
  row.forEach((p, c) => {
    const ox = gap + c * (tile + gap);
    const oy = gap + r * (tile + gap);
    for (let y = 0; y < tile; y++)
      for (let x = 0; x < tile; x++) {
        const sy = Math.min(p.h - 1, Math.floor((y * p.h) / tile));
        const sx = Math.min(p.w - 1, Math.floor((x * p.w) / tile));
        const src = (sy * p.w + sx) * 3;
        const dst = ((oy + y) * W + ox + x) * 3;
        grid[dst] = p.data[src];
        grid[dst + 1] = p.data[src + 1];
        grid[dst + 2] = p.data[src + 2];
      }
  }),
);
const png = await savePng('fig5_qualitative', { data: grid, width: W, height: H, channels: 3 });

// The same grid as a self-contained HTML page with panel titles (Plotly image trace).
const uri = `data:image/png;base64,${(await pngBytes({ data: grid, width: W, height: H, channels: 3 })).toString('base64')}`;
const annotations = rows.flatMap((row, r) =>
  row.map((p, c) => ({
    text: p.title,
    x: gap + c * (tile + gap) + tile / 2,
    y: gap + r * (tile + gap) - 2,
    xref: 'x',
    yref: 'y',
    showarrow: false,
    yanchor: 'bottom',
    font: { size: 11 },
  })),
);
const fig = {
  data: [{ type: 'image', source: uri, hoverinfo: 'skip' }],
  layout: {
    title: { text: 'Fig. 5 (proxy) — image | ground truth | per-pixel | Offset Learning' },
    width: W + 80,
    height: H + 120,
    xaxis: { visible: false, range: [0, W] },
    yaxis: { visible: false, range: [H, -20], scaleanchor: 'x' },
    margin: { l: 40, r: 40, t: 60, b: 20 },
    annotations,
  },
};
const html = join(resultsDir('figures'), 'fig5_qualitative.html');
writeFileSync(html, figureHtml(fig, 'fig5_qualitative'));
await show({ png: await pngBytes({ data: grid, width: W, height: H, channels: 3 }) });
console.log(
  rows
    .map((r) =>
      r
        .slice(2)
        .map((p) => p.title)
        .join(' | '),
    )
    .join('\n'),
);
console.log({ png: png, html: html }); // no shorthand: tslab

// %% [markdown]
// ## Report section

// %%
writeSection(
  '08-fig5',
  'Fig. 5 — per-pixel vs Offset Learning predictions (notebook 08-fig5-qualitative)',
  [
    'Qualitative, **proxy** models (built-in dataset). Columns: image | ground truth | per-pixel (`offseg-t-pp`) | Offset Learning (`offseg-t`); the first val images, unpicked; per-image pixel accuracy in the panel titles.',
    proxyProtocolMarkdown(quick),
    ready.length
      ? '![Fig. 5 proxy](../figures/fig5_qualitative.png)'
      : 'Not run: no cached proxy models (OFFSEG_SKIP_TRAIN=1).',
    rows
      .map(
        (r) =>
          `- ${r[0].title}: ${r
            .slice(2)
            .map((p) => p.title)
            .join(' · ')}`,
      )
      .join('\n'),
    'Files: `results/figures/fig5_qualitative.{png,html}`.',
  ].join('\n\n'),
);
console.log('wrote results/report/08-fig5.md');
