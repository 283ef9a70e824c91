/**
 * Test helpers for backend comparisons: run the same tensor program on 'wasm' and on the
 * reference 'cpu' backend (both registered in one process) and compare the outputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { Rng } from '../../models/core/init.ts';

export function randomArray(rng: Rng, shape: number[], scale = 1): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

/** Run `fn` on a backend; returns the outputs' values (tensors disposed, backend restored). */
export async function runOn(
  backend: 'cpu' | 'wasm',
  fn: () => tf.Tensor[],
): Promise<Float32Array[]> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const outs = tf.tidy(fn);
    const vals = outs.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(outs);
    return vals;
  } finally {
    await tf.setBackend(prev);
  }
}

export interface Diff {
  /** max |a − b| / max(1e-6, max |ref|), over all outputs compared separately (worst). */
  rel: number;
  maxAbs: number;
}

export function relDiff(ours: Float32Array, ref: Float32Array): Diff {
  assert.equal(ours.length, ref.length, 'element count differs');
  let maxAbs = 0;
  let refMax = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    if (!(d <= maxAbs)) maxAbs = d; // NaN propagates as a failure
    refMax = Math.max(refMax, Math.abs(ref[i]));
  }
  return { rel: maxAbs / Math.max(1e-6, refMax), maxAbs };
}

/**
 * Run `fn` on wasm and cpu; assert every output agrees to `rel` (relative to the output's
 * largest magnitude). Returns the worst difference.
 */
export async function expectBackendsAgree(
  label: string,
  fn: () => tf.Tensor[],
  rel = 1e-4,
): Promise<Diff> {
  const w = await runOn('wasm', fn);
  const c = await runOn('cpu', fn);
  assert.equal(w.length, c.length);
  let worst: Diff = { rel: 0, maxAbs: 0 };
  w.forEach((vals, i) => {
    const d = relDiff(vals, c[i]);
    assert.ok(d.rel <= rel, `${label} output ${i}: rel diff ${d.rel.toExponential(2)} > ${rel}`);
    if (d.rel > worst.rel) worst = d;
  });
  return worst;
}
