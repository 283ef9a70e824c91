/**
 * The figures of the proxy study (Tables 6 and 7, Fig. 3). Proxy numbers (trained here on the
 * built-in dataset) and quoted ones (the paper, ADE20K) live on different scales, so they are
 * never drawn on one axis: each gets its own panel with its own labelled axis starting at 0.
 */
import type { SeedStats } from '../analysis/welch.ts';
import type { ClassSimilarity } from '../analysis/ideal_representations.ts';
import type { Figure } from './figure.ts';

const PROXY = '#1f77b4';
const QUOTED = '#ff7f0e';
const OL = '#d62728';

/** Horizontal gap between the panels of a one-row grid (fraction of the plot width). */
const XGAP = 0.12;

/** Centre of panel `i` of `n` in paper coordinates (Plotly's grid with gap XGAP). */
function panelCentre(i: number, n: number): number {
  const w = (1 - XGAP * (n - 1)) / n;
  return i * (w + XGAP) + w / 2;
}

/** Subplot titles as annotations above each panel of a one-row grid. */
function panelTitles(texts: readonly string[]): object[] {
  return texts.map((text, i) => ({
    text: `<b>${text}</b>`,
    x: panelCentre(i, texts.length),
    xanchor: 'center',
    y: 1.05,
    xref: 'paper',
    yref: 'paper',
    yanchor: 'bottom',
    showarrow: false,
    font: { size: 13 },
  }));
}

/** A "not run" note in the middle of panel `i` of `n`. */
function notRun(i: number, n: number, why: string): object {
  return {
    text: why,
    x: panelCentre(i, n),
    xanchor: 'center',
    y: 0.5,
    xref: 'paper',
    yref: 'paper',
    showarrow: false,
    font: { size: 13, color: '#888' },
  };
}

export interface Table6Row {
  /** Variant, e.g. "FreqFusion, both offsets". */
  label: string;
  proxy: SeedStats;
  /** The paper's ADE20K mIoU. */
  quoted: number;
}

/**
 * Table 6: proxy mIoU (mean ± std over seeds) and the paper's ADE20K mIoU as two bar panels.
 * @param note shown under the title (e.g. "quick mode: numbers not meaningful").
 */
export function table6Figure(rows: readonly Table6Row[], note = ''): Figure {
  const x = rows.map((r) => r.label.replace(', ', ',<br>'));
  const ran = rows.some((r) => Number.isFinite(r.proxy.mean));
  const maxQuoted = Math.max(...rows.map((r) => r.quoted));
  return {
    data: [
      {
        type: 'bar',
        name: 'proxy mIoU, built-in dataset (mean ± std over seeds)',
        x,
        y: rows.map((r) => r.proxy.mean),
        error_y: { type: 'data', array: rows.map((r) => r.proxy.std), visible: true },
        text: rows.map((r) => (Number.isFinite(r.proxy.mean) ? `n=${r.proxy.n}` : '')),
        textposition: 'inside',
        marker: { color: PROXY },
        xaxis: 'x',
        yaxis: 'y',
      },
      {
        type: 'bar',
        name: 'ADE20K mIoU, quoted from the paper',
        x,
        y: rows.map((r) => r.quoted),
        text: rows.map((r) => r.quoted.toFixed(1)),
        textposition: 'outside',
        marker: { color: QUOTED },
        xaxis: 'x2',
        yaxis: 'y2',
      },
    ],
    layout: {
      title: {
        text: `Table 6 — OffSeg-T components: trained here (proxy) and the paper (quoted)${note ? `<br><sup>${note}</sup>` : ''}`,
      },
      width: 1100,
      height: 560,
      grid: { rows: 1, columns: 2, pattern: 'independent', xgap: XGAP },
      xaxis: { title: { text: 'head variant (OffSeg-T backbone)' }, tickangle: 0 },
      yaxis: {
        title: { text: 'proxy mIoU (%), built-in dataset' },
        ...(ran ? { rangemode: 'tozero' } : { range: [0, 100] }),
      },
      xaxis2: { title: { text: 'head variant (OffSeg-T backbone)' }, tickangle: 0 },
      yaxis2: {
        title: { text: 'ADE20K mIoU (%), quoted' },
        range: [0, Math.ceil((maxQuoted * 1.12) / 5) * 5],
      },
      annotations: [
        ...panelTitles([
          'trained here on the built-in dataset (proxy)',
          'the paper, ADE20K (quoted)',
        ]),
        ...(ran ? [] : [notRun(0, 2, 'not run: no proxy runs yet')]),
      ],
      legend: { orientation: 'h', x: 0, y: -0.28, yanchor: 'top' },
      margin: { t: 110, b: 150 },
    },
  };
}

export interface Table7Point {
  /** "C = 64" or "OffSeg-T". */
  label: string;
  /** GFLOPs measured here (offseg-paper convention, 512²) and as the paper prints them. */
  gflops: number;
  quotedGflops: number;
  proxy: SeedStats;
  quotedMIoU: number;
}

