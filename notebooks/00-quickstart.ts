// %% [markdown]
// # Quick start — build OffSeg-T, load a checkpoint, segment an image
//
// Provenance of what this notebook prints: **measured** = computed here by this code;
// **quoted** = copied from the paper. Nothing here is trained (no **proxy** cell).
//
// Weights: set `OFFSEG_CHECKPOINT=/path/to/offseg-t_ade20k.pth` (a released OffSeg-T ADE20K
// checkpoint, mmseg format) before starting Jupyter to segment with trained weights. Without
// it the notebook loads the official **parity checkpoint** (random weights drawn by the
// authors' code, `../shared/fixtures/parity/offseg_t/`, K = 150): the segmentation is then
// noise, but every number is the official model's, which the parity cell checks.
// `OFFSEG_IMAGE=/path/to/image.jpg` segments your own image instead of the parity image.

// %%
// Setup (measured environment): backend and run mode.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend, selectBackend } from './lib/backend/select';
import { createModel } from './lib/models/registry';
import { TABLE2 } from './lib/report/paper';
import { readTorchCheckpoint, loadStateDict, summarizeLoadReport } from './lib/io/checkpoint';
import { readNpy } from './lib/io/npy';
import { readNpyNhwc } from './lib/io/tensor_npy';
import { decodeImage } from './lib/data/image_io';
import { datasetMeta } from './lib/data/metainfo';
import { IMAGENET_MEAN, IMAGENET_STD } from './lib/data/transforms/pipeline';
import { predictLogits, argmaxLabels } from './lib/eval/inference';
import { repoRoot } from './lib/paths';
import { pngBytes, savePng } from './lib/report/figure';
import { show } from './lib/report/display';
import { isQuick, writeSection } from './lib/report/section';
import { toMarkdown, type Table } from './lib/report/table';

const backend = await selectBackend();
console.log(`backend ${describeBackend(backend)}; ${isQuick() ? 'quick' : 'full'} run`);
const PARITY =
  process.env.OFFSEG_PARITY_DIR ?? join(repoRoot(), '..', 'shared', 'fixtures', 'parity');
const FIXTURE = join(PARITY, 'offseg_t');

// %% [markdown]
// ## 1. Build OffSeg-T — parameters **measured** beside **quoted**

// %%
// measured: parameter count of our OffSeg-T (K = 150) vs the paper's 6.2 M (quoted)
const model = createModel('offseg-t', { numClasses: 150 });
model.eval();
const paramsM = model.numParams() / 1e6;
console.log(
  `OffSeg-T: ${paramsM.toFixed(3)} M parameters (measured); paper: ${TABLE2['offseg-t'].params} M (quoted)`,
);

// %% [markdown]
// ## 2. Load a checkpoint (mmseg / PyTorch `.pth`, read in TypeScript)

// %%
// measured: which checkpoint, how many tensors loaded
const userCkpt = process.env.OFFSEG_CHECKPOINT;
const ckptPath = userCkpt ?? join(FIXTURE, 'checkpoint.pth');
let weights: 'released' | 'parity' | 'random init';
if (existsSync(ckptPath)) {
  const report = loadStateDict(model, readTorchCheckpoint(ckptPath), { strict: false });
  if (report.missing.length) throw new Error(`${ckptPath} does not fit OffSeg-T (K=150)`);
  weights = userCkpt ? 'released' : 'parity';
  console.log(`${ckptPath}: ${summarizeLoadReport(report)}`);
} else {
  if (userCkpt) throw new Error(`OFFSEG_CHECKPOINT=${userCkpt} does not exist`);
  weights = 'random init';
  console.log(`no checkpoint (${ckptPath} missing): keeping the seeded random initialisation`);
}

// %% [markdown]
// ## 3. Parity with the official implementation — **measured**
//
// With the parity checkpoint, our logits on the fixture's 256×256 input are compared with the
// official PyTorch logits stored beside it.

// %%
// measured: max / mean |Δ| between our logits and the official ones
let parity = 'not run here: needs the parity fixture and its checkpoint';
if (weights === 'parity' && existsSync(join(FIXTURE, 'input.npy'))) {
  const x = readNpyNhwc(join(FIXTURE, 'input.npy')); // [1,256,256,3]
  const ref = readNpyNhwc(join(FIXTURE, 'logits.npy')); // [1,64,64,150]
  const [maxD, meanD] = tf.tidy(() => {
    const d = tf.abs(tf.sub(model.forward(x), ref));
    return [tf.max(d).dataSync()[0], tf.mean(d).dataSync()[0]];
  });
  x.dispose();
  ref.dispose();
  parity = `logits vs official at 256×256: max |Δ| ${maxD.toExponential(2)}, mean |Δ| ${meanD.toExponential(2)} (measured)`;
}
console.log(parity);

