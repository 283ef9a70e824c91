/**
 * Fig. 1: ADE20K mIoU (quoted) against GFLOPs at 512² (measured here under both counting
 * conventions, and as the paper prints them), every model point labelled with its size.
 */
import type { Figure } from './figure.ts';
import { displayName } from './names.ts';

export interface TradeoffPoint {
  /** Registry name, e.g. offseg-t or segformer-b0-ol. */
  model: string;
  /** 'OffSeg', 'SegFormer', 'SegFormer + OL', 'SegNeXt', 'SegNeXt + OL'. */
  family: string;
  /** ADE20K mIoU, quoted. */
  mIoU: number;
  /** GFLOPs as the paper prints them. */
  quotedGflops: number;
  /** GFLOPs measured here, per convention. */
  paper: number;
  fvcore: number;
}

/** The size part of a display name: OffSeg-T → "T", SegFormer-B0 + OL → "B0+OL". */
function sizeLabel(model: string): string {
  return displayName(model)
    .replace(/^[A-Za-z]+-/, '')
    .replace(' + OL', '+OL');
}

/** Family, colour, marker and where its labels go (chosen so the crowded 15–17 GFLOPs spot reads). */
const RETROFITS: readonly [string, string, string, string][] = [
  ['SegFormer', '#1f77b4', 'square', 'bottom center'],
  ['SegFormer + OL', '#1f77b4', 'square-open', 'middle right'],
  ['SegNeXt', '#2ca02c', 'diamond', 'middle left'],
  ['SegNeXt + OL', '#2ca02c', 'diamond-open', 'middle right'],
];

/** The figure; OffSeg points come from family 'OffSeg', the others are drawn for context. */
export function tradeoffFigure(points: readonly TradeoffPoint[]): Figure {
  const off = points.filter((p) => p.family === 'OffSeg');
  const offsegTrace = (conv: 'paper' | 'fvcore', color: string, dash: string) => ({
    type: 'scatter',
    mode: 'lines+markers+text',
    name: `OffSeg, ${conv === 'paper' ? 'offseg-paper' : 'fvcore'} GFLOPs (measured)`,
    x: off.map((p) => p[conv]),
    y: off.map((p) => p.mIoU),
    // full names on the offseg-paper line, the size alone on its fvcore twin
    text: off.map((p) => (conv === 'paper' ? displayName(p.model) : sizeLabel(p.model))),
    textposition: conv === 'paper' ? 'top center' : 'top left',
    textfont: { color, size: conv === 'paper' ? 13 : 11 },
    line: { color, dash, width: 3 },
    marker: { size: 11, color },
  });
  const family = ([f, color, symbol, where]: readonly [string, string, string, string]) => {
    const ps = points.filter((p) => p.family === f);
    const ol = f.endsWith('OL');
    const last = ps.reduce((a, p, i) => (p.fvcore > ps[a].fvcore ? i : a), 0);
    return {
      type: 'scatter',
      mode: 'lines+markers+text',
      name: `${f} (fvcore GFLOPs, measured)`,
      x: ps.map((p) => p.fvcore),
      y: ps.map((p) => p.mIoU),
      text: ps.map((p) => sizeLabel(p.model)),
      // the rightmost label goes above its point so the plot edge does not clip it
      textposition: ps.map((_, i) =>
        i === last && where === 'middle right' ? 'top center' : where,
      ),
      textfont: { color, size: 10 },
      line: { color, width: 1.5, dash: ol ? 'solid' : 'dot' },
      marker: { size: 8, color, symbol },
    };
  };
  return {
    data: [
      offsegTrace('paper', '#d62728', 'solid'),
      offsegTrace('fvcore', '#ff7f0e', 'dash'),
      {
        type: 'scatter',
        mode: 'markers',
        name: 'OffSeg, GFLOPs as printed (quoted)',
        x: off.map((p) => p.quotedGflops),
        y: off.map((p) => p.mIoU),
        text: off.map((p) => displayName(p.model)),
        hovertemplate: '%{text}: %{x} GFLOPs (quoted)<extra></extra>',
        marker: { size: 16, color: 'rgba(0,0,0,0)', line: { color: '#333', width: 1.5 } },
      },
      ...RETROFITS.filter(([f]) => points.some((p) => p.family === f)).map(family),
    ],
    layout: {
      title: { text: 'Figure 1 — ADE20K mIoU (quoted) against GFLOPs at 512×512 (measured)' },
      xaxis: {
        title: { text: 'GFLOPs at 512×512 (log scale)' },
        type: 'log',
        tickvals: [5, 7, 10, 15, 20, 30, 50, 75],
        range: [Math.log10(4.2), Math.log10(90)],
      },
      yaxis: { title: { text: 'ADE20K mIoU (%), quoted from the paper' } },
      legend: { x: 1.02, y: 1 },
      width: 1100,
      height: 650,
    },
  };
}
