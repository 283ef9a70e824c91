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
// Parameters — the models to compare (registry name → column title), the seed and the images.
const MODELS = [
  { name: 'offseg-t-pp', label: 'per-pixel' },
  { name: 'offseg-t', label: 'Offset Learning' },
];
const SEED = 0; // the proxy run of each model (trained by notebook 04)
const NUM_IMAGES = 6; // the first val images, unpicked

// %%
// Setup: imports, backend, run mode, models and the val split.
import { join } from 'node:path';
import { describeBackend, selectBackend } from './lib/backend/select';
import { buildDatasets, testPipeline } from './lib/train/build';
import { applyTestPipeline } from './lib/data/transforms/pipeline';
import { predictLabels } from './lib/eval/segment';
import { segmentorNet } from './lib/eval/tensor_net';
import { saveFigure } from './lib/report/figure';
import { panelGridFigure, type Panel } from './lib/report/panel_grid';
import { show } from './lib/report/display';
import { colorizeLabels, pixelAccuracy } from './lib/report/label_panels';
import { shownPath } from './lib/report/paths';
import { CellProgress } from './lib/report/progress';
import { whileWatching } from './lib/report/run_watch';
import { repoRoot } from './lib/paths';
import { isQuick, writeSection } from './lib/report/section';
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

// %% [markdown]
// ## Predictions

// %%
const palette = val!.palette;
const rows: Panel[][] = [];
const ready = MODELS.filter((m) => runs[m.name]);
const models = ready.map((m) => {
  const model = loadProxyModel(runs[m.name]!);
  return { ...m, model, net: segmentorNet(model) };
});
const count = Math.min(NUM_IMAGES, val!.length);
const predicted = new CellProgress('predicting val images', count);
for (let i = 0; i < count; i++) {
  const raw = await val!.load(i);
  const { height: h, width: w } = raw.img;
  const s = applyTestPipeline(raw, testPipeline(config));
  const row: Panel[] = [
    { data: raw.img.data, h, w, caption: `val #${i}` },
    {
      data: colorizeLabels(raw.label.data, palette, val!.ignoreIndex),
      h,
      w,
      caption: 'black: ignored',
    },
  ];
  for (const m of models) {
    // `offseg predict`'s bounded path: logits at the test scale, resized and argmaxed together
    const pred = await predictLabels(
      m.net,
      { data: s.image, height: s.height, width: s.width },
      [h, w],
      { mode: 'whole' },
    );
    row.push({
      data: colorizeLabels(pred, palette, val!.ignoreIndex),
      h,
      w,
      caption: `pixel acc. ${pixelAccuracy(pred, raw.label.data, val!.ignoreIndex).toFixed(1)} %`,
    });
  }
  rows.push(row);
  predicted.step(`val #${i}`);
}
for (const m of models) m.model.dispose();

// %% [markdown]
// ## Fig. 5 (proxy) — image | ground truth | per-pixel | Offset Learning

// %%
// One figure: column titles, a caption under each panel, the class legend (results/figures).
const fig = await panelGridFigure(rows, {
  columnTitles: ['image', 'ground truth', ...models.map((m) => m.label)],
  legend: { names: val!.classes, colours: palette },
  title: `Fig. 5 (proxy) — ${MODELS.map((m) => m.label).join(' vs ')}<br><sup>${ready.length ? `seed-${SEED} models` : 'not trained yet: image and ground truth only'}; the first ${rows.length} built-in val images${quick ? ', quick mode' : ''}</sup>`,
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
console.log(`saved ${shownPath(files.png ?? files.html)}`);

// %% [markdown]
// ## Report section

// %%
writeSection(
  '08-fig5',
  'Fig. 5 — per-pixel vs Offset Learning predictions (notebook 08-fig5-qualitative)',
  [
    `Qualitative, **proxy** models (built-in dataset, the proxy protocol stated at the top of this report). Columns: image | ground truth | ${MODELS.map((m) => `${m.label} (\`${m.name}\`)`).join(' | ')}; the first val images, unpicked; per-image pixel accuracy under each panel; class legend below the grid.`,
    ready.length ? '' : 'Predictions not run: no trained proxy models yet.',
    '![Fig. 5 (proxy): image | ground truth | one column per model, with class legend](figures/fig5_qualitative.png)',
    rows
      .map(
        (r) =>
          `- ${r[0].caption}: ${r
            .slice(2)
            .map((p, k) => `${models[k].label} ${p.caption}`)
            .join(' · ')}`,
      )
      .join('\n'),
    'Files: `figures/fig5_qualitative.{png,html}`.',
  ].join('\n\n'),
);
console.log('wrote the report section 08-fig5');
