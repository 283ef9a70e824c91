/**
 * Global-norm gradient clipping on hand-computed cases: ‖(3, 4), (12)‖ = 13, so maxNorm 1.3
 * scales every gradient by 1.3 / (13 + 1e-6); a norm under maxNorm leaves them untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { clipGradNorm } from './clip_grad.ts';

await useBackend('cpu');

const grads = () =>
  new Map<string, tf.Tensor>([
    ['a', tf.tensor1d([3, 4])],
    ['b', tf.tensor2d([[12]])],
  ]);

test('a norm above maxNorm scales every gradient by maxNorm / (norm + 1e-6)', () => {
  const g = grads();
  const total = clipGradNorm(g, 1.3);
  assert.ok(Math.abs(total - 13) < 1e-6);
  const c = 1.3 / (13 + 1e-6);
  const a = g.get('a')!.dataSync();
  const b = g.get('b')!.dataSync();
  assert.ok(Math.abs(a[0] - 3 * c) < 1e-6 && Math.abs(a[1] - 4 * c) < 1e-6);
  assert.ok(Math.abs(b[0] - 12 * c) < 1e-6);
  assert.deepEqual(g.get('b')!.shape, [1, 1]);
  tf.dispose([...g.values()]);
});

test('a norm at or below maxNorm leaves the gradients as they are', () => {
  const g = grads();
  const a = g.get('a')!;
  assert.ok(Math.abs(clipGradNorm(g, 20) - 13) < 1e-6);
  assert.equal(g.get('a'), a);
  assert.deepEqual(Array.from(a.dataSync()), [3, 4]);
  assert.throws(() => clipGradNorm(g, 0), /maxNorm must be positive/);
  tf.dispose([...g.values()]);
});
