/**
 * Helpers for the data tests: write tiny images and label maps in the exact dataset layouts
 * into a temporary folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Rng } from '../rng.ts';
import { encodeJpeg, encodePngRgb } from './image_io.ts';
import { encodePngGray8 } from './png.ts';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'offseg-data-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function randomRgb(w: number, h: number, seed: number): Uint8Array {
  const r = new Rng(seed);
  const d = new Uint8Array(w * h * 3);
  for (let i = 0; i < d.length; i++) d[i] = Math.floor(r.next() * 256);
  return d;
}

export async function writeImage(path: string, w: number, h: number, seed = 1): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const img = { data: randomRgb(w, h, seed), width: w, height: h };
  writeFileSync(path, path.endsWith('.png') ? await encodePngRgb(img) : await encodeJpeg(img));
}

export function writeLabel(path: string, data: ArrayLike<number>, w: number, h: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodePngGray8(Uint8Array.from(data), w, h));
}

/** A w×h label with value `a` left of the middle column and `b` right of it. */
export function twoValueLabel(w: number, h: number, a: number, b: number): Uint8Array {
  const d = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = x < w / 2 ? a : b;
  return d;
}
