import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { segCrossEntropy, segCrossEntropyReference } from './loss.ts';

await useBackend();

function randomCase(b: number, h: number, w: number, k: number, stride: number, seed: number) {
  const logits = tf.randomNormal(
    [b, h / stride, w / stride, k],
    0,
    2,
    'float32',
    seed,
  ) as tf.Tensor4D;
  const raw = tf.randomUniformInt([b, h, w], 0, k + 2, seed + 1); // k, k+1 → ignored
  const labels = tf.where(tf.greaterEqual(raw, k), tf.fill([b, h, w], 255, 'int32'), raw);
  return { logits, labels: labels as tf.Tensor3D };
}

for (const [stride, label] of [
  [4, 'logits at 1/4 of the label size'],
  [1, 'logits at label size'],
] as const) {
  test(`custom-gradient loss = autodiff reference, value and gradient (${label})`, () => {
    const { logits, labels } = randomCase(2, 16, 12, 7, stride, 3);
    const a = segCrossEntropy(logits, labels).dataSync()[0];
    const r = segCrossEntropyReference(logits, labels).dataSync()[0];
    assert.ok(Math.abs(a - r) < 1e-6, `${a} vs ${r}`);
    const ga = tf.grad((x) => segCrossEntropy(x as tf.Tensor4D, labels))(logits);
    const gr = tf.grad((x) => segCrossEntropyReference(x as tf.Tensor4D, labels))(logits);
    const diff = tf.max(tf.abs(tf.sub(ga, gr))).dataSync()[0];
    const scale = tf.max(tf.abs(gr)).dataSync()[0];
    assert.ok(scale > 0 && diff < 1e-6 + 1e-4 * scale, `max |Δ| ${diff} (scale ${scale})`);
  });
}

test('the loss keeps no label-size tensor alive for the backward pass', () => {
  const { logits, labels } = randomCase(2, 64, 64, 50, 4, 5);
  const labelSize = 2 * 64 * 64 * 50 * 4; // bytes of one [B·H·W, K] float tensor
  const w = tf.variable(logits);
  let liveCustom = 0;
  let liveRef = 0;
  const before = tf.memory().numBytes;
  const g1 = tf.variableGrads(() => {
    const l = segCrossEntropy(w as tf.Tensor4D, labels);
    liveCustom = tf.memory().numBytes - before;
    return l;
  }, [w]);
  const g2 = tf.variableGrads(() => {
    const l = segCrossEntropyReference(w as tf.Tensor4D, labels);
    liveRef = tf.memory().numBytes - before;
    return l;
  }, [w]);
  assert.ok(
    liveCustom < labelSize,
    `custom loss keeps ${liveCustom} B (one label-size tensor: ${labelSize} B)`,
  );
  assert.ok(liveRef > 3 * labelSize, `reference keeps ${liveRef} B: the comparison is meaningless`);
  tf.dispose([g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
});
