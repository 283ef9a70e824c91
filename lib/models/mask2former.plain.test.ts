/**
 * mask2former-swin-t (ADE20K, K = 150): the plain model has 47,439,633 parameters and no Offset
 * Learning keys (its OL variant adds exactly 131,072, mask2former.test.ts), and a forward pass on
 * a small input gives 10 predictions and class scores at the input resolution.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from './registry.ts';
import { Mask2Former } from './mask2former.ts';

await useBackend('wasm');

const model = createModel('mask2former-swin-t', { numClasses: 150 }) as Mask2Former;

test('Mask2Former-Swin-T: 47,439,633 parameters, no Offset Learning', () => {
  assert.equal(model.numParams(), 47_439_633);
  assert.equal(model.numParams() + 131_072, 47_570_705);
  assert.ok(!model.stateEntries().some((e) => e.key.includes('offset_learning')));
  assert.equal(model.decodeHead.offsetLearning, undefined);
});

test('forward on 1×32×64: class scores at the input size; 10 predictions at stride 4', () => {
  const x = tf.randomNormal([1, 32, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = model.forward(x); // also builds the per-size caches (Swin bias one-hots, shift masks)
  assert.deepEqual(y.shape, [1, 32, 64, 150]);
  // Σ_k scores = Σ_q (1 − p_q(no object))·sigmoid(mask_q) ∈ (0, 100)
  const total = tf.tidy(() => tf.sum(y, -1));
  const [lo, hi] = [tf.min(total).dataSync()[0], tf.max(total).dataSync()[0]];
  assert.ok(lo > 0 && hi < 100 && Number.isFinite(hi), `${lo} … ${hi}`);
  tf.dispose([y, total]);
  const before = tf.memory().numTensors;
  const { cls, masks } = model.predictions(x);
  assert.equal(cls.length, 10);
  assert.equal(masks.length, 10);
  for (const c of cls) assert.deepEqual(c.shape, [1, 100, 151]);
  for (const m of masks) assert.deepEqual(m.shape, [1, 8, 16, 100]);
  tf.dispose([...cls, ...masks]);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked beyond the caches');
  x.dispose();
});
