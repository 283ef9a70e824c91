/**
 * groupNorm (lib/ops/norm.ts) against the textbook formulation (moments over a
 * [B, H, W, G, C/G] view), values and gradients w.r.t. input, γ and β, on this process's
 * backend, for batch 1 and > 1 and several group sizes.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../../test/helpers/parity.ts';
import { groupNorm } from './norm.ts';
import { traceOps } from './trace.ts';

await useBackend();

function reference(
  x: tf.Tensor4D,
  groups: number,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
) {
  const [b, h, w, c] = x.shape;
  const xg = tf.reshape(x, [b, h, w, groups, c / groups]); // (B, H, W, G, C/G)
  const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
  const y = tf.div(tf.sub(xg, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.reshape(y, [b, h, w, c]), gamma), beta) as tf.Tensor4D;
}

function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const d = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    return d / Math.max(1e-6, tf.max(tf.abs(b)).dataSync()[0]);
  });
}

test('groupNorm equals the textbook form (values and gradients)', () => {
  const cases: [number[], number][] = [
    [[1, 9, 11, 32], 8],
    [[3, 5, 7, 24], 4],
    [[2, 4, 4, 16], 16],
    [[2, 6, 5, 12], 1],
  ];
  cases.forEach(([shape, g], i) => {
    const c = shape[3];
    const x = tf.add(tf.randomNormal(shape, 0, 2, 'float32', i), 3) as tf.Tensor4D; // mean ≠ 0
    const gamma = tf.randomUniform([c], 0.5, 1.5, 'float32', i + 10) as tf.Tensor1D;
    const beta = tf.randomNormal([c], 0, 1, 'float32', i + 20) as tf.Tensor1D;
    const dy = tf.randomNormal(shape, 0, 1, 'float32', i + 30);
    const f = (fn: typeof reference) => (a: tf.Tensor, gm: tf.Tensor, bt: tf.Tensor) =>
      tf.sum(tf.mul(fn(a as tf.Tensor4D, g, gm as tf.Tensor1D, bt as tf.Tensor1D, 1e-5), dy));
    const ours = groupNorm(x, g, gamma, beta, 1e-5);
    const ref = reference(x, g, gamma, beta, 1e-5);
    assert.ok(maxRel(ours, ref) < 1e-5, `[${shape}] G${g}: values`);
    const go = tf.grads(f((a, gg, gm, bt, e) => groupNorm(a, gg, gm, bt, e)))([x, gamma, beta]);
    const gr = tf.grads(f(reference))([x, gamma, beta]);
    go.forEach((t, k) => assert.ok(maxRel(t, gr[k]) < 1e-4, `[${shape}] G${g}: grad ${k}`));
    tf.dispose([x, gamma, beta, dy, ours, ref, ...go, ...gr]);
  });
});

test('groupNorm records 5·numel group_norm MACs', () => {
  const x = tf.zeros([2, 3, 4, 8]) as tf.Tensor4D;
  const { result, records } = traceOps(() =>
    groupNorm(x, 2, tf.ones([8]), tf.zeros([8]), 1e-5, 'gn'),
  );
  assert.deepEqual(records, [
    { kind: 'group_norm', macs: 5 * 2 * 3 * 4 * 8, scope: 'gn', shapes: [[2, 3, 4, 8]] },
  ]);
  tf.dispose([x, result]);
});
