// %% [markdown]
// # Table 2 — OffSeg-T / B / L
//
// The paper's Table 2 beside what this code measures. Every number carries its provenance:
//
// - **measured** — computed here by this code (parameters, FLOPs under two conventions, and the
//   mIoU of a released checkpoint when you provide it and the dataset);
// - **quoted** — copied from the paper (lib/report/paper.ts);
// - **proxy** — trained here on the built-in dataset (not used in this notebook).
//
// Offline, the paper's mIoU cannot be re-trained; "ours" mIoU needs a released checkpoint and
// the benchmark: set `OFFSEG_ADE20K_ROOT` (or `OFFSEG_CITYSCAPES_ROOT`,
// `OFFSEG_COCO_STUFF164K_ROOT`) and `OFFSEG_CKPT_OFFSEG_T_ADE20K=/path/offseg-t.pth` (one
// variable per model and dataset) before starting Jupyter.

// %%
// Setup (measured environment): backend and run mode.
import { describeBackend, selectBackend } from './lib/backend/select';
import { table2Complexity } from './lib/report/paper_tables';
import { TABLE2 } from './lib/report/paper';
import { releasedMiouTable } from './lib/report/released';
import { saveTable } from './lib/report/frame';
import { show } from './lib/report/display';
import { isQuick, writeSection } from './lib/report/section';
import { toMarkdown } from './lib/report/table';

const backend = await selectBackend();
console.log(`backend ${describeBackend(backend)}; ${isQuick() ? 'quick' : 'full'} run`);

// %% [markdown]
// ## Parameters and GFLOPs — **measured** beside **quoted**
//
// Each model is traced once (a dry run: the real forward pass on shape-only kernels) at the
// paper's input sizes, ADE20K 512×512 with K = 150 and Cityscapes 1024×2048 with K = 19. The
// FLOPs are reported under two conventions: `offseg-paper` (what the paper's OffSeg rows count:
// convolutions, norms, interpolation, no matrix products) and `fvcore` (mmseg / mmengine).

// %%
// measured (params, GFLOPs) beside quoted (paper) — saved to results/tables/table2_offseg.*
const t2 = await table2Complexity();
saveTable('table2_offseg', t2.table);
await show(t2.table);

// %% [markdown]
// ## mIoU — **quoted**, and ours (**measured**) only from a released checkpoint

// %%
// quoted (paper) and measured (released checkpoint + dataset, when given) mIoU
const miou = await releasedMiouTable(
  'Table 2 — OffSeg mIoU (quoted) and ours from released checkpoints (measured)',
  (Object.keys(TABLE2) as (keyof typeof TABLE2)[]).map((m) => ({
    model: m,
    quoted: {
      ade20k: TABLE2[m].adeMIoU,
      cityscapes: TABLE2[m].csMIoU,
      'coco-stuff164k': TABLE2[m].cocoMIoU,
    },
  })),
  ['ade20k', 'cityscapes', 'coco-stuff164k'],
);
saveTable('table2_offseg_miou', miou.table);
await show(miou.table);

// %% [markdown]
// ## Report section

// %%
// measured + quoted (the numbers above, no new ones): writes results/report/01-table2.md for REPORT.md
writeSection(
  '01-table2',
  'Table 2 — OffSeg-T/B/L (notebook 01-table2-offseg)',
  [
    toMarkdown(t2.table),
    toMarkdown(miou.table),
    'Files: `results/tables/table2_offseg.{csv,md}`, `results/tables/table2_offseg_miou.{csv,md}`.',
  ].join('\n\n'),
);
console.log('wrote results/report/01-table2.md');