/** Table 7: mIoU against GFLOPs, proxy (left) and quoted ADE20K (right), every point labelled. */
export function table7Figure(
  perPixel: readonly Table7Point[],
  offsetLearning: Table7Point,
  note = '',
): Figure {
  const ran = [...perPixel, offsetLearning].some((p) => Number.isFinite(p.proxy.mean));
  const line = (side: 'proxy' | 'quoted') => {
    const proxy = side === 'proxy';
    return [
      {
        type: 'scatter',
        mode: 'lines+markers+text',
        name: `per-pixel classifier, align width C (${side})`,
        x: perPixel.map((p) => (proxy ? p.gflops : p.quotedGflops)),
        y: perPixel.map((p) => (proxy ? p.proxy.mean : p.quotedMIoU)),
        ...(proxy
          ? { error_y: { type: 'data', array: perPixel.map((p) => p.proxy.std), visible: true } }
          : {}),
        text: perPixel.map((p) => p.label),
        // right of each point; the widest (rightmost) one above, so it is not clipped
        textposition: perPixel.map((_, i) =>
          i === perPixel.length - 1 ? 'top center' : 'middle right',
        ),
        marker: { color: proxy ? PROXY : QUOTED, size: 8 },
        line: { color: proxy ? PROXY : QUOTED },
        xaxis: proxy ? 'x' : 'x2',
        yaxis: proxy ? 'y' : 'y2',
      },
      {
        type: 'scatter',
        mode: 'markers+text',
        name: `${offsetLearning.label}, Offset Learning (${side})`,
        x: [proxy ? offsetLearning.gflops : offsetLearning.quotedGflops],
        y: [proxy ? offsetLearning.proxy.mean : offsetLearning.quotedMIoU],
        ...(proxy
          ? { error_y: { type: 'data', array: [offsetLearning.proxy.std], visible: true } }
          : {}),
        text: [offsetLearning.label],
        textposition: 'bottom center',
        marker: { size: 14, symbol: 'star', color: OL },
        xaxis: proxy ? 'x' : 'x2',
        yaxis: proxy ? 'y' : 'y2',
      },
    ];
  };
  return {
    data: [...line('proxy'), ...line('quoted')],
    layout: {
      title: {
        text: `Table 7 — mIoU against GFLOPs (512², offseg-paper convention): proxy and quoted${note ? `<br><sup>${note}</sup>` : ''}`,
      },
      width: 1100,
      height: 560,
      grid: { rows: 1, columns: 2, pattern: 'independent', xgap: XGAP },
      xaxis: { title: { text: 'GFLOPs (measured here)' } },
      yaxis: {
        title: { text: 'proxy mIoU (%), built-in dataset' },
        ...(ran ? {} : { range: [0, 100] }),
      },
      xaxis2: { title: { text: 'GFLOPs (quoted)' } },
      yaxis2: { title: { text: 'ADE20K mIoU (%), quoted' } },
      annotations: [
        ...panelTitles([
          'trained here on the built-in dataset (proxy)',
          'the paper, ADE20K (quoted)',
        ]),
        ...(ran ? [] : [notRun(0, 2, 'not run: no proxy runs yet')]),
      ],
      legend: { orientation: 'h', x: 0, y: -0.2, yanchor: 'top' },
      margin: { t: 110, b: 140 },
    },
  };
}

export interface Fig3Model {
  /** Human name of the row, e.g. "per-pixel" or "Offset Learning". */
  label: string;
  similarity: readonly ClassSimilarity[];
}

/**
 * Fig. 3: heat maps of the cosine similarity between the W* rows of one class across images,
 * one row of panels per model and one column per class; both axes are image numbers.
 */
export function fig3Figure(models: readonly Fig3Model[], note = ''): Figure {
  const classes = models[0]?.similarity.map((s) => s.className) ?? [];
  const cols = Math.max(1, classes.length);
  const rows = Math.max(1, models.length);
  const data: object[] = [];
  const axes: Record<string, object> = {};
  models.forEach((m, i) =>
    m.similarity.forEach((s, j) => {
      const idx = i * cols + j + 1;
      const id = idx === 1 ? '' : String(idx);
      const ticks = s.images.map((_, k) => k + 1);
      data.push({
        type: 'heatmap',
        name: `${m.label} · ${s.className}`,
        x: ticks,
        y: ticks,
        z: s.matrix,
        zmin: -1,
        zmax: 1,
        colorscale: 'RdBu',
        reversescale: true,
        showscale: idx === 1,
        colorbar: { title: { text: 'cosine<br>similarity', side: 'top' }, len: 0.8 },
        xaxis: `x${id}`,
        yaxis: `y${id}`,
        hovertemplate: `${m.label} · ${s.className}<br>image %{x} vs image %{y}: %{z:.2f}<extra></extra>`,
      });
      const small = { size: 9 };
      const n = ticks.length;
      const tickvals = [1, Math.ceil(n / 2), n];
      axes[`xaxis${id}`] = {
        title: { text: i === rows - 1 ? 'image' : '', font: { size: 11 } },
        tickfont: small,
        tickvals,
        range: [0.5, n + 0.5],
        constrain: 'domain',
      };
      axes[`yaxis${id}`] = {
        title: { text: j === 0 ? `<b>${m.label}</b><br>image` : '', font: { size: 11 } },
        tickfont: small,
        tickvals,
        showticklabels: j === 0, // the rows share image numbers: label them once, on the left
        range: [n + 0.5, 0.5], // image 1 at the top, as a matrix is read
      };
    }),
  );
  return {
    data,
    layout: {
      title: {
        text: `Fig. 3 (proxy) — cosine similarity of per-image ideal class representations W*${note ? `<br><sup>${note}</sup>` : ''}`,
      },
      width: 1250,
      height: 200 + 230 * rows,
      grid: { rows, columns: cols, pattern: 'independent', xgap: 0.08, ygap: 0.2 },
      annotations: models.length
        ? classes.map((c, j) => ({
            text: `<b>${c}</b>`,
            x: (j + 0.5) / cols,
            y: 1.0,
            xref: 'paper',
            yref: 'paper',
            yanchor: 'bottom',
            showarrow: false,
          }))
        : [notRun(0, 1, 'not run: no trained proxy models yet')],
      ...(models.length ? {} : { xaxis: { visible: false }, yaxis: { visible: false } }),
      margin: { l: 110, t: 110 },
      ...axes,
    },
  };
}
