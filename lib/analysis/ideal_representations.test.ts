/**
 * The paper's §3.2 pseudo-inverse analysis (ideal_representations.ts): the solve recovers a known W,
 * separable labels reconstruct perfectly, ignored pixels drop out, cosine similarity, label
 * resampling, and decoder features of a real OffSeg-T come out as an N×C matrix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, pseudoInverse } from 'ml-matrix';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../rng.ts';
import { createModel } from '../models/registry.ts';
import type { OffSeg } from '../models/offseg.ts';
import { IoUAccumulator } from '../eval/iou_metric.ts';
import {
  cosineSimilarity,
  decoderFeatures,
  idealRepresentation,
  meanOffDiagonal,
  reconstruct,
  resampleLabels,
  solveRepresentation,
  validPixels,
} from './ideal_representations.ts';

await useBackend('wasm');

function randomMatrix(rng: Rng, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, rng.next() * 2 - 1);
  return m;
}

test('the least-squares solve recovers a known W from T = W·Eᵀ', () => {
  const rng = new Rng(1);
  const E = randomMatrix(rng, 300, 24); // N=300 pixels, C=24, full column rank
  const W = randomMatrix(rng, 7, 24); // K=7
  const T = W.mmul(E.transpose());
  const Wstar = solveRepresentation(E, T);
  const d = Wstar.clone().sub(W).abs().max();
  assert.ok(d < 1e-6, `max |ΔW| = ${d}`);
});

test('W* equals M·(Eᵀ)† computed with the SVD pseudo-inverse (one-hot M)', () => {
  const rng = new Rng(4);
  const E = randomMatrix(rng, 120, 10);
  const labels = Int32Array.from({ length: 120 }, () => Math.floor(rng.next() * 4));
  const M = Matrix.zeros(4, 120);
  labels.forEach((k, i) => M.set(k, i, 1));
  const ref = M.mmul(pseudoInverse(E.transpose())); // the paper's formula, literally
  const d = idealRepresentation(E, labels, 4).W.sub(ref).abs().max();
  assert.ok(d < 1e-6, `max |ΔW| = ${d}`);
});

test('rank-deficient E (dead channels): the minimum-norm solution still fits T', () => {
  const rng = new Rng(2);
  const E = randomMatrix(rng, 200, 12);
  for (let i = 0; i < 200; i++) E.set(i, 5, 0); // a dead ReLU channel
  const W = randomMatrix(rng, 4, 12);
  W.setColumn(5, [0, 0, 0, 0]);
  const Wstar = solveRepresentation(E, W.mmul(E.transpose()));
  assert.ok(Wstar.clone().sub(W).abs().max() < 1e-6);
});

test('linearly separable labels are reconstructed with mIoU 100', () => {
  const rng = new Rng(3);
  const K = 5;
  const N = 400;
  const labels = Int32Array.from({ length: N }, () => Math.floor(rng.next() * K));
  // Features: a one-hot block (so M = W·Eᵀ has an exact solution) plus noise channels.
  const E = randomMatrix(rng, N, 16);
  for (let i = 0; i < N; i++) for (let k = 0; k < K; k++) E.set(i, k, labels[i] === k ? 1 : 0);
  const { W, counts } = idealRepresentation(E, labels, K);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    N,
  );
  const pred = reconstruct(W, E);
  const acc = new IoUAccumulator({ numClasses: K });
  acc.update(pred, labels);
  assert.equal(acc.compute().reported.mIoU, 100);
});

test('ignored pixels are removed before the solve', () => {
  const E = new Matrix([
    [1, 0],
    [0, 1],
    [5, 5],
  ]);
  const v = validPixels(E, [0, 1, 255]);
  assert.deepEqual(v.E.to2DArray(), [
    [1, 0],
    [0, 1],
  ]);
  assert.deepEqual([...v.labels], [0, 1]);
});

test('cosine similarity: identical rows 1, opposite −1, orthogonal 0', () => {
  const s = cosineSimilarity([
    [1, 2],
    [2, 4],
    [-1, -2],
    [2, -1],
  ]);
  assert.ok(Math.abs(s[0][1] - 1) < 1e-12);
  assert.ok(Math.abs(s[0][2] + 1) < 1e-12);
  assert.ok(Math.abs(s[0][3]) < 1e-12);
  assert.ok(
    Math.abs(
      meanOffDiagonal([
        [1, 0.5],
        [0.5, 1],
      ]) - 0.5,
    ) < 1e-12,
  );
});

test('labels are resampled to the feature grid by nearest neighbour at pixel centres', () => {
  // 4×4 with a distinct value per 2×2 block → 2×2
  const lab = [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3];
  assert.deepEqual([...resampleLabels(lab, 4, 4, 2, 2)], [0, 1, 2, 3]);
});

test('decoderFeatures: OffSeg-T align output as an (H/4·W/4)×256 float64 matrix', () => {
  const m = createModel('offseg-t', { numClasses: 5 }) as OffSeg;
  m.eval();
  const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const { E, h, w } = decoderFeatures(m, x);
  assert.deepEqual([E.rows, E.columns, h, w], [256, 256, 16, 16]);
  x.dispose();
  m.dispose();
});
