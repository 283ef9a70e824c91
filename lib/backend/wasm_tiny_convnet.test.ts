/**
 * A tiny convnet trained end to end on WASM (conv 3×3 s2, depthwise 3×3, 1×1, GELU via erf,
 * bilinear resize, softmax cross-entropy): the loss must be equal on WASM and CPU, and every
 * variable gradient (tf.variableGrads) must match central differences of the loss on each
 * backend (fdCheck, test/helpers/fd_check.ts). No gradient is compared with tfjs autodiff of
 * another backend. The central-difference objective is summed in float64 from the per-pixel
 * terms, not taken from WASM's float32 mean (which jitters by a few ulp as the input moves).
 * The added gradients are ./wasm_added_grads.test.ts, the broad training step
 * ./wasm_training.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fdCheck } from '../../test/helpers/fd_check.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { expectBackendsAgree, randomArray, runOn } from './kernels/testing.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';

await useBackend('wasm');
registerWasmTrainingKernels();
const REL = 1e-4;

describe('tiny convnet end to end', () => {
  const r = new Rng(44);
  const init: Record<string, [number[], number]> = {
    c1: [[3, 3, 3, 12], 0.3],
    b1: [[12], 0.1],
    dw: [[3, 3, 12, 1], 0.3],
    pw: [[1, 1, 12, 6], 0.3],
    b2: [[6], 0.1],
  };
  const names = Object.keys(init);
  const vals = Object.fromEntries(
    Object.entries(init).map(([k, [s, sc]]) => [k, randomArray(r, s, sc)]),
  );
  const x = randomArray(r, [2, 20, 20, 3]);
  const labels = Array.from({ length: 2 * 20 * 20 }, (_, i) => (i * 13) % 6);
  /** Softmax cross-entropy per pixel (800) of the convnet with parameters v. */
  const perPixel = (v: Record<string, tf.Tensor>, reduction: tf.Reduction): tf.Tensor => {
    let h = tf.conv2d(tf.tensor4d(x, [2, 20, 20, 3]), v.c1 as tf.Tensor4D, 2, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    h = tf.add(h, v.b1);
    h = tf.depthwiseConv2d(h, v.dw as tf.Tensor4D, 1, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    h = tf.add(tf.matMul(tf.reshape(h, [200, 12]), tf.reshape(v.pw, [12, 6])), v.b2); // 1×1 conv
    h = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2)))); // GELU
    h = tf.image.resizeBilinear(
      tf.reshape(h, [2, 10, 10, 6]) as tf.Tensor4D,
      [20, 20],
      false,
      true,
    );
    const logits = tf.reshape(h, [800, 6]);
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 6);
    return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, reduction);
  };
  /** [mean loss, gradient of every variable] through tf.variableGrads on the current backend. */
  const step = (): tf.Tensor[] => {
    const vars = Object.fromEntries(
      Object.entries(init).map(([k, [s]]) => [
        k,
        tf.variable(tf.tensor(vals[k], s), true, `tiny_${k}_${tf.getBackend()}`),
      ]),
    );
    const { value, grads } = tf.variableGrads(
      () => perPixel(vars, tf.Reduction.SUM_BY_NONZERO_WEIGHTS) as tf.Scalar,
      Object.values(vars),
    );
    const out = [value, ...names.map((k) => grads[vars[k].name])];
    Object.values(vars).forEach((v) => v.dispose());
    return out;
  };

  test('loss equal on WASM and CPU (forward)', async () => {
    await expectBackendsAgree('tiny convnet loss', () => [step()[0]], REL);
  });
  // The variables' gradients against central differences of the same loss, summed in float64
  // from the per-pixel terms (the network is smooth: conv, depthwise, 1×1, erf GELU, bilinear).
  for (const be of ['wasm', 'cpu'] as const) {
    test(`all variable gradients on ${be} match central differences`, async () => {
      const [, ...grads] = await runOn(be, step);
      const prev = tf.getBackend();
      await tf.setBackend(be);
      try {
        const x0 = names.map((k) => vals[k]);
        const objective = (xs: Float32Array[]): number =>
          tf.tidy(() => {
            const v = Object.fromEntries(names.map((k, i) => [k, tf.tensor(xs[i], init[k][0])]));
            const l = perPixel(v, tf.Reduction.NONE).dataSync();
            let sum = 0;
            for (let i = 0; i < l.length; i++) sum += l[i];
            return sum / l.length;
          });
        const rel = fdCheck(objective, x0, grads, {
          coords: 3,
          directions: 2,
          eps: 1e-2,
          seed: 45,
        });
        const line = names.map((k, i) => `${k} ${rel[i].toExponential(2)}`).join(', ');
        console.log(`[gradcheck] tiny convnet on ${be}: ${line}`);
        rel.forEach((v, i) => assert.ok(v <= 1e-3, `${names[i]} on ${be}: rel ${v}`));
      } finally {
        await tf.setBackend(prev);
      }
    });
  }
});
