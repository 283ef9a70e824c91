// %% [markdown]
// # Quick start — build a model, load weights, segment images
//
// Provenance of what this notebook prints: **measured** = computed here by this code;
// **quoted** = copied from the paper; **proxy** = a model trained here on the built-in dataset.
//
// Which weights segment the images, in this order:
// 1. `OFFSEG_CHECKPOINT=/path/to/offseg-t_ade20k.pth`, a released ADE20K checkpoint: it segments
//    `OFFSEG_IMAGE` (your image) or the official parity image;
// 2. otherwise the newest model this workspace trained with `npm run quickstart`
//    (work_dirs/quickstart-…): it segments images of the built-in dataset's val split (**proxy**);
// 3. otherwise random weights (the official parity checkpoint when its fixtures are available,
//    else a seeded initialisation): the figure then says in its title that the prediction is noise.
//
// Change a parameter in the next cell and re-run the notebook.

// %%
// Parameters — one place to change what this notebook does.
const MODEL = 'offseg-t'; // registry name (npx offseg params --help lists them); quoted numbers exist for offseg-t/b/l
const NUM_IMAGES = 4; // built-in val images to segment with a trained run
const RUNS_DIR = 'work_dirs'; // where `npm run quickstart` writes its runs (newest quickstart-* is used)
const CHECKPOINT = process.env.OFFSEG_CHECKPOINT; // optional: a released ADE20K checkpoint of MODEL
const IMAGE = process.env.OFFSEG_IMAGE; // optional: your own image for that checkpoint
// Official parity fixtures (not in the repository): the folder holding offseg_t/checkpoint.pth.
const PARITY_DIR =
  process.env.OFFSEG_PARITY_DIR ??
  (process.env.OFFSEG_SHARED ? `${process.env.OFFSEG_SHARED}/fixtures/parity` : undefined);

// %%
// Setup: imports, backend (any cell also works alone: the library picks a backend on first use).
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend, selectBackend } from './lib/backend/select';
import { createModel } from './lib/models/registry';
import type { Segmentor } from './lib/models/offseg';
import { loadWeightsFile } from './lib/io/load_weights';
import { readNpy } from './lib/io/npy';
import { readNpyNhwc } from './lib/io/tensor_npy';
import { decodeImage } from './lib/data/image_io';
import { datasetMeta } from './lib/data/metainfo';
import { applyTestPipeline } from './lib/data/transforms/pipeline';
import { predictLabels } from './lib/eval/segment';
import { segmentPhoto } from './lib/eval/segment_photo';
import { segmentorNet } from './lib/eval/tensor_net';
import { photoTest } from './lib/cli/predict_setup';
import { buildDatasets, testPipeline } from './lib/train/build';
import { repoRoot } from './lib/paths';
import { saveFigure } from './lib/report/figure';
import { show } from './lib/report/display';
import { displayName } from './lib/report/names';
import { panelGridFigure, type Panel } from './lib/report/panel_grid';
import {
  classesPresent,
  colorizeLabels,
  overlayLabels,
  pixelAccuracy,
} from './lib/report/label_panels';
import { shownPath } from './lib/report/paths';
import { CellProgress } from './lib/report/progress';
import { TABLE2 } from './lib/report/paper';
import { isQuick, writeSection } from './lib/report/section';
import { toMarkdown, type Table } from './lib/report/table';
import { latestTrainedRun } from './lib/report/trained_runs';
import { trainingCurvesFigure } from './lib/report/training_curves';
import { readTrainingLog } from './lib/report/training_log';

const backend = await selectBackend();
console.log(`backend ${describeBackend(backend)}; ${isQuick() ? 'quick' : 'full'} run`);
const NAME = displayName(MODEL);

// %% [markdown]
// ## 1. Build the model — parameters **measured** beside **quoted** (K = 150, ADE20K)

// %%
const probe = createModel(MODEL, { numClasses: 150 });
const paramsM = probe.numParams() / 1e6;
probe.dispose();
const quotedParams = (TABLE2 as Record<string, { params: number }>)[MODEL]?.params;
console.log(
  `${NAME}: ${paramsM.toFixed(3)} M parameters at K = 150 (measured)${quotedParams ? `; paper: ${quotedParams} M (quoted)` : ''}`,
);

// %% [markdown]
// ## 2. Parity with the official implementation — **measured**
//
// The official parity checkpoint (random weights drawn by the authors' code, K = 150) loaded
// here must give the official logits on the fixture's 256×256 input.

// %%
const FIXTURE = PARITY_DIR ? join(PARITY_DIR, 'offseg_t') : undefined;
let parity =
  'not run here: set OFFSEG_SHARED (or OFFSEG_PARITY_DIR) to the official parity fixtures, as for npm run test:parity';
