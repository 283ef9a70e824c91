/**
 * A grid of image panels as one Plotly figure (qualitative figures such as the paper's Fig. 5):
 * column titles above the first row, a caption under each panel, and a legend of class colours,
 * so the PNG that `saveFigure` renders reads on its own.
 */
import type { Figure } from './figure.ts';
import { pngBytes } from './figure.ts';

export interface Panel {
  /** RGB uint8, row-major HWC. */
  data: Uint8Array;
  h: number;
  w: number;
  /** Shown under the panel (e.g. "val #3" or "92.1 % px"). */
  caption: string;
}

export interface PanelGridOptions {
  /** One title per column, shown once above the grid. */
  columnTitles: readonly string[];
  /** Class names and their RGB colours; drawn as legend entries. */
  legend?: { names: readonly string[]; colours: readonly (readonly [number, number, number])[] };
  title: string;
  /** Size of a panel in the figure, in px (panels are resized by nearest neighbour). */
  tile?: number;
}

const GAP = 8;
const CAPTION = 16;

/** Nearest-neighbour composite of the panels, white gaps; also returns the layout geometry. */
function compose(rows: readonly Panel[][], cols: number, tile: number) {
  const W = cols * tile + (cols + 1) * GAP;
  const rowH = tile + CAPTION + GAP;
  const H = rows.length * rowH + GAP;
  const px = new Uint8Array(W * H * 3).fill(255);
  rows.forEach((row, r) =>
    row.forEach((p, c) => {
      const ox = GAP + c * (tile + GAP);
      const oy = GAP + r * rowH;
      for (let y = 0; y < tile; y++)
        for (let x = 0; x < tile; x++) {
          const src =
            (Math.min(p.h - 1, Math.floor((y * p.h) / tile)) * p.w +
              Math.min(p.w - 1, Math.floor((x * p.w) / tile))) *
            3;
          const dst = ((oy + y) * W + ox + x) * 3;
          px[dst] = p.data[src];
          px[dst + 1] = p.data[src + 1];
          px[dst + 2] = p.data[src + 2];
        }
    }),
  );
  return { px, W, H, rowH };
}

/**
 * The figure: an image trace of the composed grid, annotations for the column titles and the
 * captions, and one legend entry per class (an invisible marker of the class colour).
 * @throws Error when a row has more panels than there are column titles.
 */
export async function panelGridFigure(
  rows: readonly Panel[][],
  opts: PanelGridOptions,
): Promise<Figure> {
  const cols = opts.columnTitles.length;
  for (const row of rows)
    if (row.length > cols)
      throw new Error(`panelGridFigure: a row has ${row.length} panels for ${cols} column titles`);
  const tile = opts.tile ?? 160;
  const { px, W, H, rowH } = compose(rows, cols, tile);
  const png = await pngBytes({ data: px, width: W, height: H, channels: 3 });
  const colX = (c: number) => GAP + c * (tile + GAP) + tile / 2;
  const annotations = [
    ...opts.columnTitles.map((t, c) => ({
      text: `<b>${t}</b>`,
      x: colX(c),
      y: 0,
      yanchor: 'bottom',
      font: { size: 14 },
    })),
    ...rows.flatMap((row, r) =>
      row.map((p, c) => ({
        text: p.caption,
        x: colX(c),
        y: GAP + r * rowH + tile + 2,
        yanchor: 'top',
        font: { size: 11 },
      })),
    ),
  ].map((a) => ({ ...a, xref: 'x', yref: 'y', showarrow: false }));
  const legend = opts.legend
    ? opts.legend.names.map((name, i) => ({
        type: 'scatter',
        mode: 'markers',
        x: [null],
        y: [null],
        name,
        marker: { symbol: 'square', size: 12, color: `rgb(${opts.legend!.colours[i].join(',')})` },
        showlegend: true,
        hoverinfo: 'skip',
      }))
    : [];
  const legendRows = opts.legend ? Math.ceil(opts.legend.names.length / 6) : 0;
  const titleLines = opts.title.split('<br>').length; // a subtitle line needs room above the grid
  const top = 50 + 20 * titleLines;
  return {
    data: [
      {
        type: 'image',
        source: `data:image/png;base64,${png.toString('base64')}`,
        hoverinfo: 'skip',
      },
      ...legend,
    ],
    layout: {
      title: { text: opts.title, font: { size: 15 } },
      width: Math.max(W + 60, 720), // room for the title of a narrow grid
      height: H + top + 40 + 24 * legendRows,
      xaxis: { visible: false, range: [0, W] },
      yaxis: { visible: false, range: [H, -26], scaleanchor: 'x' },
      margin: { l: 30, r: 30, t: top, b: 20 + 24 * legendRows },
      annotations,
      showlegend: Boolean(opts.legend),
      legend: { orientation: 'h', x: 0, y: -0.02, yanchor: 'top', font: { size: 11 } },
    },
  };
}
