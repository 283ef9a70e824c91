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
// Setup: backend, run mode, the two proxy models and the val split.
import { describeBackend, selectBackend } from './lib/backend/select';
import { buildDatasets } from './lib/train/build';
import {
  analyseIdealRepresentations,
  type IdealAnalysis,
} from './lib/analysis/ideal_representations';
import { saveTable } from './lib/report/frame';
import { saveFigure } from './lib/report/figure';
import { show } from './lib/report/display';
import { isQuick, writeSection } from './lib/report/section';
import { toMarkdown, type Table } from './lib/report/table';
import { IMAGENET_MEAN, IMAGENET_STD } from './lib/data/transforms/pipeline';
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
  { name: 'offseg-t-pp', label: 'per-pixel (FreqFusion + 1×1 classifier)' },
  { name: 'offseg-t', label: 'Offset Learning (OffSeg-T)' },
];
const runs: Record<string, ProxyResult | undefined> = {};
for (const m of MODELS)
  runs[m.name] = await runProxy({ model: m.name, seed: 0, quick: quick, needModel: true });
const { config } = finetuneConfig('offseg-t', 0, backbonePath(quick), quick);
const { val } = await buildDatasets(config, ['val']);
console.log(
  `${val!.length} val images; runs: ${MODELS.map((m) => `${m.name} ${runs[m.name] ? 'ready' : 'NOT RUN'}`).join(', ')}`,
);

// %% [markdown]
// ## The analysis — per image W*, reconstruction, W* rows of six classes

// %%
const CLASSES = ['sky', 'grass', 'brick wall', 'water', 'ball', 'star'];
const classIds = CLASSES.map((c) => val!.classes.indexOf(c));
const pipeline = {
  scale: [512, 128] as [number, number], // 64² val images → 128² input → 32² feature grid
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
};
const analyses: Record<string, IdealAnalysis> = {};
for (const m of MODELS) {
  const r = runs[m.name];
  if (!r) continue;
  const model = loadProxyModel(r);
  const t0 = performance.now();
  analyses[m.name] = await analyseIdealRepresentations(model, val!, {
    pipeline,
    limit: quick ? 30 : 0,
    classes: classIds,
    perClass: 10,
    minPixels: 16,
  });
  model.dispose();
  const a = analyses[m.name];
  console.log(
    `${m.name}: reconstruction mIoU ${a.reconstruction.reported.mIoU} over ${a.numImages} images (grid ${a.featureSize.join('×')}, C=${a.channels}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
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
// ## Fig. 3 — cosine similarity of W* rows across 10 images (rows: models, columns: classes)

// %%
const cols = CLASSES.length;
const data: object[] = [];
ready.forEach((m, i) => {
  analyses[m.name].similarity.forEach((s, j) => {
    const idx = i * cols + j + 1;
    data.push({
      type: 'heatmap',
      z: s.matrix,
      zmin: -1,
      zmax: 1,
      colorscale: 'RdBu',
      reversescale: true,
      showscale: idx === 1,
      xaxis: `x${idx === 1 ? '' : idx}`,
      yaxis: `y${idx === 1 ? '' : idx}`,
      hovertemplate: `${m.name} · ${s.className}<br>image %{x} vs %{y}: %{z:.2f}<extra></extra>`,
    });
  });
});
const axes: Record<string, object> = {};
for (let i = 1; i <= ready.length * cols; i++) {
  axes[`xaxis${i === 1 ? '' : i}`] = { showticklabels: false };
  axes[`yaxis${i === 1 ? '' : i}`] = { showticklabels: false, autorange: 'reversed' };
}
const fig = {
  data,
  layout: {
    title: {
      text: 'Fig. 3 (proxy) — cosine similarity of per-image ideal class representations W*',
    },
    width: 1200,
    height: 180 + 190 * Math.max(1, ready.length),
    grid: { rows: Math.max(1, ready.length), columns: cols, pattern: 'independent' },
    annotations: [
      ...CLASSES.map((c, j) => ({
        text: c,
        x: (j + 0.5) / cols,
        y: 1.04,
        xref: 'paper',
        yref: 'paper',
        showarrow: false,
      })),
      ...ready.map((m, i) => ({
        text: m.name,
        x: -0.02,
        y: 1 - (i + 0.5) / ready.length,
        xref: 'paper',
        yref: 'paper',
        showarrow: false,
        textangle: -90,
      })),
    ],
    ...axes,
  },
};
const files = await saveFigure('fig3_ideal_representations', fig);
await show(fig);
console.log(files);

// %% [markdown]
// ## Report section

// %%
writeSection(
  '07-fig3',
  'Fig. 3 — ideal class representations (notebook 07-fig3-ideal-representations)',
  [
    "All numbers are **proxy** (built-in dataset models); the paper's are quoted in the notes.",
    proxyProtocolMarkdown(quick),
    'Method: per val image, E = align-layer features (C = 256) on a 32×32 grid (64² images fed at 128²), M = one-hot ground truth resampled to that grid (ignored pixels dropped), W* = M·(Eᵀ)† in float64 (ml-matrix; computed as (M·E)·(EᵀE)† with a Cholesky solve and a 1e-9 relative ridge, checked against the SVD pseudo-inverse in the unit tests), reconstruction = argmax of W*·Eᵀ scored with the IoU metric over the split.',
    toMarkdown(table),
    'Files: `results/tables/fig3_ideal_representations.{csv,md}`, `results/figures/fig3_ideal_representations.{html,png}`.',
  ].join('\n\n'),
);
console.log('wrote results/report/07-fig3.md');
