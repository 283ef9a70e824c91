/**
 * The gradients we add where tfjs-core has none (GatherNd, ScatterNd, StridedSlice,
 * DepthToSpace), on WASM and CPU. No gradient is compared with tfjs autodiff (of another backend
 * or another formulation): on both backends the forward values must equal an independent
 * formulation (gathers, reshape/transpose, stack), and the gradient registered for the op must
 * match central differences of its forward (gradCheck, test/helpers/gradcheck.ts). The broad
 * training step is ./wasm_training.test.ts, the tiny convnet ./wasm_tiny_convnet.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCheck, gradCheck } from '../../test/helpers/gradcheck.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { randomArray, relDiff, runOn } from './kernels/testing.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';

await useBackend('wasm');
registerWasmTrainingKernels();
const rng = new Rng(21);

/**
 * On both backends: f(x) must equal the independent formulation ref(x) (forward values), and f's
 * gradient (tfjs autodiff through the gradient we registered) must match central differences of
 * f's forward (test/helpers/gradcheck.ts). The ops are linear, so the central difference is exact
 * at any step; 0.25 keeps float32 noise low.
 */
async function checkGrad(
  label: string,
  shape: number[],
  f: (x: tf.Tensor) => tf.Tensor,
  ref: (x: tf.Tensor) => tf.Tensor,
): Promise<void> {
  const v = randomArray(rng, shape);
  for (const be of ['wasm', 'cpu'] as const) {
    const [ours, want] = await runOn(be, () => [f(tf.tensor(v, shape)), ref(tf.tensor(v, shape))]);
    assert.ok(relDiff(ours, want).rel <= 1e-6, `${label} on ${be}: forward differs from ref`);
    const prev = tf.getBackend();
    await tf.setBackend(be);
    const x = tf.tensor(v, shape);
    const r = gradCheck(`${label} on ${be}`, f, [x], {
      eps: 0.25,
      maxCoords: 64,
      sampled: 24,
      directions: 4,
    });
    x.dispose();
    await tf.setBackend(prev);
    assert.ok(r.pass, describeCheck(r));
  }
}

describe('gradients added where tfjs-core has none', () => {
  test('GatherNd (duplicate indices) = gather on the flattened params', async () => {
    const idx = [
      [0, 1],
      [2, 3],
      [0, 1],
      [1, 0],
    ];
    await checkGrad(
      'gatherND',
      [3, 4, 5],
      (x) => tf.gatherND(x, tf.tensor2d(idx, [4, 2], 'int32')),
      (x) =>
        tf.gather(
          tf.reshape(x, [12, 5]),
          tf.tensor1d(
            idx.map(([a, b]) => a * 4 + b),
            'int32',
          ),
        ),
    );
  });
  test('StridedSlice (steps, negative step, shrink) = nested gathers', async () => {
    const range = (a: number, b: number, s: number): number[] => {
      const o: number[] = [];
      for (let i = a; s > 0 ? i < b : i > b; i += s) o.push(i);
      return o;
    };
    const gathers = (x: tf.Tensor, lists: number[][]): tf.Tensor =>
      lists.reduce((t, l, ax) => tf.gather(t, tf.tensor1d(l, 'int32'), ax), x);
    await checkGrad(
      'stridedSlice',
      [6, 7, 8],
      (x) => tf.stridedSlice(x, [1, 6, 0], [6, 0, 8], [2, -2, 3]),
      (x) => gathers(x, [range(1, 6, 2), range(6, 0, -2), range(0, 8, 3)]),
    );
    await checkGrad(
      'stridedSlice shrink',
      [6, 7, 8],
      // (The CPU kernel mis-slices shrink + step > 1, so the shrink case uses unit steps.)
      (x) => tf.stridedSlice(x, [2, 0, 1], [3, 7, 8], [1, 1, 1], 0, 0, 0, 0, 0b001),
      (x) => tf.squeeze(gathers(x, [[2], range(0, 7, 1), range(1, 8, 1)]), [0]),
    );
  });
  test('DepthToSpace = reshape/transpose', async () => {
    await checkGrad(
      'depthToSpace',
      [2, 3, 4, 8],
      (x) => tf.depthToSpace(x as tf.Tensor4D, 2),
      (x) =>
        tf.reshape(
          tf.transpose(tf.reshape(x, [2, 3, 4, 2, 2, 2]), [0, 1, 3, 2, 4, 5]),
          [2, 6, 8, 2],
        ),
    );
  });
  test('ScatterNd updates = gatherND of dy', async () => {
    const idx = tf.tensor2d([[1], [3], [1]], [3, 1], 'int32');
    await checkGrad(
      'scatterND',
      [3, 5],
      (u) => tf.scatterND(idx, u, [4, 5]),
      (u) =>
        tf.stack([
          tf.zeros([5]),
          tf.add(tf.gather(u, 0), tf.gather(u, 2)),
          tf.zeros([5]),
          tf.gather(u, 1),
        ]),
    );
  });
});
