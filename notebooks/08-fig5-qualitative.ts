// %% [markdown]
// # Fig. 5 — per-pixel classification vs Offset Learning, side by side
//
// The paper's Fig. 5 shows ADE20K images where Offset Learning fixes per-pixel mistakes. Here
// (**proxy**): the seed-0 proxy models of notebook 04 — the per-pixel FreqFusion variant
// (`offseg-t-pp`, Table 6 row 2) and OffSeg-T (`offseg-t`) — on the same built-in val images.
// Columns: image | ground truth | per-pixel | Offset Learning, coloured with the built-in
// palette (ignored pixels black) with a class legend. The images are the first ones of the val
// split (no picking), and each prediction panel is captioned with its pixel accuracy on that image.

// %%
// Setup: backend, run mode, models and the val split.
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, selectBackend } from './lib/backend/select';
import { buildDatasets, testPipeline } from './lib/train/build';
import { applyTestPipeline } from './lib/data/transforms/pipeline';
import { argmaxLabels, predictLogits } from './lib/eval/inference';
import { saveFigure } from './lib/report/figure';
import { panelGridFigure, type Panel } from './lib/report/panel_grid';
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
    { data: raw.img.data, h, w, caption: `val #${i}` },
    { data: colorize(raw.label.data, h, w), h, w, caption: 'black: ignored' },
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
      caption: `pixel acc. ${pixelAcc(pred, raw.label.data).toFixed(1)} %`,
    });
  }
  rows.push(row);
}
for (const m of models) m.model.dispose();

// %% [markdown]
// ## Fig. 5 (proxy) — image | ground truth | per-pixel | Offset Learning

// %%
// One figure: column titles, a caption under each panel, the class legend (results/figures).
const fig = await panelGridFigure(rows, {
  columnTitles: ['image', 'ground truth', ...models.map((m) => m.label)],
  legend: { names: val!.classes, colours: palette },
  title: `Fig. 5 (proxy) — per-pixel classification vs Offset Learning, seed-0 models, first ${rows.length} val images (built-in dataset${quick ? ', quick mode' : ''})`,
});
const files = await saveFigure('fig5_qualitative', fig);
await show(fig);
console.log(
  rows
    .map((r) =>
      r
        .slice(2)
        .map((p) => p.caption)
        .join(' | '),
    )
    .join('\n'),
);
console.log(files);

// %% [markdown]
// ## Report section

// %%
writeSection(
  '08-fig5',
  'Fig. 5 — per-pixel vs Offset Learning predictions (notebook 08-fig5-qualitative)',
  [
    'Qualitative, **proxy** models (built-in dataset). Columns: image | ground truth | per-pixel (`offseg-t-pp`) | Offset Learning (`offseg-t`); the first val images, unpicked; per-image pixel accuracy under each panel; class legend below the grid.',
    proxyProtocolMarkdown(quick),
    ready.length
      ? '![Fig. 5 proxy](../figures/fig5_qualitative.png)'
      : 'Not run: no cached proxy models (OFFSEG_SKIP_TRAIN=1).',
    rows
      .map(
        (r) =>
          `- ${r[0].caption}: ${r
            .slice(2)
            .map((p, k) => `${models[k].label} ${p.caption}`)
            .join(' · ')}`,
      )
      .join('\n'),
    'Files: `results/figures/fig5_qualitative.{png,html}`.',
  ].join('\n\n'),
);
console.log('wrote results/report/08-fig5.md');
