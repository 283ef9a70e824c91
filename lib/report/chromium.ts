/**
 * Debian's Chromium driven by playwright-core (never a browser download): the system's
 * /usr/bin/chromium, or the one OFFSEG_CHROMIUM names. Shared by the figure renderer
 * (./figure.ts), the demo screenshot (demo/screenshot.ts) and the demo's browser test.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { envString } from '../env.ts';

export const CHROMIUM = envString('OFFSEG_CHROMIUM') ?? '/usr/bin/chromium';
export const CHROMIUM_INSTALL = 'apt-get install -y chromium';

/** Headless, no GPU, and nothing that reaches the network on its own. */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why a browser step cannot run here (one line with the fix), or false when Chromium is there. */
export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `Chromium not found at ${CHROMIUM}: ${CHROMIUM_INSTALL} (or set OFFSEG_CHROMIUM)`;
}

/** Start a headless Chromium (the caller closes it). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS] });
}
