/**
 * Helpers for parity tests against the official OffSeg outputs in `$OFFSEG_SHARED/fixtures/parity`
 * (default: a `shared/` folder next to the repository). Without them, parity tests skip.
 * Arrays there are NCHW; convert ours with nhwcToNchw (or oursToTorch for parameters) first.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { readNpy } from '../../lib/io/npy.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** `OFFSEG_SHARED`, else a folder named `shared` beside the repository. */
export const SHARED_DIR = process.env.OFFSEG_SHARED ?? resolve(dirname(REPO_ROOT), 'shared');
export const PARITY_DIR = join(SHARED_DIR, 'fixtures/parity');

export function fixtureFile(fixture: string, file: string): string {
  return join(PARITY_DIR, fixture, file);
}

export function fixturesPresent(): boolean {
  return existsSync(join(PARITY_DIR, 'index.json'));
}

/**
 * `{ skip: PARITY_SKIP }` on every test that reads the official fixtures: false when they are
 * present, else the one-line reason printed next to the skipped test.
 */
export const PARITY_SKIP: string | false = fixturesPresent()
  ? false
  : `parity fixtures not found in ${PARITY_DIR}: set OFFSEG_SHARED to the folder holding fixtures/parity`;

export interface Tolerance {
  max_abs_diff: number;
  mean_abs_diff: number;
}

interface Manifest {
  tolerance_suggestion: { per_output: Record<string, Tolerance> };
  [k: string]: unknown;
}

const manifests = new Map<string, Manifest>();
export function manifest(fixture: string): Manifest {
  let m = manifests.get(fixture);
  if (!m) {
    m = JSON.parse(readFileSync(fixtureFile(fixture, 'manifest.json'), 'utf8')) as Manifest;
    manifests.set(fixture, m);
  }
  return m;
}

/** The manifest's suggested limits for one output (never loosened by tests). */
export function tolerance(fixture: string, output: string): Tolerance {
  const t = manifest(fixture).tolerance_suggestion.per_output[output];
  if (!t) throw new Error(`fixture ${fixture} has no tolerance for '${output}'`);
  return t;
}

export interface DiffStats {
  max: number;
  mean: number;
  refMaxAbs: number;
}

export function diffStats(ours: ArrayLike<number>, ref: ArrayLike<number>): DiffStats {
  assert.equal(ours.length, ref.length, 'element count differs');
  let max = 0;
  let sum = 0;
  let refMax = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    if (!(d <= max)) max = d; // NaN propagates as a failure
    sum += d;
    refMax = Math.max(refMax, Math.abs(ref[i]));
  }
  return { max, mean: sum / ref.length, refMaxAbs: refMax };
}

/**
 * Compare a tensor already in the reference layout with `<fixture>/<file>` and assert the
 * manifest's limits for `output`. Prints one line (the parity report reads these).
 */
export async function expectParity(
  fixture: string,
  output: string,
  ours: tf.Tensor,
  file = `${output}.npy`,
  tol: Tolerance = tolerance(fixture, output),
): Promise<DiffStats> {
  const ref = readNpy(fixtureFile(fixture, file));
  assert.deepEqual(
    [...ours.shape],
    ref.shape,
    `${fixture}/${output}: shape [${ours.shape}] vs reference [${ref.shape}]`,
  );
  const s = diffStats(await ours.data(), ref.data as Float32Array);
  const line = `[parity] ${fixture.padEnd(12)} ${output.padEnd(40)} max|Δ| ${s.max.toExponential(2)} (≤ ${tol.max_abs_diff})  mean|Δ| ${s.mean.toExponential(2)} (≤ ${tol.mean_abs_diff})`;
  console.log(line);
  assert.ok(
    s.max <= tol.max_abs_diff,
    `${fixture}/${output}: max|Δ| ${s.max} > ${tol.max_abs_diff}`,
  );
  assert.ok(
    s.mean <= tol.mean_abs_diff,
    `${fixture}/${output}: mean|Δ| ${s.mean} > ${tol.mean_abs_diff}`,
  );
  return s;
}

/**
 * Backend for a test file (each file runs in its own process). Honours OFFSEG_BACKEND; otherwise
 * the best present (wasm here). Gradient tests may ask for 'cpu' until every WASM gradient exists.
 */
export async function useBackend(prefer?: 'cpu' | 'wasm'): Promise<string> {
  const { selectBackend } = await import('../../lib/backend/select.ts');
  const b = await selectBackend({
    prefer: (process.env.OFFSEG_BACKEND as 'cpu' | 'wasm' | undefined) ?? prefer ?? 'auto',
    log: false,
  });
  return b.name;
}

/** mmseg's SegDataPreProcessor mean and std (RGB). */
export const IMAGE_MEAN = [123.675, 116.28, 103.53];
export const IMAGE_STD = [58.395, 57.12, 57.375];

/** A fixture's HWC RGB uint8 image, normalised as mmseg does in float32 → [1,H,W,3]. */
export function preprocessFixtureImage(fixture: string, file: string): tf.Tensor4D {
  const img = readNpy(fixtureFile(fixture, file));
  const [h, w] = img.shape;
  const out = new Float32Array(h * w * 3);
  const src = img.data as Uint8Array;
  for (let i = 0; i < h * w; i++)
    for (let c = 0; c < 3; c++)
      out[i * 3 + c] = Math.fround(src[i * 3 + c] - IMAGE_MEAN[c]) / Math.fround(IMAGE_STD[c]);
  return tf.tensor4d(out, [1, h, w, 3]);
}
