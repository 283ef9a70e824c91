// Train/test pipeline pieces against hand-computed values (mmcv/mmseg semantics, docs/data_and_metrics.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../rng.ts';
import type { RawSample } from '../dataset.ts';
import {
  cropPasses,
  flipHorizontal,
  randomCrop,
  rescaleSize,
  resizeBilinearRgb,
  resizeNearestLabel,
} from './geometric.ts';
import { hsvToRgb, photoMetricDistortion, rgbToHsv } from './photometric.ts';
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  PIPELINE_PRESETS,
  applyTestPipeline,
  applyTrainPipeline,
} from './pipeline.ts';
import { randomRgb } from '../testing.ts';

const grey = (vals: number[]): Uint8Array => Uint8Array.from(vals.flatMap((v) => [v, v, v]));

test('rescaleSize follows mmcv rescale_size with (long, short) bounds', () => {
  assert.deepEqual(rescaleSize(683, 512, [2048, 512]), [683, 512]);
  assert.deepEqual(rescaleSize(683, 512, [1024, 256]), [342, 256]);
  assert.deepEqual(rescaleSize(300, 1000, [2048, 512]), [512, 1707]);
  assert.deepEqual(rescaleSize(2048, 1024, [4096, 2048]), [4096, 2048]);
  // the long edge bound wins for a panorama
  assert.deepEqual(rescaleSize(4000, 500, [2048, 512]), [2048, 256]);
});

test('bilinear resize: half-pixel centres, clamped borders, rounded', () => {
  const up = resizeBilinearRgb({ data: grey([0, 100]), width: 2, height: 1 }, 4, 1);
  assert.deepEqual(
    [...up.data].filter((_, i) => i % 3 === 0),
    [0, 25, 75, 100],
  );
  const down = resizeBilinearRgb({ data: grey([0, 100, 200, 250]), width: 4, height: 1 }, 2, 1);
  assert.deepEqual(
    [...down.data].filter((_, i) => i % 3 === 0),
    [50, 225],
  );
  // 2-D: a 2×2 checker upsampled to 4×4 has the torch/cv2 corner and centre values
  const img = { data: grey([0, 255, 255, 0]), width: 2, height: 2 };
  const r = resizeBilinearRgb(img, 4, 4);
  const g = [...r.data].filter((_, i) => i % 3 === 0);
  assert.deepEqual(g.slice(0, 4), [0, 64, 191, 255]);
  assert.deepEqual(g.slice(4, 8), [64, 96, 159, 191]);
});

test('nearest label resize uses cv2 INTER_NEAREST: src = floor(dst·in/out)', () => {
  const l = resizeNearestLabel({ data: Uint8Array.from([1, 2, 3]), width: 3, height: 1 }, 5, 1);
  assert.deepEqual([...l.data], [1, 1, 2, 2, 3]);
  const d = resizeNearestLabel({ data: Uint8Array.from([1, 2, 3, 4]), width: 4, height: 1 }, 2, 1);
  assert.deepEqual([...d.data], [1, 3]);
});

test('cat_max_ratio: needs > 1 non-ignore class and the largest share < ratio', () => {
  const mk = (vals: number[]) => ({ data: Uint8Array.from(vals), width: vals.length, height: 1 });
  assert.equal(cropPasses(mk([1, 1, 1, 1]), 0.75, 255), false);
  assert.equal(cropPasses(mk([1, 1, 1, 2]), 0.75, 255), false); // 0.75 is not < 0.75
  assert.equal(cropPasses(mk([1, 1, 2, 2]), 0.75, 255), true);
  assert.equal(cropPasses(mk([1, 1, 255, 255, 255, 2]), 0.75, 255), true); // ignore excluded
  assert.equal(cropPasses(mk([1, 255, 255]), 0.75, 255), false);
});

test('RandomCrop prefers crops that pass cat_max_ratio, keeps small sides whole', () => {
  // 64×64: class 2 in the 8 leftmost columns, class 1 elsewhere; a 16×16 crop passes only when
  // it starts in columns 0..3 (4 of 49 offsets, 8 % for a uniform draw)
  const W = 64;
  const lab = new Uint8Array(W * W).fill(1);
  for (let y = 0; y < W; y++) for (let x = 0; x < 8; x++) lab[y * W + x] = 2;
  const s = {
    img: { data: new Uint8Array(W * W * 3), width: W, height: W },
    label: { data: lab, width: W, height: W },
  };
  let passed = 0;
  for (let seed = 0; seed < 20; seed++) {
    const c = randomCrop(s, new Rng(seed), [16, 16], 0.75);
    assert.equal(c.img.width, 16);
    assert.equal(c.label.data.length, 256);
    if (cropPasses(c.label, 0.75, 255)) passed++;
  }
  assert.ok(passed >= 6, `only ${passed}/20 crops passed; a uniform crop would pass ~8 %`);
  const small = randomCrop(
    {
      img: { data: new Uint8Array(5 * 4 * 3), width: 5, height: 4 },
      label: { data: new Uint8Array(20), width: 5, height: 4 },
    },
    new Rng(0),
    [8, 8],
    0.75,
  );
  assert.deepEqual([small.img.width, small.img.height], [5, 4]);
});

