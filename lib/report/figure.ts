/**
 * Figures: Plotly figures saved as self-contained HTML (plotly.js-dist-min inlined, opens
 * offline) and as PNG rendered by Debian's Chromium (./chromium.ts). One browser per process, closed
 * after a short idle time so plain scripts can exit, or by `closeBrowser()`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_INSTALL, launchChromium } from './chromium.ts';
import { resultsDir } from './paths.ts';

export { CHROMIUM, CHROMIUM_INSTALL };

/** A Plotly figure: traces and layout as Plotly.newPlot takes them. */
export type Figure = { data: object[]; layout?: object };

const WIDTH = 900;
const HEIGHT = 560;
const IDLE_MS = 1500;

const require = createRequire(import.meta.url);
let plotlySource: string | undefined;
function plotly(): string {
  plotlySource ??= readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  return plotlySource;
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

function size(fig: Figure): { width: number; height: number } {
  const l = (fig.layout ?? {}) as { width?: number; height?: number };
  return { width: l.width ?? WIDTH, height: l.height ?? HEIGHT };
}

/** The figure as one HTML page with Plotly inlined (about 4.8 MB, no network needed). */
export function figureHtml(fig: Figure, title = 'figure'): string {
  const { width, height } = size(fig);
  const layout = { width, height, ...(fig.layout ?? {}) };
  return [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><title>${title.replace(/</g, '&lt;')}</title>`,
    `<script>${plotly().replace(/<\/script/gi, '<\\/script')}</script></head>`,
    '<body style="margin:0"><div id="plot"></div>',
    `<script>Plotly.newPlot('plot', ${scriptJson(fig.data)}, ${scriptJson(layout)}, {displaylogo: false});</script>`,
    '</body></html>',
  ].join('\n');
}

let browser: Promise<Browser> | undefined;
let idle: NodeJS.Timeout | undefined;

/** Close the shared browser now (also happens by itself after a short idle time). */
export async function closeBrowser(): Promise<void> {
  if (idle) clearTimeout(idle);
  idle = undefined;
  const b = browser;
  browser = undefined;
  if (b) await (await b).close().catch(() => undefined);
}

async function getBrowser(): Promise<Browser> {
  if (idle) clearTimeout(idle);
  if (!browser) {
    browser = launchChromium();
    browser.catch(() => (browser = undefined));
  }
  return browser;
}

function releaseSoon(): void {
  if (idle) clearTimeout(idle);
  idle = setTimeout(() => void closeBrowser(), IDLE_MS);
}

/** Run `fn` on a fresh page of the shared headless Chromium (closed afterwards). */
export async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const b = await getBrowser();
  const page = await b.newPage();
  try {
    return await fn(page);
  } finally {
    await page.close();
    releaseSoon();
  }
}

/** Render a Plotly figure to PNG bytes in headless Chromium (Plotly.toImage). */
export async function renderPng(fig: Figure, scale = 2): Promise<Buffer> {
  return withPage(async (page) => {
    await page.setContent(figureHtml(fig), { waitUntil: 'load' });
    const { width, height } = size(fig);
    const url = await page.evaluate(
      ([w, h, s]) =>
        (
          globalThis as unknown as {
            Plotly: { toImage(id: string, o: object): Promise<string> };
          }
        ).Plotly.toImage('plot', { format: 'png', width: w, height: h, scale: s }),
      [width, height, scale] as const,
    );
    return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  });
}

/**
 * Write `<stem>.html` and `<stem>.png` (any folder). Without Chromium the PNG is skipped with a
 * warning naming the apt command.
 */
export async function writeFigure(
  stem: string,
  fig: Figure,
  title = basename(stem),
): Promise<{ html: string; png?: string }> {
  mkdirSync(dirname(stem), { recursive: true });
  const html = `${stem}.html`;
  writeFileSync(html, figureHtml(fig, title));
  if (!existsSync(CHROMIUM)) {
    console.warn(
      `${basename(stem)}.png not rendered: ${CHROMIUM} not found; install it with: ${CHROMIUM_INSTALL}`,
    );
    return { html };
  }
  const png = `${stem}.png`;
  writeFileSync(png, await renderPng(fig));
  return { html, png };
}

/**
 * Write results/figures/<name>.html and <name>.png (`npm run reproduce` reports a PNG missing
 * for want of Chromium).
 */
export function saveFigure(name: string, fig: Figure): Promise<{ html: string; png?: string }> {
  return writeFigure(join(resultsDir('figures'), name), fig, name);
}

/** Raw pixels (row-major, 1, 3 or 4 channels) or an encoded image that sharp can read. */
export type ImageInput =
  | Buffer
  | {
      data: Uint8Array | Uint8ClampedArray;
      width: number;
      height: number;
      channels: 1 | 3 | 4;
    };

/**
 * PNG bytes of a plain image, optionally shrunk to at most `maxWidth` and stored with a 256-colour
 * palette (`palette`: a third of the size or less, for inline display).
 */
export async function pngBytes(
  img: ImageInput,
  opts: { maxWidth?: number; palette?: boolean } = {},
): Promise<Buffer> {
  let s = Buffer.isBuffer(img)
    ? sharp(img)
    : sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
        raw: { width: img.width, height: img.height, channels: img.channels },
      });
  if (opts.maxWidth) s = s.resize({ width: opts.maxWidth, withoutEnlargement: true });
  return s.png(opts.palette ? { palette: true } : {}).toBuffer();
}

/** Write results/figures/<name>.png from a plain image (qualitative figures); returns the path. */
export async function savePng(name: string, img: ImageInput): Promise<string> {
  const png = join(resultsDir('figures'), `${name}.png`);
  writeFileSync(png, await pngBytes(img));
  return png;
}
