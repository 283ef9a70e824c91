/**
 * Parity of Offset Learning with the official module (fixture `ol`: K=19, C=64, batch 2):
 * forward logits and the gradient of L = Σ logits·G w.r.t. the input and every parameter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  expectParity,
  fixtureFile,
  useBackend,
  PARITY_SKIP,
} from '../../../test/helpers/parity.ts';
import { readNpyNhwc } from '../../io/tensor_npy.ts';
import { readTorchCheckpoint, loadStateDict } from '../../io/checkpoint.ts';
import { oursToTorch } from '../core/module.ts';
import { OffsetLearning } from './offset_learning.ts';

await useBackend(process.env.OFFSEG_BACKEND ? undefined : 'cpu');

function build(): OffsetLearning {
  const ol = new OffsetLearning({ numClasses: 19, channels: 64 }).assignPaths();
  const report = loadStateDict(ol, readTorchCheckpoint(fixtureFile('ol', 'checkpoint.pth')));
  assert.equal(report.missing.length, 0);
  assert.equal(report.unexpected.length, 0);
  return ol;
}

test('ol: parameter count is K·C + 2C² + 2K', { skip: PARITY_SKIP }, () => {
  const ol = new OffsetLearning({ numClasses: 19, channels: 64 });
  assert.equal(ol.numParams(), 9446);
  assert.equal(new OffsetLearning({ numClasses: 150, channels: 256 }).numParams(), 169772);
});

test('ol: forward logits match the official module', { skip: PARITY_SKIP }, async () => {
  const ol = build();
  const x = readNpyNhwc(fixtureFile('ol', 'x.npy'));
  const y = ol.forward(x);
  await expectParity('ol', 'logits', tf.transpose(y, [0, 3, 1, 2]));
});

test('ol: gradients w.r.t. input and every parameter match', { skip: PARITY_SKIP }, async () => {
  const ol = build();
  const x = readNpyNhwc(fixtureFile('ol', 'x.npy'));
  const g = readNpyNhwc(fixtureFile('ol', 'grad_out.npy'));
  const params = ol.namedParameters();
  const f = (xin: tf.Tensor, ...vars: tf.Tensor[]) => {
    void vars;
    return tf.sum(tf.mul(ol.forward(xin as tf.Tensor4D), g));
  };
  // d/dx via tf.grad; d/dθ via variableGrads (same forward).
  const gx = tf.grad((xin: tf.Tensor) => f(xin))(x);
  await expectParity('ol', 'grad_x', tf.transpose(gx, [0, 3, 1, 2]));
  const { grads } = tf.variableGrads(
    () => f(x) as tf.Scalar,
    params.map((p) => p.variable),
  );
  for (const p of params) {
    const ours = oursToTorch(grads[p.variable.name], p.layout);
    await expectParity('ol', `grad_${p.key}`, ours);
  }
});
