// %% [markdown]
// # Table 2 — OffSeg-T / B / L
//
// The paper's Table 2 beside what this code measures. Every number carries its provenance:
//
// - **measured** — computed here by this code (parameters, FLOPs under two conventions, and the
//   mIoU of a released checkpoint when you provide it and the dataset);
// - **quoted** — copied from the paper (lib/report/paper.ts).
//
// Offline, the paper's mIoU cannot be re-trained; "ours" mIoU needs a released checkpoint and
// the benchmark: set `OFFSEG_ADE20K_ROOT` (or `OFFSEG_CITYSCAPES_ROOT`,
// `OFFSEG_COCO_STUFF164K_ROOT`) and `OFFSEG_CKPT_OFFSEG_T_ADE20K=/path/offseg-t.pth` (one
// variable per model and dataset) before starting Jupyter.

// %%
// Parameters — change a model list or a setting here and re-run.
const MODELS = ['offseg-t', 'offseg-b', 'offseg-l']; // registry names (the paper quotes offseg-t/b/l)
const ADE = { numClasses: 150, size: [512, 512] as const }; // ADE20K: classes, input H×W
const CITYSCAPES = { numClasses: 19, size: [1024, 2048] as const }; // Cityscapes: classes, H×W
const BENCHMARKS = ['ade20k', 'cityscapes', 'coco-stuff164k'] as const; // for "ours" mIoU

// %%
// Setup: imports and backend (any cell also works alone: the library picks one on first use).
import { describeBackend, selectBackend } from './lib/backend/select';
import { table2Complexity } from './lib/report/paper_tables';
import { TABLE2 } from './lib/report/paper';
import { releasedMiouTable } from './lib/report/released';
import { saveTable } from './lib/report/frame';
import { show } from './lib/report/display';
import { CellProgress } from './lib/report/progress';
import { isQuick, writeSection } from './lib/report/section';
import { toMarkdown } from './lib/report/table';

const backend = await selectBackend();
console.log(`backend ${describeBackend(backend)}; ${isQuick() ? 'quick' : 'full'} run`);

// %% [markdown]
// ## Parameters and GFLOPs — **measured** beside **quoted**
//
// Each model is traced once per setting (a dry run: the real forward pass on shape-only
// kernels). The FLOPs are reported under two conventions: `offseg-paper` (what the paper's
// OffSeg rows count: convolutions, norms, interpolation, no matrix products) and `fvcore`
// (mmseg / mmengine). Traces are cached in .cache/complexity/, so a re-run is quick.

// %%
const traced = new CellProgress('tracing params and FLOPs', MODELS.length * 2);
const t2 = await table2Complexity({
  models: MODELS,
  ade: ADE,
  cityscapes: CITYSCAPES,
  onMeasured: (m) => traced.step(m),
});
saveTable('table2_offseg', t2.table);
await show(t2.table);

// %% [markdown]
// ## mIoU — **quoted**, and ours (**measured**) only from a released checkpoint

// %%
const quoted = TABLE2 as Record<string, { adeMIoU: number; csMIoU: number; cocoMIoU: number }>;
const miou = await releasedMiouTable(
  'Table 2 — OffSeg mIoU (quoted) and ours from released checkpoints (measured)',
  MODELS.map((m) => ({
    model: m,
    quoted: {
      ade20k: quoted[m]?.adeMIoU,
      cityscapes: quoted[m]?.csMIoU,
      'coco-stuff164k': quoted[m]?.cocoMIoU,
    },
  })),
  BENCHMARKS,
);
saveTable('table2_offseg_miou', miou.table);
await show(miou.table);

// %% [markdown]
// ## Report section

// %%
writeSection(
  '01-table2',
  'Table 2 — OffSeg-T/B/L (notebook 01-table2-offseg)',
  [
    toMarkdown(t2.table),
    toMarkdown(miou.table),
    'Files: `tables/table2_offseg.{csv,md}`, `tables/table2_offseg_miou.{csv,md}`.',
  ].join('\n\n'),
);
console.log('wrote the report section 01-table2');