if (MODEL !== 'offseg-t') parity = `not run: the parity fixture is OffSeg-T's, MODEL is ${MODEL}`;
else if (FIXTURE && existsSync(join(FIXTURE, 'input.npy'))) {
  const official = createModel('offseg-t', { numClasses: 150 }).eval();
  loadWeightsFile(official, join(FIXTURE, 'checkpoint.pth'));
  const x = readNpyNhwc(join(FIXTURE, 'input.npy')); // [1,256,256,3]
  const ref = readNpyNhwc(join(FIXTURE, 'logits.npy')); // [1,64,64,150]
  const [maxD, meanD] = tf.tidy(() => {
    const d = tf.abs(tf.sub(official.forward(x), ref));
    return [tf.max(d).dataSync()[0], tf.mean(d).dataSync()[0]];
  });
  tf.dispose([x, ref]);
  official.dispose();
  parity = `logits vs the official ones at 256×256: max |Δ| ${maxD.toExponential(2)}, mean |Δ| ${meanD.toExponential(2)} (measured)`;
}
console.log(parity);

// %% [markdown]
// ## 3. Weights — a released checkpoint, this workspace's trained model, or random

// %%
const run = latestTrainedRun(join(repoRoot(), RUNS_DIR));
type Weights =
  | { kind: 'released'; file: string }
  | { kind: 'trained'; file: string }
  | { kind: 'random'; file?: string };
let weights: Weights;
if (CHECKPOINT) {
  if (!existsSync(CHECKPOINT)) throw new Error(`OFFSEG_CHECKPOINT=${CHECKPOINT} does not exist`);
  weights = { kind: 'released', file: CHECKPOINT };
} else if (run && run.config.model.name === MODEL)
  weights = { kind: 'trained', file: run.checkpoint };
else {
  const file = FIXTURE && MODEL === 'offseg-t' ? join(FIXTURE, 'checkpoint.pth') : undefined;
  weights = { kind: 'random', file: file && existsSync(file) ? file : undefined };
}
const numClasses = weights.kind === 'trained' ? run!.config.model.numClasses : 150;
const model: Segmentor = createModel(MODEL, { numClasses }).eval();
if (weights.file) {
  const report = loadWeightsFile(model, weights.file);
  console.log(`${shownPath(weights.file)}: ${report.loaded.length} tensors loaded`);
}
// What the weights are: a headline for the figure title and the text, and a detail line.
const [WEIGHTS_LABEL, WEIGHTS_DETAIL] = {
  released: ['released ADE20K weights', shownPath(weights.file ?? '')],
  trained: [
    'trained here on the built-in dataset (proxy)',
    `run ${run ? shownPath(run.dir) : ''}${run?.mIoU !== undefined ? `, val mIoU ${run.mIoU.toFixed(2)}` : ''}`,
  ],
  random: [
    'RANDOM weights: the prediction is noise',
    `${weights.file ? 'the official parity checkpoint' : 'a seeded initialisation'}; npm run quickstart trains a real one`,
  ],
}[weights.kind];
console.log(`weights: ${WEIGHTS_LABEL} (${WEIGHTS_DETAIL})`);

// %% [markdown]
// ## 4. Segment images — **measured** (released, random) or **proxy** (trained here)

// %%
interface Shot {
  name: string;
  rgb: Uint8Array;
  h: number;
  w: number;
  gt?: Uint8Array;
  pred: Int32Array | Uint8Array;
}
const shots: Shot[] = [];
let palette: readonly (readonly [number, number, number])[];
let classNames: readonly string[];
let ignoreIndex = 255;
const t0 = Date.now();
if (weights.kind === 'trained') {
  const { val } = await buildDatasets(run!.config, ['val']);
  [palette, classNames, ignoreIndex] = [val!.palette, val!.classes, val!.ignoreIndex];
  const progress = new CellProgress(
    'segmenting built-in val images',
    Math.min(NUM_IMAGES, val!.length),
  );
  for (let i = 0; i < Math.min(NUM_IMAGES, val!.length); i++) {
    const raw = await val!.load(i);
    const { height: h, width: w } = raw.img;
    const s = applyTestPipeline(raw, testPipeline(run!.config));
    // `offseg predict`'s bounded path: logits at the test scale, resized and argmaxed together
    const pred = await predictLabels(
      segmentorNet(model),
      { data: s.image, height: s.height, width: s.width },
      [h, w],
      { mode: 'whole' },
    );
    shots.push({ name: `val #${i}`, rgb: raw.img.data, h, w, gt: raw.label.data, pred });
    progress.step(`val #${i}`);
  }
} else {
  const ade = datasetMeta('ade20k');
  [palette, classNames] = [ade.palette, ade.classes.map((c) => c.trim())];
  let img: { rgb: Uint8Array; h: number; w: number; name: string } | undefined;
  if (IMAGE) {
    const d = await decodeImage(IMAGE);
    img = { rgb: d.data, h: d.height, w: d.width, name: IMAGE };
  } else if (FIXTURE && existsSync(join(FIXTURE, 'image_512_rgb_uint8.npy'))) {
    const a = readNpy(join(FIXTURE, 'image_512_rgb_uint8.npy'));
    img = { rgb: a.data as Uint8Array, h: a.shape[0], w: a.shape[1], name: 'parity image' };
  } else {
    const [h, w] = [256, 256]; // no image at hand: a seeded gradient, so the notebook still runs
    img = {
      rgb: new Uint8Array(h * w * 3).map((_, i) => (i * 37) % 251),
      h,
      w,
      name: 'synthetic gradient',
    };
  }
  // as `offseg predict` segments a photo: ADE20K's keep-ratio test scale, bounded memory
  const p = await segmentPhoto(
    segmentorNet(model),
    { data: img.rgb, height: img.h, width: img.w },
    photoTest('ade20k', 'whole'),
  );
  shots.push({ name: img.name, rgb: img.rgb, h: img.h, w: img.w, pred: p.labels });
}
const inferMs = (Date.now() - t0) / shots.length;
model.dispose();
console.log(
  `${shots.length} image(s), ${inferMs.toFixed(0)} ms each (measured, ${describeBackend(backend)})`,
);