test('flip mirrors image and label together', () => {
  const s = flipHorizontal({
    img: { data: Uint8Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3]), width: 3, height: 1 },
    label: { data: Uint8Array.from([7, 8, 9]), width: 3, height: 1 },
  });
  assert.deepEqual([...s.img.data], [3, 3, 3, 2, 2, 2, 1, 1, 1]);
  assert.deepEqual([...s.label.data], [9, 8, 7]);
});

test('OpenCV 8-bit HSV: known colours and round trip', () => {
  const rgb = Uint8Array.from([
    255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128, 255, 128, 0, 0, 0, 0,
  ]);
  const hsv = new Uint8Array(rgb.length);
  rgbToHsv(rgb, hsv);
  assert.deepEqual(
    [...hsv],
    [0, 255, 255, 60, 255, 255, 120, 255, 255, 0, 0, 128, 15, 255, 255, 0, 0, 0],
  );
  const back = new Uint8Array(rgb.length);
  hsvToRgb(hsv, back);
  assert.deepEqual([...back.slice(0, 12)], [...rgb.slice(0, 12)]);
  // the 8-bit round trip is lossy (H has 180 levels) but close
  const rnd = randomRgb(64, 64, 3);
  const h2 = new Uint8Array(rnd.length);
  const r2 = new Uint8Array(rnd.length);
  rgbToHsv(rnd, h2);
  hsvToRgb(h2, r2);
  let max = 0;
  for (let i = 0; i < rnd.length; i++) max = Math.max(max, Math.abs(rnd[i] - r2[i]));
  assert.ok(max <= 4, `round-trip error ${max}`);
});

test('PhotoMetricDistortion is seeded, in range and changes the image', () => {
  const base = randomRgb(16, 16, 7);
  const run = (seed: number): Uint8Array => {
    const img = { data: base.slice(), width: 16, height: 16 };
    photoMetricDistortion(img, new Rng(seed));
    return img.data;
  };
  assert.deepEqual(run(5), run(5));
  let changed = 0;
  for (let s = 0; s < 8; s++) if (run(s).some((v, i) => v !== base[i])) changed++;
  assert.ok(changed >= 6);
});

function rawSample(w: number, h: number, seed = 1): RawSample {
  const label = new Uint8Array(w * h);
  for (let i = 0; i < label.length; i++) label[i] = i % 3;
  return {
    index: 0,
    img: { data: randomRgb(w, h, seed), width: w, height: h },
    label: { data: label, width: w, height: h },
    ref: { imgPath: 'x.jpg', segPath: 'x.png', name: 'x' },
  };
}

test('train pipeline: normalise in RGB, then pad to the crop with 0 (image) and 255 (label)', () => {
  const raw = rawSample(5, 4);
  const cfg = {
    ...PIPELINE_PRESETS.builtin.train,
    scale: [5, 4] as [number, number],
    ratioRange: [1, 1] as [number, number],
    cropSize: [6, 8] as [number, number],
    flipProb: 0,
    photometric: null,
  };
  const out = applyTrainPipeline(raw, cfg, new Rng(0));
  assert.equal(out.image.length, 6 * 8 * 3);
  assert.equal(out.label.length, 6 * 8);
  const v = raw.img.data[3 * 6 + 1]; // pixel (y=1, x=1), G
  const expectG = Math.fround(
    Math.fround(v - Math.fround(IMAGENET_MEAN[1])) / Math.fround(IMAGENET_STD[1]),
  );
  assert.equal(out.image[(1 * 8 + 1) * 3 + 1], expectG);
  assert.equal(out.image[(0 * 8 + 6) * 3], 0); // right padding
  assert.equal(out.image[(5 * 8 + 0) * 3 + 2], 0); // bottom padding
  assert.equal(out.label[0 * 8 + 6], 255);
  assert.equal(out.label[5 * 8], 255);
  assert.equal(out.label[1 * 8 + 1], raw.label.data[1 * 5 + 1]);
});

test('train pipeline with the full recipe is deterministic per generator seed', () => {
  const cfg = PIPELINE_PRESETS.builtin.train;
  const a = applyTrainPipeline(rawSample(96, 64), cfg, new Rng(42));
  const b = applyTrainPipeline(rawSample(96, 64), cfg, new Rng(42));
  const c = applyTrainPipeline(rawSample(96, 64), cfg, new Rng(43));
  assert.deepEqual(a.image, b.image);
  assert.deepEqual(a.label, b.label);
  assert.notDeepEqual(a.image, c.image);
  assert.equal(a.image.length, 128 * 128 * 3);
});

test('test pipeline resizes the image only; the label stays at the original size', () => {
  const raw = rawSample(100, 50);
  const out = applyTestPipeline(raw, { ...PIPELINE_PRESETS.builtin.test, scale: [512, 128] });
  assert.deepEqual([out.width, out.height], [256, 128]);
  assert.equal(out.image.length, 256 * 128 * 3);
  assert.deepEqual([out.oriWidth, out.oriHeight], [100, 50]);
  assert.equal(out.label.length, 100 * 50);
});
