import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../../test/helpers/parity.ts';
import { createModel } from '../registry.ts';
import { segCrossEntropy } from '../../train/loss.ts';
import { setGradientCheckpointing } from './grad_checkpoint.ts';

await useBackend();

/** One train-mode step's loss, gradients and the live bytes while the tape is recording. */
function step(checkpointing: boolean) {
  setGradientCheckpointing(checkpointing);
  // drop path on, so the recomputation must replay the generator exactly
  const model = createModel('offseg-t', { numClasses: 5, seed: 1 });
  model.train();
  const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const y = tf.randomUniformInt([2, 64, 64], 0, 5, 8) as tf.Tensor3D;
  const params = model.namedParameters();
  const before = tf.memory().numBytes;
  let taped = 0;
  const { value, grads } = tf.variableGrads(
    () => {
      const l = segCrossEntropy(model.forward(x), y);
      taped = tf.memory().numBytes - before;
      return l;
    },
    params.map((p) => p.variable),
  );
  const out = {
    loss: value.dataSync()[0],
    grads: params.map((p) => grads[p.variable.name]?.dataSync().slice()), // conv_seg: unused
    keys: params.map((p) => p.key),
    stats: model.namedBuffers().map((b) => b.variable.dataSync().slice()),
    taped,
  };
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  setGradientCheckpointing(false);
  return out;
}

test('gradient checkpointing: same loss, gradients and BatchNorm statistics, less memory', () => {
  const plain = step(false);
  const ckpt = step(true);
  assert.equal(ckpt.loss, plain.loss);
  let worst = 0;
  let worstKey = '';
  // Biases of convs followed by train-mode BatchNorm have a zero gradient in exact arithmetic:
  // compare against a floor tied to the largest gradient instead of their own rounding noise.
  let global = 0;
  for (const g of plain.grads) if (g) for (const v of g) global = Math.max(global, Math.abs(v));
  plain.grads.forEach((g, i) => {
    const h = ckpt.grads[i];
    assert.equal(h === undefined, g === undefined, `gradient presence of ${plain.keys[i]}`);
    if (!g || !h) return;
    let scale = 1e-3 * global;
    for (const v of g) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < g.length; j++) {
      const rel = Math.abs(g[j] - h[j]) / scale;
      if (rel > worst) [worst, worstKey] = [rel, plain.keys[i]];
    }
  });
  assert.ok(worst < 1e-4, `largest relative gradient difference ${worst} at ${worstKey}`);
  plain.stats.forEach((s, i) => assert.deepEqual(ckpt.stats[i], s, `buffer ${i} changed twice`));
  assert.ok(
    ckpt.taped < plain.taped / 2,
    `taped bytes with checkpointing ${ckpt.taped}, without ${plain.taped}`,
  );
});
