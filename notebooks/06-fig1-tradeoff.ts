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
// Setup (measured environment): backend and run mode.
import { describeBackend, selectBackend } from './lib/backend/select';
import { table2Complexity, table3Complexity, table4Complexity } from './lib/report/paper_tables';
import { TABLE2, TABLE3, TABLE4 } from './lib/report/paper';
import { saveFigure, type Figure } from './lib/report/figure';
import { saveTable } from './lib/report/frame';
import { show } from './lib/report/display';
import { isQuick, writeSection } from './lib/report/section';
import { toMarkdown, type Table } from './lib/report/table';

const backend = await selectBackend();
console.log(`backend ${describeBackend(backend)}; ${isQuick() ? 'quick' : 'full'} run`);

// %% [markdown]
// ## The points — GFLOPs **measured**, mIoU **quoted**

// %%
// measured GFLOPs (both conventions) of every Table 2 model, and of the Table 3/4 retrofits
const t2 = await table2Complexity({ cityscapes: false });
const t3 = await table3Complexity();
const t4 = await table4Complexity();
type Row = { model: string; family: string; mIoU: number; quotedG: number };
const offsegRows: Row[] = Object.entries(TABLE2).map(([m, p]) => ({
  model: m,
  family: 'OffSeg',
  mIoU: p.adeMIoU,
  quotedG: p.adeFlops,
}));
const retrofitRows: Row[] = [
  ...Object.entries(TABLE3).map(([m, p]) => ({
    model: m,
    family: m.endsWith('-ol') ? 'SegNeXt + OL' : 'SegNeXt',
    mIoU: p.adeMIoU,
    quotedG: p.adeFlops,
  })),
  ...Object.entries(TABLE4).map(([m, p]) => ({
    model: m,
    family: m.endsWith('-ol') ? 'SegFormer + OL' : 'SegFormer',
    mIoU: p.adeMIoU,
    quotedG: p.adeFlops,
  })),
];
const measuredOf = (m: string) => t2.measured[m] ?? t3.measured[m] ?? t4.measured[m];
const points: Table = {
  title: 'Figure 1 — ADE20K mIoU (quoted) against GFLOPs at 512² (measured and quoted)',
  columns: [
    'model',
    'family',
    'ADE mIoU (quoted)',
    'GFLOPs (quoted)',
    'GFLOPs offseg-paper (measured)',
    'GFLOPs fvcore (measured)',
  ],
  rows: [...offsegRows, ...retrofitRows].map((r) => [
    r.model,
    r.family,
    r.mIoU,
    r.quotedG,
    measuredOf(r.model).paper,
    measuredOf(r.model).fvcore,
  ]),
  notes: [
    "OffSeg's quoted GFLOPs follow the offseg-paper convention, the retrofits' the fvcore one (offseg.md §2.5).",
  ],
};
saveTable('fig1_tradeoff', points);
await show(points);

// %% [markdown]
// ## The figure — x **measured** (two conventions) or **quoted**, y **quoted**

// %%
// measured x (GFLOPs), quoted y (mIoU): Plotly figure → results/figures/fig1_tradeoff.{html,png}
const label = (r: Row) => `OffSeg-${r.model.slice('offseg-'.length).toUpperCase()}`;
const offsegTrace = (conv: 'paper' | 'fvcore', name: string, dash: string, color: string) => ({
  type: 'scatter',
  mode: conv === 'paper' ? 'lines+markers+text' : 'lines+markers',
  name,
  x: offsegRows.map((r) => measuredOf(r.model)[conv]),
  y: offsegRows.map((r) => r.mIoU),
  text: offsegRows.map(label),
  textposition: 'top center',
  line: { color, dash, width: 3 },
  marker: { size: 11, color },
});
const family = (f: string, color: string, symbol: string) => {
  const rs = retrofitRows.filter((r) => r.family === f);
  return {
    type: 'scatter',
    mode: 'lines+markers',
    name: `${f} (fvcore, measured)`,
    x: rs.map((r) => measuredOf(r.model).fvcore),
    y: rs.map((r) => r.mIoU),
    text: rs.map((r) => r.model),
    line: { color, width: 1.5, dash: f.endsWith('OL') ? 'solid' : 'dot' },
    marker: { size: 8, color, symbol },
  };
};
const fig: Figure = {
  data: [
    offsegTrace('paper', 'OffSeg, offseg-paper GFLOPs (measured)', 'solid', '#d62728'),
    offsegTrace('fvcore', 'OffSeg, fvcore GFLOPs (measured)', 'dash', '#ff7f0e'),
    {
      type: 'scatter',
      mode: 'markers',
      name: 'OffSeg, GFLOPs as printed (quoted)',
      x: offsegRows.map((r) => r.quotedG),
      y: offsegRows.map((r) => r.mIoU),
      marker: { size: 16, color: 'rgba(0,0,0,0)', line: { color: '#333', width: 1.5 } },
    },
    family('SegFormer', '#1f77b4', 'square'),
    family('SegFormer + OL', '#1f77b4', 'square-open'),
    family('SegNeXt', '#2ca02c', 'diamond'),
    family('SegNeXt + OL', '#2ca02c', 'diamond-open'),
  ],
  layout: {
    title: { text: 'Figure 1 — ADE20K mIoU (quoted) vs GFLOPs at 512² (measured)' },
    xaxis: {
      title: { text: 'GFLOPs (512×512), log scale' },
      type: 'log',
      tickvals: [5, 7, 10, 15, 20, 30, 50, 75],
      range: [Math.log10(4.2), Math.log10(90)],
    },
    yaxis: { title: { text: 'ADE20K mIoU (%) — quoted from the paper' } },
    legend: { x: 1.02, y: 1 },
    width: 1000,
    height: 600,
  },
};
const saved = await saveFigure('fig1_tradeoff', fig);
console.log(saved);
await show(fig);

// %% [markdown]
// ## Report section

// %%
// measured + quoted (the numbers above, no new ones): writes results/report/06-fig1.md for REPORT.md
writeSection(
  '06-fig1',
  'Figure 1 — mIoU against GFLOPs (notebook 06-fig1-tradeoff)',
  [
    '![Figure 1](figures/fig1_tradeoff.png)',
    'Interactive: `results/figures/fig1_tradeoff.html` (opens offline).',
    toMarkdown(points),
  ].join('\n\n'),
);
console.log('wrote results/report/06-fig1.md');
