/**
 * Input generators for the op-level gradient tables (./tfjs_*_op_cases.ts, ./lib_op_cases.ts,
 * ./lib_conv_op_cases.ts): seeded, small, and placed away from kinks and ties so that the
 * central differences of ./gradcheck.ts (largest step 1e-2) never straddle a switching point.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../lib/rng.ts';

function fill(shape: number[], seed: number, gen: (r: Rng, i: number) => number): tf.Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = gen(r, i);
  return tf.tensor(v, shape);
}

export const normal = (shape: number[], seed: number, scale = 1): tf.Tensor =>
  fill(shape, seed, (r) => scale * r.normal());

export const uniform = (shape: number[], seed: number, lo: number, hi: number): tf.Tensor =>
  fill(shape, seed, (r) => lo + (hi - lo) * r.next());

/** |x − at| ∈ [margin, margin + 1], random sign: no kink at `at` within the FD steps. */
export const awayFrom = (shape: number[], seed: number, at = 0, margin = 0.1): tf.Tensor =>
  fill(shape, seed, (r) => at + (r.next() < 0.5 ? -1 : 1) * (margin + r.next()));

/** A random permutation of (i − n/2)·gap: every pair differs by ≥ gap (no ties for max ops). */
export function distinct(shape: number[], seed: number, gap = 0.05): tf.Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * gap);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return tf.tensor(v, shape);
}

/** Integer part in [−3, 3], fractional part in [0.2, 0.8]: away from the steps of floor. */
export const fractional = (shape: number[], seed: number): tf.Tensor =>
  fill(shape, seed, (r) => r.int(7) - 3 + 0.2 + 0.6 * r.next());

/** b = a ± (0.05 … 0.55): pairs never tie (Maximum / Minimum). */
export const apart = (a: tf.Tensor, seed: number): tf.Tensor =>
  tf.add(a, awayFrom(a.shape, seed, 0, 0.05));

/** The default small, odd, non-square NHWC shape. */
export const S = [2, 5, 7, 3];
