// %% [markdown]
// # Table 3 — SegNeXt ± Offset Learning
//
// SegNeXt-T/S/B (MSCAN backbone + LightHamHead) with and without the Offset Learning head
// (offseg.md §7.3), ADE20K 512×512.
//
// Every number carries its provenance: **measured** = computed here by this code (parameters,
// FLOPs under two conventions, and the mIoU of a released checkpoint when you provide it and
// the dataset); **quoted** = copied from the paper (lib/report/paper.ts).
//
// "Ours" mIoU needs a released checkpoint and ADE20K: set `OFFSEG_ADE20K_ROOT` and one
// `OFFSEG_CKPT_<MODEL>_ADE20K` per model (e.g. `OFFSEG_CKPT_SEGNEXT_T_OL_ADE20K`) before
// starting Jupyter; they are evaluated with whole-image inference, as mmseg's ADE20K configs of
// these models do.

// %%
// Setup (measured environment): backend and run mode.
import { describeBackend, selectBackend } from './lib/backend/select';
import { table3Complexity, olCostTable } from './lib/report/paper_tables';
import { TABLE3 } from './lib/report/paper';
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
// Each model is traced once at 512×512 with K = 150 (a dry run: the real forward pass on
// shape-only kernels). The paper's numbers for these retrofits follow the `fvcore` (mmseg)
// convention; the `offseg-paper` convention of Table 2 is shown beside it.

// %%
// measured (params, GFLOPs) beside quoted (paper) — saved to results/tables/table3_segnext.*
const cx = await table3Complexity();
saveTable('table3_segnext', cx.table);
await show(cx.table);

// %% [markdown]
// ## What Offset Learning costs — **measured** (and **quoted**) differences

// %%
// measured Δ (with OL − without) beside the paper's Δ (quoted)
const delta = olCostTable(
  'Table 3 — SegNeXt ± OL — cost of Offset Learning (+OL − baseline)',
  TABLE3,
  cx.measured,
);
saveTable('table3_segnext_ol_cost', delta);
await show(delta);

// %% [markdown]
// ## mIoU — **quoted**, and ours (**measured**) only from a released checkpoint

// %%
// quoted (paper) and measured (released checkpoint + ADE20K, when given) mIoU
const miou = await releasedMiouTable(
  'Table 3 — SegNeXt ± OL — mIoU (quoted) and ours from released checkpoints (measured)',
  Object.entries(TABLE3).map(([m, p]) => ({ model: m, quoted: { ade20k: p.adeMIoU } })),
  ['ade20k'],
);
saveTable('table3_segnext_miou', miou.table);
await show(miou.table);

// %% [markdown]
// ## Report section

// %%
// measured + quoted (the numbers above, no new ones): writes results/report/02-table3.md for REPORT.md
writeSection(
  '02-table3',
  'Table 3 — SegNeXt ± OL (notebook 02-table3-segnext)',
  [
    toMarkdown(cx.table),
    toMarkdown(delta),
    toMarkdown(miou.table),
    'Files: `results/tables/table3_segnext{,_ol_cost,_miou}.{csv,md}`.',
  ].join('\n\n'),
);
console.log('wrote results/report/02-table3.md');
