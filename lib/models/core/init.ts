/**
 * Seeded parameter initialisation.
 *
 * Model construction runs inside `withInitSeed(seed, () => new Model(...))`; layers draw their
 * initial values from the generator of that scope, so a model built twice with the same seed
 * has identical weights. Outside such a scope a fixed default seed (0) is used.
 */
import * as tf from '@tensorflow/tfjs-core';

import { Rng } from '../../rng.ts';

/** Re-exported for older import paths; the generator lives in lib/rng.ts. */
export { Rng };

let scoped: Rng | undefined;
const fallback = new Rng(0);

export function withInitSeed<T>(seed: number, fn: () => T): T {
  const prev = scoped;
  scoped = new Rng(seed);
  try {
    return fn();
  } finally {
    scoped = prev;
  }
}

function rng(): Rng {
  return scoped ?? fallback;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function uniform(shape: number[], lo: number, hi: number): tf.Tensor {
  const r = rng();
  const v = new Float32Array(numel(shape));
  for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * r.next();
  return tf.tensor(v, shape);
}

export function normal(shape: number[], std: number, mean = 0): tf.Tensor {
  const r = rng();
  const v = new Float32Array(numel(shape));
  for (let i = 0; i < v.length; i++) v[i] = mean + std * r.normal();
  return tf.tensor(v, shape);
}

/** timm/mmengine trunc_normal_(std, a=-2, b=2): resample values outside the absolute bounds. */
export function truncNormal(shape: number[], std: number, lo = -2, hi = 2): tf.Tensor {
  const r = rng();
  const v = new Float32Array(numel(shape));
  for (let i = 0; i < v.length; i++) {
    let x: number;
    do x = std * r.normal();
    while (x < lo || x > hi);
    v[i] = x;
  }
  return tf.tensor(v, shape);
}

/** Xavier/Glorot uniform for a conv with the given fans. */
export function xavierUniform(shape: number[], fanIn: number, fanOut: number): tf.Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -a, a);
}

/** Overwrite a parameter's value (e.g. a module's own init after a layer's default) and free the source. */
export function reinit(v: tf.Variable, value: tf.Tensor): void {
  v.assign(value);
  value.dispose();
}
