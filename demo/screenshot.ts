/**
 * Drive the built demo page in headless Chromium (lib/report/chromium.ts): wait for the model,
 * segment a sample or a file, read the status. `screenshotDemo` is the step `npm run reproduce`
 * uses for results/figures/demo.png; the browser test uses the same steps with its own checks.
 * Browser-side code is passed as strings: the Node side is type-checked without the DOM library.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../lib/report/chromium.ts';
import { serveDemo } from './serve.ts';

/** The page's `#status` states (demo/main.ts). */
export type DemoStatus = 'loading' | 'ready' | 'busy' | 'done' | 'error';

/**
 * Wait until the page's status is one of `states`; returns the state reached.
 * @throws playwright's TimeoutError after `timeoutMs`.
 */
export async function waitForStatus(
  page: Page,
  states: readonly DemoStatus[],
  timeoutMs = 120_000,
): Promise<DemoStatus> {
  await page.waitForFunction(
    `${JSON.stringify(states)}.includes(document.getElementById('status')?.dataset.state)`,
    null,
    { timeout: timeoutMs },
  );
  return (await page.getAttribute('#status', 'data-state')) as DemoStatus;
}

/**
 * Wait for `want`; an error state (or another one) throws with the page's status line.
 * @throws Error naming the state reached and the status text.
 */
export async function expectStatus(page: Page, want: 'ready' | 'done'): Promise<void> {
  const got = await waitForStatus(page, [want, 'error']);
  if (got !== want)
    throw new Error(`demo page: ${got} instead of ${want}: ${await page.textContent('#status')}`);
}

/** Segment the `index`-th sample button's photo, or `file` through the file input. */
export async function segmentOnPage(page: Page, input: { sample: number } | { file: string }) {
  if ('file' in input) await page.setInputFiles('#file', input.file);
  else await page.click(`#samples button:nth-of-type(${input.sample + 1})`);
  await expectStatus(page, 'done');
}

export interface DemoShot {
  png: string;
  /** The model line the page shows. */
  model: string;
  /** The latency line the page shows. */
  latency: string;
}

/**
 * Serve the built page in `site` (demo/build.ts), segment its first sample photo (or `file`) in
 * headless Chromium and save a full-page screenshot to `png`.
 * @throws Error when the page does not load its model or fails on the photo.
 */
export async function screenshotDemo(opts: {
  site: string;
  png: string;
  file?: string;
  viewport?: { width: number; height: number };
}): Promise<DemoShot> {
  const server = await serveDemo(opts.site, 0);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: opts.viewport ?? { width: 1000, height: 640 } });
    await page.goto(server.url);
    await expectStatus(page, 'ready');
    await segmentOnPage(page, opts.file ? { file: opts.file } : { sample: 0 });
    mkdirSync(dirname(opts.png), { recursive: true });
    await page.screenshot({ path: opts.png, fullPage: true });
    return {
      png: opts.png,
      model: (await page.textContent('#model-label')) ?? '',
      latency: (await page.textContent('#latency')) ?? '',
    };
  } finally {
    await browser.close();
    await server.close();
  }
}
