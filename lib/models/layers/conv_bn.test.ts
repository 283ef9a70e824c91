/**
 * Eval-mode conv+BN folding (lib/models/layers/conv_bn.ts): equal to conv then BN up to float
 * rounding, cached until any input variable is reassigned, never used in train mode or under a
 * gradient tape, and traced exactly like the unfolded pair.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../../../test/helpers/parity.ts';
import { traceOps } from '../../ops/trace.ts';
import { Conv2d, type Conv2dOptions } from './conv.ts';
import { convBn } from './conv_bn.ts';
import { BatchNorm2d } from './norm.ts';

await useBackend();

function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const d = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    return d / Math.max(1e-6, tf.max(tf.abs(b)).dataSync()[0]);
  });
}

/** A conv + BN pair with non-trivial running statistics. */
function pair(cin: number, cout: number, opts: Conv2dOptions, seed: number) {
  const conv = new Conv2d(cin, cout, opts).assignPaths('conv');
  const bn = new BatchNorm2d(cout).assignPaths('bn');
  bn.weight.assign(tf.randomUniform([cout], 0.5, 1.5, 'float32', seed));
  bn.bias.assign(tf.randomNormal([cout], 0, 0.3, 'float32', seed + 1));
  bn.runningMean.assign(tf.randomNormal([cout], 0, 0.5, 'float32', seed + 2));
  bn.runningVar.assign(tf.randomUniform([cout], 0.2, 2, 'float32', seed + 3));
  conv.eval();
  bn.eval();
  return { conv, bn };
}

const CASES: [string, number, number, Conv2dOptions][] = [
  ['3×3 s2 dense with bias', 6, 10, { kernel: 3, stride: 2, padding: 1 }],
  ['1×1 pointwise', 12, 7, { bias: false }],
  ['3×3 depthwise', 9, 9, { kernel: 3, groups: 9 }],
  ['3×3 depthwise s2, no bias', 8, 8, { kernel: 3, stride: 2, padding: 1, groups: 8, bias: false }],
  ['3×3 dilated 2', 5, 6, { kernel: 3, dilation: 2 }],
];

test('eval: folded conv+BN equals conv then BN', () => {
  CASES.forEach(([label, cin, cout, opts], i) => {
    const { conv, bn } = pair(cin, cout, opts, 10 * i);
    const x = tf.randomNormal([2, 9, 11, cin], 0, 1, 'float32', i) as tf.Tensor4D;
    const folded = convBn(conv, bn, x);
    const ref = bn.forward(conv.forward(x));
    assert.ok(bn.foldCache, `${label}: fold cached`);
    const r = maxRel(folded, ref);
    assert.ok(r < 2e-6, `${label}: rel ${r}`);
    tf.dispose([x, folded, ref]);
    conv.dispose();
    bn.dispose();
  });
});

test('the fold is cached and recomputed after any assign', () => {
  const { conv, bn } = pair(4, 6, { kernel: 3 }, 1);
  const x = tf.randomNormal([1, 6, 6, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
  tf.dispose(convBn(conv, bn, x));
  const first = bn.foldCache;
  const before = tf.memory().numTensors;
  tf.dispose(convBn(conv, bn, x));
  assert.equal(bn.foldCache, first, 'reused');
  assert.equal(tf.memory().numTensors, before, 'a warm folded forward leaks nothing');
  for (const v of [conv.weight, conv.bias!, bn.weight, bn.bias, bn.runningMean, bn.runningVar]) {
    v.assign(tf.add(v, tf.randomUniform(v.shape, 0.1, 0.2, 'float32', 3)));
    const y = convBn(conv, bn, x);
    assert.notEqual(bn.foldCache, first, `${v.name}: refreshed`);
    const ref = bn.forward(conv.forward(x));
    assert.ok(maxRel(y, ref) < 2e-6, `${v.name}: follows the new value`);
    tf.dispose([y, ref]);
  }
  const n = tf.memory().numTensors;
  bn.clearCache();
  assert.equal(bn.foldCache, undefined);
  assert.equal(tf.memory().numTensors, n - 2, 'clearCache frees the folded weight and bias');
  x.dispose();
  conv.dispose();
  bn.dispose();
});

test('train mode is exactly conv then BN and frees the fold', async () => {
  const { conv, bn } = pair(4, 6, { kernel: 3 }, 5);
  const x = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 6) as tf.Tensor4D;
  tf.dispose(convBn(conv, bn, x));
  assert.ok(bn.foldCache);
  conv.train();
  bn.train();
  const mean0 = await bn.runningMean.data();
  const y = convBn(conv, bn, x);
  assert.equal(bn.foldCache, undefined);
  assert.notDeepEqual(await bn.runningMean.data(), mean0, 'running stats updated');
  // Same computation as the unfolded pair (the running stats moved once more, not the output).
  const ref = bn.forward(conv.forward(x));
  assert.deepEqual(Array.from(await y.data()), Array.from(await ref.data()));
  tf.dispose([x, y, ref]);
  conv.dispose();
  bn.dispose();
});

test('under a gradient tape (eval) gradients reach every parameter, as unfolded', () => {
  const { conv, bn } = pair(3, 5, { kernel: 3 }, 7);
  const x = tf.randomNormal([1, 5, 5, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
  const vars = [conv.weight, conv.bias!, bn.weight, bn.bias];
  const run = (f: () => tf.Tensor) =>
    tf.variableGrads(() => tf.sum(tf.square(f())) as tf.Scalar, vars);
  const a = run(() => convBn(conv, bn, x));
  const b = run(() => bn.forward(conv.forward(x)));
  for (const v of vars) {
    assert.ok(a.grads[v.name], `${v.name} has a gradient`);
    assert.ok(maxRel(a.grads[v.name], b.grads[v.name]) < 1e-6, v.name);
  }
  tf.dispose([x, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
  conv.dispose();
  bn.dispose();
});

test('the trace is the unfolded one', () => {
  CASES.forEach(([label, cin, cout, opts], i) => {
    const { conv, bn } = pair(cin, cout, opts, 3 * i);
    const x = tf.zeros([1, 8, 10, cin]) as tf.Tensor4D;
    const folded = traceOps(() => convBn(conv, bn, x));
    const ref = traceOps(() => bn.forward(conv.forward(x)));
    assert.deepEqual(folded.records, ref.records, label);
    tf.dispose([x, folded.result, ref.result]);
    conv.dispose();
    bn.dispose();
  });
});