// %%
// The figure: columns titled, a caption under each panel, a legend of the classes shown.
const withGt = shots.some((s) => s.gt);
const rows: Panel[][] = shots.map((s) => [
  { data: s.rgb, h: s.h, w: s.w, caption: s.name },
  ...(s.gt
    ? [{ data: colorizeLabels(s.gt, palette, ignoreIndex), h: s.h, w: s.w, caption: '' }]
    : []),
  {
    data: colorizeLabels(s.pred, palette, ignoreIndex),
    h: s.h,
    w: s.w,
    caption: s.gt ? `pixel acc. ${pixelAccuracy(s.pred, s.gt, ignoreIndex).toFixed(1)} %` : '',
  },
  { data: overlayLabels(s.rgb, s.pred, palette, ignoreIndex), h: s.h, w: s.w, caption: '' },
]);
// Legend: the classes in the panels, the most frequent first (at most 24).
const freq = new Map<number, number>();
for (const m of shots.flatMap((s) => [s.pred, ...(s.gt ? [s.gt] : [])]))
  for (const k of m) if (k !== ignoreIndex) freq.set(k, (freq.get(k) ?? 0) + 1);
const shown = classesPresent(
  shots.flatMap((s) => [s.pred, ...(s.gt ? [s.gt] : [])]),
  ignoreIndex,
)
  .sort((a, b) => freq.get(b)! - freq.get(a)!)
  .slice(0, 24);
const fig = await panelGridFigure(rows, {
  columnTitles: ['image', ...(withGt ? ['ground truth'] : []), `prediction (${NAME})`, 'overlay'],
  legend: { names: shown.map((k) => classNames[k]), colours: shown.map((k) => palette[k]) },
  title: `Quick start — ${NAME}, ${WEIGHTS_LABEL}<br><sup>${WEIGHTS_DETAIL}</sup>`,
  tile: shots[0].h <= 128 ? 160 : 256,
});
const files = await saveFigure('00_quickstart', fig);
await show(fig);
console.log(`saved ${shownPath(files.png ?? files.html)}`);

// %%
// Training curves of the run that made these weights (trained case only).
let curvesNote = '';
if (weights.kind === 'trained') {
  const curves = trainingCurvesFigure([readTrainingLog(run!.dir)]);
  const saved = await saveFigure('00_quickstart_curves', curves);
  await show(curves);
  curvesNote = `\n\n![training curves of the run](figures/00_quickstart_curves.png)`;
  console.log(`saved ${shownPath(saved.png ?? saved.html)}`);
}

// %%
// The classes covering most predicted pixels.
const counts = new Map<number, number>();
for (const s of shots) for (const k of s.pred) counts.set(k, (counts.get(k) ?? 0) + 1);
const total = shots.reduce((n, s) => n + s.pred.length, 0);
const tag = weights.kind === 'trained' ? 'proxy' : 'measured';
const top: Table = {
  title: `Quick start — most frequent predicted classes (${weights.kind} weights)`,
  columns: ['class id', 'class', `pixels % (${tag})`],
  rows: [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, n]) => [k, classNames[k], (100 * n) / total]),
  notes:
    weights.kind === 'random'
      ? ['Random weights: these classes are noise, shown only to exercise the path.']
      : [],
};
await show(top);

// %% [markdown]
// ## Report section

// %%
writeSection(
  '00-quickstart',
  `Quick start — ${NAME} end to end (notebook 00-quickstart)`,
  [
    `${NAME} built with ${paramsM.toFixed(3)} M parameters at K = 150 (measured${quotedParams ? `; paper ${quotedParams} M, quoted` : ''}).`,
    `Parity: ${parity}.`,
    `Weights: ${WEIGHTS_LABEL} (${WEIGHTS_DETAIL}). ${shots.length} image(s) segmented, ${inferMs.toFixed(0)} ms each on ${describeBackend(backend)} (measured).`,
    `![quick start: image | ${withGt ? 'ground truth | ' : ''}prediction | overlay](figures/00_quickstart.png)${curvesNote}`,
    toMarkdown(top),
  ].join('\n\n'),
);
console.log('wrote the report section 00-quickstart');
