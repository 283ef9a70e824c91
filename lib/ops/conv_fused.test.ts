/**
 * The traced convolutions with a bias run fused kernels (bias inside the conv / matMul): dense
 * k×k (strided), pointwise, depthwise and dilated (unfused path). Values on WASM must equal tfjs'
 * unfused conv + add on the CPU backend; the gradients of input, weights and bias are checked on
 * WASM and CPU against central differences of the same forward (test/helpers/gradcheck.ts),
 * never against tfjs autodiff of the unfused form.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeCheck, gradCheck } from '../../test/helpers/gradcheck.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { randomArray, relDiff, runOn } from '../backend/kernels/testing.ts';
import { conv2d, depthwiseConv2d, type ConvArgs } from './conv.ts';

await useBackend('wasm');

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  label: string;
  x: number[];
  w: number[];
  depthwise: boolean;
  args: { stride: number; padding: number; dilation: number };
}

const CASES: Case[] = [
  {
    label: 'dense 3×3',
    x: [2, 9, 10, 5],
    w: [3, 3, 5, 7],
    depthwise: false,
    args: { stride: 1, padding: 1, dilation: 1 },
  },
  {
    label: 'dense 3×3 s2',
    x: [2, 9, 10, 5],
    w: [3, 3, 5, 6],
    depthwise: false,
    args: { stride: 2, padding: 1, dilation: 1 },
  },
  {
    label: 'pointwise',
    x: [2, 7, 6, 12],
    w: [1, 1, 12, 9],
    depthwise: false,
    args: { stride: 1, padding: 0, dilation: 1 },
  },
  {
    label: 'dense dilated 2',
    x: [1, 11, 9, 4],
    w: [3, 3, 4, 5],
    depthwise: false,
    args: { stride: 1, padding: 2, dilation: 2 },
  },
  {
    label: 'depthwise 3×3',
    x: [2, 9, 8, 6],
    w: [3, 3, 6, 1],
    depthwise: true,
    args: { stride: 1, padding: 1, dilation: 1 },
  },
  {
    label: 'depthwise 3×3 s2',
    x: [2, 10, 8, 6],
    w: [3, 3, 6, 1],
    depthwise: true,
    args: { stride: 2, padding: 1, dilation: 1 },
  },
  {
    label: 'depthwise 5×5 dil 3',
    x: [1, 14, 13, 4],
    w: [5, 5, 4, 1],
    depthwise: true,
    args: { stride: 1, padding: 6, dilation: 3 },
  },
];

const ours = (c: Case) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
  c.depthwise
    ? depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, c.args as ConvArgs)
    : conv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, c.args as ConvArgs);

function caseData(c: Case, seed: number): [Float32Array, Float32Array, Float32Array] {
  const rng = new Rng(seed);
  const cout = c.depthwise ? c.w[2] : c.w[3];
  return [randomArray(rng, c.x), randomArray(rng, c.w, 0.3), randomArray(rng, [cout])];
}

test('fused conv + bias on wasm equals unfused conv + add on cpu (values)', async () => {
  for (const [i, c] of CASES.entries()) {
    const [xv, wv, bv] = caseData(c, 21 + i);
    const inputs = (): [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D] => [
      tf.tensor4d(xv, c.x as [number, number, number, number]),
      tf.tensor4d(wv, c.w as [number, number, number, number]),
      tf.tensor1d(bv),
    ];
    const [y] = await runOn('wasm', () => [ours(c)(...inputs())]);
    const { stride: s, padding: p, dilation: d } = c.args;
    const pad: Pad4 = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
    const [ref] = await runOn('cpu', () => {
      const [x, w, b] = inputs();
      return [
        tf.add(
          c.depthwise
            ? tf.depthwiseConv2d(x, w, s, pad, 'NHWC', d)
            : tf.conv2d(x, w, s, pad, 'NHWC', d),
          b,
        ),
      ];
    });
    const r = relDiff(y, ref);
    assert.ok(r.rel < 1e-5, `${c.label} y: rel ${r.rel.toExponential(2)}`);
  }
});

// Gradients of input, weights and bias against central differences of the same forward. The conv
// is linear in each input, so the central difference is exact at any step: a step of 0.25 only
// lowers float32 noise (a non-linear error would show up, not cancel).
for (const be of ['wasm', 'cpu'] as const) {
  test(`fused conv + bias gradients on ${be} match finite differences`, async () => {
    const prev = tf.getBackend();
    await tf.setBackend(be);
    try {
      for (const [i, c] of CASES.entries()) {
        const [xv, wv, bv] = caseData(c, 21 + i);
        const xs = [tf.tensor(xv, c.x), tf.tensor(wv, c.w), tf.tensor(bv, [bv.length])];
        const r = gradCheck(`${c.label} on ${be}`, ours(c), xs, {
          eps: 0.25,
          sampled: 16,
          directions: 4,
        });
        tf.dispose(xs);
        console.log(`[gradcheck] ${describeCheck(r)}`);
        assert.ok(r.pass, describeCheck(r));
      }
    } finally {
      await tf.setBackend(prev);
    }
  });
}
