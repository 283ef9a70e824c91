/**
 * Shared pieces of the WASM kernel tests (lib/backend/wasm_kernels.test.ts,
 * lib/backend/wasm_conv_grads.test.ts): the tolerance, the comparison of float32 kernel results
 * with float64 references, and the explicit-padding shorthand their cases use.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { relDiff } from '../../lib/backend/kernels/testing.ts';

/** Largest allowed difference, relative to the largest reference magnitude. */
export const REL = 1e-4;

export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** Explicit NHWC padding: top, bottom, left, right. */
export const ex = (t: number, b: number, l: number, r: number): tf.backend_util.ExplicitPadding => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

/** Worst relative difference of float32 results against float64 references. */
export function worstRel(got: Float32Array[], want: Float64Array[], what: string[]): number {
  let worst = 0;
  got.forEach((g, k) => {
    const d = relDiff(g, Float32Array.from(want[k]));
    assert.ok(d.rel <= REL, `${what[k]}: rel ${d.rel.toExponential(2)}`);
    worst = Math.max(worst, d.rel);
  });
  return worst;
}