// %% [markdown]
// ## 4. Segment an image and show it with the ADE20K palette — **measured**

// %%
// measured: the prediction of the loaded model; image = OFFSEG_IMAGE or the parity 512² image
let rgb: Uint8Array;
let H: number;
let W: number;
let imageName: string;
if (process.env.OFFSEG_IMAGE) {
  const img = await decodeImage(process.env.OFFSEG_IMAGE);
  [rgb, H, W, imageName] = [img.data, img.height, img.width, process.env.OFFSEG_IMAGE];
} else if (existsSync(join(FIXTURE, 'image_512_rgb_uint8.npy'))) {
  const a = readNpy(join(FIXTURE, 'image_512_rgb_uint8.npy'));
  [rgb, H, W, imageName] = [a.data as Uint8Array, a.shape[0], a.shape[1], 'parity image 512²'];
} else {
  // No fixture: a seeded gradient image so the notebook still runs end to end.
  [H, W, imageName] = [256, 256, 'synthetic gradient'];
  rgb = new Uint8Array(H * W * 3).map((_, i) => (i * 37) % 251);
}
const t0 = Date.now();
const logits = tf.tidy(() => {
  const img = tf.tensor4d(Float32Array.from(rgb), [1, H, W, 3]);
  const x = tf.div(tf.sub(img, IMAGENET_MEAN), IMAGENET_STD) as tf.Tensor4D;
  return predictLogits(model, x, [H, W], { mode: 'whole' });
});
const pred = await argmaxLabels(logits);
logits.dispose();
const inferMs = Date.now() - t0;
console.log(`${imageName}: ${W}×${H}, inference ${inferMs} ms (measured, ${weights} weights)`);

// %%
// measured: image | colour-coded prediction | overlay → results/figures/00_quickstart.png
const ade = datasetMeta('ade20k');
const out = new Uint8Array(H * W * 3 * 3);
for (let y = 0; y < H; y++)
  for (let x = 0; x < W; x++) {
    const i = y * W + x;
    const c = ade.palette[pred[i]];
    for (let ch = 0; ch < 3; ch++) {
      const v = rgb[i * 3 + ch];
      const row = y * W * 3 * 3;
      out[row + x * 3 + ch] = v;
      out[row + (W + x) * 3 + ch] = c[ch];
      out[row + (2 * W + x) * 3 + ch] = Math.round(0.5 * v + 0.5 * c[ch]);
    }
  }
const pngPath = await savePng('00_quickstart', { data: out, width: 3 * W, height: H, channels: 3 });
const small = await pngBytes(
  { data: out, width: 3 * W, height: H, channels: 3 },
  { maxWidth: 900 },
);
await show({ png: small });
console.log(`saved ${pngPath}`);

// %%
// measured: the classes covering most pixels
const counts = new Map<number, number>();
for (const k of pred) counts.set(k, (counts.get(k) ?? 0) + 1);
const top: Table = {
  title: `Quick start — most frequent predicted classes (${weights} weights, ${imageName})`,
  columns: ['class id', 'ADE20K class', 'palette RGB', 'pixels % (measured)'],
  rows: [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, n]) => [k, ade.classes[k].trim(), ade.palette[k].join(','), (100 * n) / pred.length]),
  notes:
    weights === 'released'
      ? []
      : ['The weights are not trained: these classes are noise, shown only to exercise the path.'],
};
await show(top);
model.dispose();

// %% [markdown]
// ## Report section

// %%
// measured + quoted (the numbers above, no new ones): writes results/report/00-quickstart.md for REPORT.md
writeSection(
  '00-quickstart',
  'Quick start — OffSeg-T end to end (notebook 00-quickstart)',
  [
    `OffSeg-T built with ${paramsM.toFixed(3)} M parameters (measured; paper ${TABLE2['offseg-t'].params} M, quoted). Weights: **${weights}** (${existsSync(ckptPath) ? ckptPath.replace(repoRoot() + '/', '') : 'none'}).`,
    `Parity: ${parity}.`,
    `Segmentation of the ${imageName} (${W}×${H}) in ${inferMs} ms on ${describeBackend(backend)} (measured): image | prediction (ADE20K palette) | overlay.`,
    '![quick start](figures/00_quickstart.png)',
    toMarkdown(top),
  ].join('\n\n'),
);
console.log('wrote results/report/00-quickstart.md');
