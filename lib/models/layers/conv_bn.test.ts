/**
 * Eval-mode conv+BN folding (lib/models/layers/conv_bn.ts): equal to conv then BN up to float
 * rounding, cached until any input variable is reassigned, never used in train mode or under a
 * gradient tape (where the gradients equal the unfolded pair's and central differences of the
 * eval forward, test/helpers/gradcheck.ts), and traced exactly like the unfolded pair.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { directionalDerivative, dot } from '../../../test/helpers/gradcheck.ts';
import { useBackend } from '../../../test/helpers/parity.ts';
import { Rng } from '../core/init.ts';
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

/**
 * Worst relative error of `grads` (one per variable) against central differences of `loss`
 * (test/helpers/gradcheck.ts: Richardson, rounded steps) with the variables moved by assign:
 * every coordinate of small variables, else `sampled` random coordinates and 2 random directions.
 * The variables are restored afterwards.
 */
function fdCheckVariables(
  vars: tf.Variable[],
  loss: () => number,
  grads: Float32Array[],
  sampled = 12,
): number[] {
  const x0 = vars.map((v) => Float32Array.from(v.dataSync()));
  const objective = (xs: Float32Array[]): number => {
    vars.forEach((v, k) => tf.tidy(() => v.assign(tf.tensor(xs[k], v.shape))));
    return loss();
  };
  const rng = new Rng(5);
  const worst = vars.map((_, k) => {
    const n = x0[k].length;
    const dirs: Float32Array[] = [];
    const unit = (i: number): Float32Array =>
      Float32Array.from({ length: n }, (_, j) => +(i === j));
    if (n <= 48) for (let i = 0; i < n; i++) dirs.push(unit(i));
    else {
      for (let r = 0; r < sampled; r++) dirs.push(unit(rng.int(n)));
      for (let r = 0; r < 2; r++) dirs.push(Float32Array.from({ length: n }, () => rng.normal()));
    }
    const pairs = dirs.map((d) => {
      const v = x0.map((x, j) => (j === k ? d : new Float32Array(x.length)));
      const r = directionalDerivative(objective, x0, v, 1e-2);
      return [r.fd, dot(grads[k], r.dir[k])];
    });
    const scale = Math.max(1e-6, ...pairs.map(([a]) => Math.abs(a)));
    return Math.max(...pairs.map(([a, b]) => Math.abs(a - b) / scale));
  });
  objective(x0);
  return worst;
}

test('under a gradient tape (eval) gradients reach every parameter, as unfolded, and are right', () => {
  const { conv, bn } = pair(3, 5, { kernel: 3 }, 7);
  const x = tf.randomNormal([1, 5, 5, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
  const vars = [conv.weight, conv.bias!, bn.weight, bn.bias];
  const run = (f: () => tf.Tensor) =>
    tf.variableGrads(() => tf.sum(tf.square(f())) as tf.Scalar, vars);
  const a = run(() => convBn(conv, bn, x));
  // Under a tape convBn is the unfolded computation: the same gradients up to rounding.
  const b = run(() => bn.forward(conv.forward(x)));
  for (const v of vars) {
    assert.ok(a.grads[v.name], `${v.name} has a gradient`);
    assert.ok(maxRel(a.grads[v.name], b.grads[v.name]) < 1e-6, v.name);
  }
  // Independent reference: central differences of the eval forward (folded, no tape) of Σ y².
  const loss = (): number =>
    tf.tidy(() => {
      const y = convBn(conv, bn, x).dataSync();
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i] * y[i];
      return s;
    });
  const worst = fdCheckVariables(
    vars,
    loss,
    vars.map((v) => Float32Array.from(a.grads[v.name].dataSync())),
  );
  vars.forEach((v, k) =>
    assert.ok(
      worst[k] <= 1e-3,
      `${v.name}: rel ${worst[k].toExponential(2)} vs finite differences`,
    ),
  );
  console.log(
    `[gradcheck] convBn eval under a tape: ${worst.map((w) => w.toExponential(2)).join(' ')}`,
  );
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
