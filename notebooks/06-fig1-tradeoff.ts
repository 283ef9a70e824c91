// %% [markdown]
// # Figure 1 — accuracy against computation
//
// The paper's Figure 1 plots ADE20K mIoU against GFLOPs. Here the mIoU is **quoted** (the
// paper's, lib/report/paper.ts) and the GFLOPs are **measured** by this code at 512×512,
// K = 150, under both conventions: `offseg-paper` (what the paper's OffSeg rows count: no matrix
// products, no BatchNorm) and `fvcore` (mmseg / mmengine). The paper's own GFLOPs are drawn as
// hollow markers (**quoted**). SegFormer and SegNeXt with and without Offset Learning
// (Tables 3 and 4) are drawn for context, under the fvcore convention their quoted FLOPs follow.

// %%
// Parameters — which models are points (registry names; each needs a quoted mIoU in the paper).
const OFFSEG = ['offseg-t', 'offseg-b', 'offseg-l'];
const SEGNEXT = ['segnext-t', 'segnext-s', 'segnext-b']; // each also with "-ol"
const SEGFORMER = [
  'segformer-b0',
  'segformer-b1',
  'segformer-b2',
  'segformer-b3',
  'segformer-b4',
  'segformer-b5',
];

// %%
// Setup: imports and backend (any cell also works alone: the library picks one on first use).
import { describeBackend, selectBackend } from './lib/backend/select';
import { measureComplexity } from './lib/report/paper_tables';
import { TABLE2, TABLE3, TABLE4 } from './lib/report/paper';
import { saveFigure } from './lib/report/figure';
import { saveTable } from './lib/report/frame';
import { show } from './lib/report/display';
import { shownPath } from './lib/report/paths';
import { CellProgress } from './lib/report/progress';
import { isQuick, writeSection } from './lib/report/section';
import { toMarkdown, type Table } from './lib/report/table';
import { tradeoffFigure, type TradeoffPoint } from './lib/report/tradeoff_figure';

const backend = await selectBackend();
console.log(`backend ${describeBackend(backend)}; ${isQuick() ? 'quick' : 'full'} run`);

// %% [markdown]
// ## The points — GFLOPs **measured**, mIoU **quoted**

// %%
// Measured GFLOPs (both conventions; cached in .cache/complexity/ by notebooks 01–03).
type Quoted = { adeMIoU: number; adeFlops: number };
const quoted: Record<string, Quoted> = { ...TABLE2, ...TABLE3, ...TABLE4 };
const family = (m: string) =>
  m.startsWith('offseg')
    ? 'OffSeg'
    : `${m.startsWith('segnext') ? 'SegNeXt' : 'SegFormer'}${m.endsWith('-ol') ? ' + OL' : ''}`;
const names = [...OFFSEG, ...[...SEGNEXT, ...SEGFORMER].flatMap((m) => [m, `${m}-ol`])];
const missing = names.filter((m) => !quoted[m]);
if (missing.length) throw new Error(`no quoted mIoU in the paper for ${missing.join(', ')}`);
const traced = new CellProgress('tracing params and FLOPs', names.length);
const points: TradeoffPoint[] = [];
for (const m of names) {
  const c = await measureComplexity(m);
  traced.step(m);
  points.push({
    model: m,
    family: family(m),
    mIoU: quoted[m].adeMIoU,
    quotedGflops: quoted[m].adeFlops,
    paper: c.paper,
    fvcore: c.fvcore,
  });
}
const table: Table = {
  title: 'Figure 1 — ADE20K mIoU (quoted) against GFLOPs at 512² (measured and quoted)',
  columns: [
    'model',
    'family',
    'ADE mIoU (quoted)',
    'GFLOPs (quoted)',
    'GFLOPs offseg-paper (measured)',
    'GFLOPs fvcore (measured)',
  ],
  rows: points.map((p) => [p.model, p.family, p.mIoU, p.quotedGflops, p.paper, p.fvcore]),
  notes: [
    "OffSeg's quoted GFLOPs follow the offseg-paper convention, the retrofits' the fvcore one.",
  ],
};
saveTable('fig1_tradeoff', table);
await show(table);

// %% [markdown]
// ## The figure — x **measured** (two conventions) or **quoted**, y **quoted**; every point labelled

// %%
const fig = tradeoffFigure(points);
const saved = await saveFigure('fig1_tradeoff', fig);
await show(fig);
console.log(`saved ${shownPath(saved.png ?? saved.html)} (interactive: ${shownPath(saved.html)})`);

// %% [markdown]
// ## Report section

// %%
writeSection(
  '06-fig1',
  'Figure 1 — mIoU against GFLOPs (notebook 06-fig1-tradeoff)',
  [
    '![Figure 1: ADE20K mIoU (quoted) against GFLOPs (measured), every model labelled](figures/fig1_tradeoff.png)',
    'Interactive: `figures/fig1_tradeoff.html` (opens offline).',
    toMarkdown(table),
  ].join('\n\n'),
);
console.log('wrote the report section 06-fig1');
