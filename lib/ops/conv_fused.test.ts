/**
 * The traced convolutions with a bias run fused kernels (bias inside the conv / matMul). On
 * WASM they must equal tfjs' unfused conv + add on the CPU backend, values and gradients of
 * input, weights and bias: dense k×k (strided), pointwise, depthwise and dilated (unfused path).
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
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

test('fused conv + bias on wasm equals unfused conv + add on cpu (values and gradients)', async () => {
  const rng = new Rng(21);
  for (const c of CASES) {
    const cout = c.depthwise ? c.w[2] : c.w[3];
    const xv = randomArray(rng, c.x);
    const wv = randomArray(rng, c.w, 0.3);
    const bv = randomArray(rng, [cout]);
    const program = (f: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D) => () => {
      const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
      const w = tf.tensor4d(wv, c.w as [number, number, number, number]);
      const b = tf.tensor1d(bv);
      const y = f(x, w, b);
      const dy = tf.sin(tf.reshape(tf.range(0, y.size), y.shape)); // fixed, non-uniform
      const g = tf.grads((a: tf.Tensor, k: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(f(a as tf.Tensor4D, k as tf.Tensor4D, bb as tf.Tensor1D), dy)),
      );
      return [y, ...g([x, w, b])];
    };
    const ours = await runOn(
      'wasm',
      program((x, w, b) =>
        c.depthwise
          ? depthwiseConv2d(x, w, b, c.args as ConvArgs)
          : conv2d(x, w, b, c.args as ConvArgs),
      ),
    );
    const { stride: s, padding: p, dilation: d } = c.args;
    const pad: Pad4 = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
    const ref = await runOn(
      'cpu',
      program((x, w, b) =>
        tf.add(
          c.depthwise
            ? tf.depthwiseConv2d(x, w, s, pad, 'NHWC', d)
            : tf.conv2d(x, w, s, pad, 'NHWC', d),
          b,
        ),
      ),
    );
    ['y', 'dx', 'dw', 'db'].forEach((name, i) => {
      const r = relDiff(ours[i], ref[i]);
      assert.ok(r.rel < 1e-5, `${c.label} ${name}: rel ${r.rel.toExponential(2)}`);
    });
  }
});
