/**
 * Does a figure read on its own? Open its HTML in headless Chromium, let Plotly draw it, and
 * read back from the page what a reader sees: the title, each axis title, legend entries,
 * annotations (panel and column titles) and colour-bar titles. `figureProblems` turns that into
 * a list of what is missing; `npm run reproduce` and the tests run it on every figure.
 */
import { pathToFileURL } from 'node:url';
import { figureHtml, withPage, type Figure } from './figure.ts';

export interface AxisAnatomy {
  /** Plotly axis id: x, x2, y, y3 … */
  id: string;
  /** The rendered title text ('' when none is drawn). */
  title: string;
  /** Shown with tick labels (an axis a reader has to interpret). */
  labelled: boolean;
  /** Its domain, to find the axes that share a row or column of panels. */
  domain: [number, number];
}

export interface FigureAnatomy {
  title: string;
  axes: AxisAnatomy[];
  legend: string[];
  annotations: string[];
  colorbars: string[];
  /** Traces that would need a legend entry or a colour bar to be told apart. */
  namedTraces: number;
  heatmaps: number;
  images: number;
}

/**
 * Runs in the page (kept as source text: the TypeScript loader would otherwise inject helpers
 * the page does not have). Reads Plotly's resolved layout and the drawn SVG text.
 */
const READ_PAGE = `(() => {
  const gd = document.getElementById('plot');
  const text = (sel) => [...document.querySelectorAll(sel)].map((e) => (e.textContent || '').trim());
  const layout = gd._fullLayout;
  const axes = Object.keys(layout)
    .filter((k) => /^[xy]axis\\d*$/.test(k))
    .map((k) => {
      const ax = layout[k];
      const id = k[0] + k.slice(5);
      return {
        id,
        title: text('text.' + id + 'title').join(' '),
        labelled: ax.visible !== false && ax.showticklabels !== false,
        domain: ax.domain || [0, 1],
      };
    });
  const data = gd._fullData;
  return {
    title: text('.gtitle').join(' '),
    axes,
    legend: text('.legend .legendtext'),
    annotations: text('.annotation-text'),
    colorbars: text('.cbtitle'),
    namedTraces: data.filter((t) => t.showlegend !== false && t.type !== 'heatmap' && t.type !== 'image').length,
    heatmaps: data.filter((t) => t.type === 'heatmap').length,
    images: data.filter((t) => t.type === 'image').length,
  };
})()`;

/** Read the anatomy of a saved figure (`path` to its .html). */
export async function inspectFigure(path: string): Promise<FigureAnatomy> {
  return withPage(async (page) => {
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    await page.waitForFunction("document.querySelector('#plot .main-svg') !== null");
    return (await page.evaluate(READ_PAGE)) as FigureAnatomy;
  });
}

/**
 * Draw each figure in turn on one page (Plotly loaded once) and read its anatomy: the same
 * rendering as opening each saved HTML, in a fraction of the time (tests).
 */
export async function inspectFigures(figs: readonly Figure[]): Promise<FigureAnatomy[]> {
  if (!figs.length) return [];
  return withPage(async (page) => {
    await page.setContent(figureHtml(figs[0]), { waitUntil: 'load' });
    const out: FigureAnatomy[] = [];
    for (const fig of figs) {
      await page.evaluate(
        ([data, layout]) =>
          (
            globalThis as unknown as {
              Plotly: { newPlot(id: string, d: unknown, l: unknown): Promise<unknown> };
            }
          ).Plotly.newPlot('plot', data, layout),
        [fig.data, { width: 900, height: 560, ...(fig.layout ?? {}) }] as const,
      );
      out.push((await page.evaluate(READ_PAGE)) as FigureAnatomy);
    }
    return out;
  });
}

const same = (a: [number, number], b: [number, number]) =>
  Math.abs(a[0] - b[0]) < 1e-6 && Math.abs(a[1] - b[1]) < 1e-6;

/**
 * What a reader would miss: a title; a title for every labelled axis (one per row or column of
 * panels is enough: axes with the same domain share it); a legend when several traces must be
 * told apart; a titled colour bar for heat maps; column titles for image grids.
 */
export function figureProblems(a: FigureAnatomy): string[] {
  const out: string[] = [];
  if (!a.title) out.push('no title');
  for (const ax of a.axes) {
    if (!ax.labelled || ax.title) continue;
    const shared = a.axes.some((o) => o.id[0] === ax.id[0] && o.title && same(o.domain, ax.domain));
    if (!shared) out.push(`axis ${ax.id} has tick labels but no title`);
  }
  if (a.namedTraces >= 2 && a.legend.length < 2)
    out.push(`${a.namedTraces} traces but ${a.legend.length} legend entries`);
  if (a.heatmaps && !a.colorbars.some((c) => c)) out.push('heat map without a titled colour bar');
  if (a.images && !a.annotations.length) out.push('image grid without column titles');
  return out;
}
