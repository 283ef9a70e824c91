/**
 * Show a table, figure, Markdown, HTML or PNG inline. Inside the tslab kernel this goes through
 * tslab's display; as a plain Node script (`npx tsx notebooks/NN-x.ts`) it prints a text
 * fallback, so a notebook source runs in both. Figures are shown as PNG (the interactive HTML is
 * the saved file): an inlined Plotly would put 4.8 MB into every executed notebook.
 */
import { createRequire } from 'node:module';
import { pngBytes, renderPng, type Figure } from './figure.ts';
import { toMarkdown, type Table } from './table.ts';

export type Showable = Table | Figure | { markdown: string } | { png: Buffer } | { html: string };

interface TslabDisplay {
  html(s: string): void;
  markdown(s: string): void;
  png(b: Uint8Array): void;
  text(s: string): void;
}

/** True inside the tslab kernel (its process is `node …/tslab kernel --config-path …`). */
export function inKernel(): boolean {
  const main = process.argv[1] ?? '';
  return /tslab/.test(main) && process.argv.includes('kernel');
}

let tslab: TslabDisplay | null | undefined;
function kernelDisplay(): TslabDisplay | null {
  if (tslab === undefined) {
    tslab = null;
    if (inKernel()) {
      try {
        // The kernel already loaded tslab: this returns the same module instance.
        tslab = (createRequire(import.meta.url)('tslab') as { display: TslabDisplay }).display;
      } catch {
        tslab = null;
      }
    }
  }
  return tslab;
}

function isTable(x: Showable): x is Table {
  return 'columns' in x && 'rows' in x;
}
function isFigure(x: Showable): x is Figure {
  return 'data' in x && Array.isArray((x as Figure).data);
}

function figureTitle(f: Figure): string {
  const t = (f.layout as { title?: string | { text?: string } } | undefined)?.title;
  const text = typeof t === 'string' ? t : (t?.text ?? 'figure');
  return text.replace(/<br>/g, ' — ').replace(/<[^>]+>/g, '');
}

/** Inline images are kept small (≤ 1000 px wide, palette PNG): executed notebooks stay light. */
const INLINE_WIDTH = 1000;
function inlinePng(png: Buffer): Promise<Buffer> {
  return pngBytes(png, { maxWidth: INLINE_WIDTH, palette: true });
}

/** Display one item (await it: figures are rendered to PNG first). Never throws for display. */
export async function show(item: Showable): Promise<void> {
  const d = kernelDisplay();
  if (isTable(item)) {
    if (d) d.markdown(toMarkdown(item));
    else console.log(toMarkdown(item));
  } else if (isFigure(item)) {
    if (!d) {
      console.log(`[figure] ${figureTitle(item)}: ${item.data.length} trace(s)`);
      return;
    }
    try {
      d.png(await inlinePng(await renderPng(item, 1)));
    } catch (e) {
      d.text(`[figure] ${figureTitle(item)} not rendered inline: ${(e as Error).message}`);
    }
  } else if ('markdown' in item) {
    if (d) d.markdown(item.markdown);
    else console.log(item.markdown);
  } else if ('png' in item) {
    if (d) d.png(await inlinePng(item.png));
    else console.log(`[png] ${item.png.length} bytes`);
  } else {
    if (d) d.html(item.html);
    else
      console.log(
        item.html
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
      );
  }
}
