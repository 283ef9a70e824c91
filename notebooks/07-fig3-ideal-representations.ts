// %% [markdown]
// # Fig. 3 — ideal class representations (§3.2): W* = M·(Eᵀ)†
//
// For one image with decoder features E (N pixels × C channels) and one-hot ground truth M
// (K × N), the class representations that reproduce M best are W* = M·(Eᵀ)†. The paper shows
// (i) that W*·Eᵀ re-predicts each image almost perfectly (≈95 % mIoU on ADE20K: the features
// already separate the classes of each image), yet (ii) the W* rows of one class differ from
// image to image (low cosine similarity in Fig. 3): no single fixed classifier is ideal for every
// image — the motivation for Offset Learning.
//
// Here (all **proxy**: models trained on the built-in dataset, configs/proxy/README.md):
// - models: the per-pixel proxy model (`offseg-t-pp`, Table 6 row 2) and the Offset Learning
//   proxy model (`offseg-t`), seed 0 — the runs of notebook 04 (cached, not retrained);
// - E: the decoder output before the classifier (the `align` layer, C = 256) — for the OL model
//   that is OL's input E, i.e. before the feature offset (the paper does not say which layer; we
//   compare both models at the same layer);
// - images of the val split (64×64) are fed at 128×128 (the test pipeline's 2× resize, within
//   the training augmentation's range) so the feature grid is 32×32 = 1024 pixels ≫ C = 256
//   (with N ≤ C the solve would be trivially exact); the ground truth is resampled to that grid
//   by nearest neighbour; ignored pixels are left out; float64 least squares (ml-matrix).
// - similarity: cosine similarity of the W* rows of 6 classes across the first 10 val images
//   that contain each class (≥ 16 pixels on the grid), the same images for both models.

// %%
// Parameters — models (registry name → the name the figure gives it), seed, classes and images.
const MODELS = [
  { name: 'offseg-t-pp', label: 'per-pixel' },
  { name: 'offseg-t', label: 'Offset Learning' },
];
const SEED = 0; // the proxy run of each model to analyse (trained by notebook 04)
const CLASSES = ['sky', 'grass', 'brick wall', 'water', 'ball', 'star']; // built-in class names
const PER_CLASS = 10; // images compared per class
const MIN_PIXELS = 16; // a class counts in an image with at least this many grid pixels
const INPUT_SIZE = 128; // 64² val images are fed at this size (feature grid = INPUT_SIZE / 4)

// %%
// Setup: imports, backend, run mode, the proxy models and the val split.
import { join } from 'node:path';
import { describeBackend, selectBackend } from './lib/backend/select';
import { buildDatasets } from './lib/train/build';
import {
  analyseIdealRepresentations,
  type IdealAnalysis,
} from './lib/analysis/ideal_representations';
import { saveTable } from './lib/report/frame';
import { saveFigure } from './lib/report/figure';
import { show } from './lib/report/display';
import { shownPath } from './lib/report/paths';
import { CellProgress } from './lib/report/progress';
import { fig3Figure } from './lib/report/proxy_figures';
import { whileWatching } from './lib/report/run_watch';
import { repoRoot } from './lib/paths';
import { isQuick, writeSection } from './lib/report/section';
import { toMarkdown, type Table } from './lib/report/table';
import { IMAGENET_MEAN, IMAGENET_STD } from './lib/data/transforms/pipeline';
import {
  backbonePath,
  finetuneConfig,
  loadProxyModel,
  ProxyGateError,
  runProxy,
  type ProxyResult,
} from './lib/train/proxy';
import { proxyProtocolMarkdown } from './lib/report/proxy_protocol';

const backend = await selectBackend();
const quick = isQuick();
console.log(`backend ${describeBackend(backend)}; ${quick ? 'quick' : 'full'} run`);

await show({ markdown: proxyProtocolMarkdown(quick) });
const runs: Record<string, ProxyResult | undefined> = {};
await whileWatching(join(repoRoot(), 'work_dirs', 'proxy'), async () => {
  try {
    for (const m of MODELS)
      runs[m.name] = await runProxy({ model: m.name, seed: SEED, quick: quick, needModel: true });
  } catch (e) {
    if (!(e instanceof ProxyGateError)) throw e;
    console.log(`not run: the proxy pretraining missed its gate. ${e.message}`);
  }
});
const { config } = finetuneConfig('offseg-t', 0, backbonePath(quick), quick);
const { val } = await buildDatasets(config, ['val']);
console.log(
  `${val!.length} val images; runs: ${MODELS.map((m) => `${m.name} ${runs[m.name] ? 'ready' : 'NOT RUN'}`).join(', ')}`,
);

// %% [markdown]
// ## The analysis — per image W*, reconstruction, W* rows of six classes

