/**
 * Torch bicubic (A = −0.75, align_corners=False, clamped taps) as interpolation matrices.
 * Expected values are derived by hand from the cubic-convolution formula
 *   |x| ≤ 1: ((A+2)|x| − (A+3))|x|² + 1 = (1.25|x| − 2.25)|x|² + 1
 *   1<|x|<2: ((A|x| − 5A)|x| + 8A)|x| − 4A = ((−0.75|x| + 3.75)|x| − 6)|x| + 3
 * with src = (dst + 0.5)·in/out − 0.5, t = src − ⌊src⌋, taps ⌊src⌋−1 … ⌊src⌋+2 clamped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { bicubicMatrix, cubicWeights, resizeBicubicLast2 } from './bicubic.ts';
import { traceOps } from './trace.ts';

await useBackend();

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6, msg = ''): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${msg}[${i}]: got ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

test('cubic weights: t = 0 is exactly (0, 1, 0, 0); t = 0.5 is symmetric', () => {
  assert.deepEqual(cubicWeights(0), [0, 1, 0, 0]);
  // x = 1.5: ((−1.125 + 3.75)·1.5 − 6)·1.5 + 3 = −0.09375;  x = 0.5: (0.625 − 2.25)·0.25 + 1 = 0.59375
  assert.deepEqual(cubicWeights(0.5), [-0.09375, 0.59375, 0.59375, -0.09375]);
});

test('out == in gives the exact identity matrix', () => {
  for (const n of [1, 5, 16, 256]) {
    const m = bicubicMatrix(n, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) assert.equal(m[i * n + j], i === j ? 1 : 0, `n=${n} (${i},${j})`);
    }
  }
});

test('4 → 2 (scale 2): src = 0.5 and 2.5, both t = 0.5, border taps folded', () => {
  // row 0: taps −1,0,1,2 → clamp 0,0,1,2: in0 = −0.09375 + 0.59375 = 0.5
  // row 1: taps 1,2,3,4 → clamp 1,2,3,3: in3 = 0.59375 − 0.09375 = 0.5
  close(bicubicMatrix(2, 4), [0.5, 0.59375, -0.09375, 0, 0, -0.09375, 0.59375, 0.5]);
});

test('2 → 5 (scale 0.4): negative source coordinate is not clamped before the floor', () => {
  // d=0: src −0.3 → ⌊⌋ −1, t 0.7: w = (−0.04725, 0.32625, 0.83125, −0.11025) on taps 0,0,0,1
  // d=1: src 0.1 → t 0.1: w = (−0.06075, 0.97875, 0.08875, −0.00675) on taps 0,0,1,1
  // d=2: src 0.5 → t 0.5: (−0.09375, 0.59375, 0.59375, −0.09375) on taps 0,0,1,1
  // d=3: src 0.9 → t 0.9: (−0.00675, 0.08875, 0.97875, −0.06075) on taps 0,0,1,1
  // d=4: src 1.3 → ⌊⌋ 1, t 0.3: (−0.11025, 0.83125, 0.32625, −0.04725) on taps 0,1,1,1
  close(
    bicubicMatrix(5, 2),
    [1.11025, -0.11025, 0.918, 0.082, 0.5, 0.5, 0.082, 0.918, -0.11025, 1.11025],
  );
});

test('rows of every matrix sum to 1', () => {
  for (const [o, i] of [
    [64, 256],
    [256, 1024],
    [2048, 256],
    [7, 3],
  ]) {
    const m = bicubicMatrix(o, i);
    for (let r = 0; r < o; r++) {
      let s = 0;
      for (let c = 0; c < i; c++) s += m[r * i + c];
      assert.ok(Math.abs(s - 1) < 1e-6, `${o}×${i} row ${r}: ${s}`);
    }
  }
});

test('2-D resize equals W_r·B·W_cᵀ in both product orders, over leading axes', async () => {
  const x = tf.randomNormal([2, 3, 4, 6], 0, 1, 'float32', 1); // (2, 3, Nt=4, Mt=6)
  for (const size of [
    [2, 5],
    [9, 3],
    [4, 2],
    [7, 6],
  ] as [number, number][]) {
    const [n, m] = size;
    const wr = bicubicMatrix(n, 4);
    const wc = bicubicMatrix(m, 6);
    const xs = await x.data();
    const want: number[] = [];
    for (let l = 0; l < 6; l++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let p = 0; p < 4; p++) {
            for (let q = 0; q < 6; q++) s += wr[i * 4 + p] * xs[l * 24 + p * 6 + q] * wc[j * 6 + q];
          }
          want.push(s);
        }
      }
    }
    const y = resizeBicubicLast2(x, size);
    assert.deepEqual(y.shape, [2, 3, n, m]);
    close(await y.data(), want, 1e-5, `size ${size}`);
    y.dispose();
  }
  x.dispose();
});

test('same size is an exact copy and is recorded as upsample_bicubic with 0 MACs', async () => {
  const x = tf.randomNormal([8, 16, 16]);
  const { result, records } = traceOps(() => resizeBicubicLast2(x, [16, 16], 'blk'));
  assert.deepEqual(Array.from(await result.data()), Array.from(await x.data()));
  assert.equal(records.length, 1);
  assert.equal(records[0].kind, 'upsample_bicubic');
  assert.equal(records[0].macs, 0);
  assert.equal(records[0].scope, 'blk');
  tf.dispose([x, result]);
});

test('no tensors leak', () => {
  const x = tf.randomNormal([8, 16, 32]);
  const before = tf.memory().numTensors;
  const y = resizeBicubicLast2(x, [4, 8]);
  assert.equal(tf.memory().numTensors, before + 1);
  tf.dispose([x, y]);
});