// %%
const classIds = CLASSES.map((c) => val!.classes.indexOf(c));
const pipeline = {
  scale: [512, INPUT_SIZE] as [number, number], // 64² val images → INPUT_SIZE² input
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
};
const analyses: Record<string, IdealAnalysis> = {};
const analysed = new CellProgress(
  'solving W* per image',
  MODELS.filter((m) => runs[m.name]).length,
);
for (const m of MODELS) {
  const r = runs[m.name];
  if (!r) continue;
  const model = loadProxyModel(r);
  const t0 = performance.now();
  analyses[m.name] = await analyseIdealRepresentations(model, val!, {
    pipeline,
    limit: quick ? 30 : 0,
    classes: classIds,
    perClass: PER_CLASS,
    minPixels: MIN_PIXELS,
  });
  model.dispose();
  const a = analyses[m.name];
  console.log(
    `${m.name}: reconstruction mIoU ${a.reconstruction.reported.mIoU} over ${a.numImages} images (grid ${a.featureSize.join('×')}, C=${a.channels}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  analysed.step(m.label);
}

// %% [markdown]
// ## Reconstruction mIoU and cross-image similarity — **proxy**

// %%
const ready = MODELS.filter((m) => analyses[m.name]);
const table: Table = {
  title: `Fig. 3 analysis — reconstruction by W* = M·(Eᵀ)† and cross-image similarity of W* rows (built-in dataset${quick ? ', quick mode' : ''})`,
  columns: [
    'model',
    'classifier',
    'model mIoU (proxy)',
    'W* reconstruction mIoU (proxy)',
    'W* reconstruction aAcc (proxy)',
    ...CLASSES.map((c) => `${c}: mean cos W* (proxy)`),
  ],
  rows: ready.map((m) => {
    const a = analyses[m.name];
    return [
      m.name,
      m.label,
      runs[m.name]!.mIoU,
      a.reconstruction.reported.mIoU,
      a.reconstruction.reported.aAcc,
      ...a.similarity.map((s) =>
        Number.isFinite(s.meanOffDiagonal) ? Math.round(s.meanOffDiagonal * 1000) / 1000 : null,
      ),
    ];
  }),
  notes: [
    'Paper (quoted, ADE20K, a SegFormer-like 4.3 M model): W* reconstruction ≈ 95 % mIoU; cross-image cosine similarity of W* rows is low (Fig. 3).',
    '"model mIoU" is the trained model\'s own val mIoU (its classifier); "mean cos" is the mean off-diagonal cosine similarity of the 10 images\' W* rows of that class.',
    ready.length
      ? `Images per class: ${analyses[ready[0].name].similarity.map((s) => `${s.className} ${s.images.length}`).join(', ')}.`
      : 'Not run: no cached proxy models (OFFSEG_SKIP_TRAIN=1).',
  ],
};
saveTable('fig3_ideal_representations', table);
await show(table);

// %% [markdown]
// ## Fig. 3 — cosine similarity of W* rows across images (rows: models, columns: classes)

// %%
const fig = fig3Figure(
  ready.map((m) => ({ label: m.label, similarity: analyses[m.name].similarity })),
  !ready.length
    ? 'the proxy models are not trained yet'
    : quick
      ? 'quick mode: tiny schedules, numbers not meaningful'
      : `seed-${SEED} proxy models; image i vs image j of the first ${PER_CLASS} val images holding the class`,
);
if (!ready.length) console.log('Fig. 3 not drawn: no proxy model (not trained yet)');
const files = await saveFigure('fig3_ideal_representations', fig);
await show(fig);
console.log(`saved ${shownPath(files.png ?? files.html)}`);

// %% [markdown]
// ## Report section

// %%
writeSection(
  '07-fig3',
  'Fig. 3 — ideal class representations (notebook 07-fig3-ideal-representations)',
  [
    "All numbers are **proxy** (built-in dataset models, under the proxy protocol stated at the top of this report); the paper's are quoted in the notes.",
    `Method: per val image, E = align-layer features (C = 256) on a ${INPUT_SIZE / 4}×${INPUT_SIZE / 4} grid (64² images fed at ${INPUT_SIZE}²), M = one-hot ground truth resampled to that grid (ignored pixels dropped), W* = M·(Eᵀ)† in float64 (ml-matrix; computed as (M·E)·(EᵀE)† with a Cholesky solve and a 1e-9 relative ridge, checked against the SVD pseudo-inverse in the unit tests), reconstruction = argmax of W*·Eᵀ scored with the IoU metric over the split.`,
    toMarkdown(table),
    '![Fig. 3: cosine similarity of W* rows across images, per model and class](figures/fig3_ideal_representations.png)',
    'Files: `tables/fig3_ideal_representations.{csv,md}`, `figures/fig3_ideal_representations.{html,png}`.',
  ].join('\n\n'),
);
console.log('wrote the report section 07-fig3');
