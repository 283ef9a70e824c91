/**
 * Training on WASM end to end:
 * - the gradients we add where tfjs-core has none (GatherNd, ScatterNd, StridedSlice,
 *   DepthToSpace) against independent formulations, on both backends;
 * - a broad training step (every op family the models use, forward + backward) run on CPU
 *   under tf.profile: every kernel it used must exist on WASM, and loss and gradients must
 *   agree between the backends;
 * - a tiny convnet (conv 3×3 s2, depthwise 3×3, 1×1, GELU via erf, bilinear resize, softmax
 *   cross-entropy): loss and all variable gradients equal on WASM and CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { expectBackendsAgree, randomArray, relDiff, runOn } from './kernels/testing.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';

await useBackend('wasm');
registerWasmTrainingKernels();
const REL = 1e-4;
const rng = new Rng(21);

/** Compare f's gradient with ref's on both backends (same input). */
async function sameGrad(
  label: string,
  shape: number[],
  f: (x: tf.Tensor) => tf.Tensor,
  ref: (x: tf.Tensor) => tf.Tensor,
): Promise<void> {
  const v = randomArray(rng, shape);
  const r = randomArray(rng, shape.length ? [1] : [1]);
  const g = (h: (x: tf.Tensor) => tf.Tensor) => (): tf.Tensor[] =>
    tf.grads((x: tf.Tensor) => tf.sum(tf.mul(tf.square(h(x)), r[0] + 2)))([tf.tensor(v, shape)]);
  for (const be of ['wasm', 'cpu'] as const) {
    const [ours] = await runOn(be, g(f));
    const [want] = await runOn('cpu', g(ref));
    const d = relDiff(ours, want);
    assert.ok(d.rel <= REL, `${label} on ${be}: rel ${d.rel}`);
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
    await sameGrad(
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
    await sameGrad(
      'stridedSlice',
      [6, 7, 8],
      (x) => tf.stridedSlice(x, [1, 6, 0], [6, 0, 8], [2, -2, 3]),
      (x) => gathers(x, [range(1, 6, 2), range(6, 0, -2), range(0, 8, 3)]),
    );
    await sameGrad(
      'stridedSlice shrink',
      [6, 7, 8],
      // (The CPU kernel mis-slices shrink + step > 1, so the shrink case uses unit steps.)
      (x) => tf.stridedSlice(x, [2, 0, 1], [3, 7, 8], [1, 1, 1], 0, 0, 0, 0, 0b001),
      (x) => tf.squeeze(gathers(x, [[2], range(0, 7, 1), range(1, 8, 1)]), [0]),
    );
  });
  test('DepthToSpace = reshape/transpose', async () => {
    await sameGrad(
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
    await sameGrad(
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

/** One loss touching every op family of the OffSeg / SegFormer / SegNeXt training steps. */
function broadStep(p: Record<string, Float32Array>): tf.Tensor[] {
  const v = (k: string, shape: number[]): tf.Tensor => tf.tensor(p[k], shape);
  const params = [
    v('w1', [3, 3, 3, 8]),
    v('w2', [3, 3, 8, 16]),
    v('dw1', [1, 7, 16, 1]),
    v('dw2', [7, 1, 16, 1]),
    v('dw3', [5, 5, 16, 1]),
    v('qkv', [16, 48]),
    v('table', [9, 2]),
    v('cls', [16, 5]),
  ];
  const x = v('x', [2, 16, 16, 3]) as tf.Tensor4D;
  const labels = tf.tensor1d(
    Array.from({ length: 2 * 16 * 16 }, (_, i) => (i * 7) % 5),
    'int32',
  );
  const f = (
    w1: tf.Tensor,
    w2: tf.Tensor,
    dw1: tf.Tensor,
    dw2: tf.Tensor,
    dw3: tf.Tensor,
    qkv: tf.Tensor,
    table: tf.Tensor,
    cls: tf.Tensor,
  ): tf.Scalar => {
    const pad = (a: number, b: number): tf.backend_util.ExplicitPadding => [
      [0, 0],
      [a, a],
      [b, b],
      [0, 0],
    ];
    let h = tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 1, pad(1, 1))); // (2,16,16,8)
    h = tf.conv2d(h, w2 as tf.Tensor4D, 2, pad(1, 1)); // (2,8,8,16)
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    const a = tf.depthwiseConv2d(
      tf.depthwiseConv2d(h, dw1 as tf.Tensor4D, 1, pad(0, 3)),
      dw2 as tf.Tensor4D,
      1,
      pad(3, 0),
    );
    h = tf.add(h, tf.mul(a, tf.sigmoid(tf.depthwiseConv2d(h, dw3 as tf.Tensor4D, 1, pad(2, 2)))));
    h = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2)))); // GELU
    // Attention over 8×8 tokens, 2 heads, relative bias gathered from a table.
    const t = tf.reshape(h, [2, 64, 16]);
    const [q, k, vv] = tf.split(
      tf.reshape(tf.matMul(tf.reshape(t, [128, 16]), qkv), [2, 64, 48]),
      3,
      2,
    );
    const heads = (u: tf.Tensor): tf.Tensor =>
      tf.transpose(tf.reshape(u, [2, 64, 2, 8]), [0, 2, 1, 3]); // (2,2,64,8)
    const bias = tf.transpose(
      tf.reshape(
        tf.gather(
          table,
          tf.tensor1d(
            Array.from({ length: 4096 }, (_, i) => i % 9),
            'int32',
          ),
        ),
        [64, 64, 2],
      ),
      [2, 0, 1],
    );
    const att = tf.softmax(tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), 0.35), bias));
    let o = tf.reshape(tf.transpose(tf.matMul(att, heads(vv)), [0, 2, 1, 3]), [2, 8, 8, 16]);
    o = tf.add(
      o,
      tf.reshape(
        tf.gatherND(
          o,
          tf.tensor2d(
            [
              [0, 1, 2],
              [1, 2, 3],
            ],
            [2, 3],
            'int32',
          ),
        ),
        [2, 1, 1, 16],
      ),
    );
    o = tf.maxPool(
      tf.pad(o, [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ]) as tf.Tensor4D,
      2,
      2,
      'valid',
    ); // (2,4,4,16)
    // Batch folded into channels: the CPU ResizeNearestNeighborGrad is wrong for batch > 1.
    const nb = tf.reshape(tf.transpose(tf.tile(o, [1, 1, 1, 1]), [1, 2, 0, 3]), [1, 4, 4, 32]);
    o = tf.transpose(
      tf.reshape(tf.image.resizeNearestNeighbor(nb as tf.Tensor4D, [8, 8]), [8, 8, 2, 16]),
      [2, 0, 1, 3],
    );
    o = tf.concat(
      [
        tf.slice(o, [0, 0, 0, 0], [2, 8, 8, 8]),
        tf.stridedSlice(o, [0, 0, 0, 8], [2, 8, 8, 16], [1, 1, 1, 1]),
      ],
      3,
    );
    o = tf.image.resizeBilinear(o as tf.Tensor4D, [16, 16], false, true);
    o = tf.where(
      tf.logicalAnd(tf.greater(o, -2), tf.less(o, 2.5)),
      tf.clipByValue(o, -1, 1),
      tf.mul(o, 0.1),
    );
    const logits = tf.reshape(tf.matMul(tf.reshape(o, [512, 16]), cls), [512, 5]);
    const onehot = tf.cast(tf.oneHot(labels, 5), 'float32');
    const ce = tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1)));
    return tf.add(ce, tf.mul(tf.max(tf.sqrt(tf.add(tf.abs(logits), 1))), 1e-3)) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(f)(params);
  return [value, ...grads];
}

function broadParams(): Record<string, Float32Array> {
  const r = new Rng(33);
  const shapes: Record<string, [number[], number]> = {
    x: [[2, 16, 16, 3], 1],
    w1: [[3, 3, 3, 8], 0.3],
    w2: [[3, 3, 8, 16], 0.2],
    dw1: [[1, 7, 16, 1], 0.3],
    dw2: [[7, 1, 16, 1], 0.3],
    dw3: [[5, 5, 16, 1], 0.2],
    qkv: [[16, 48], 0.3],
    table: [[9, 2], 1],
    cls: [[16, 5], 0.3],
  };
  return Object.fromEntries(
    Object.entries(shapes).map(([k, [s, sc]]) => [k, randomArray(r, s, sc)]),
  );
}

describe('broad training step', () => {
  test('every kernel it uses (CPU profile) exists on WASM', async () => {
    const p = broadParams();
    await tf.setBackend('cpu');
    const prof = await tf.profile(() => {
      tf.dispose(broadStep(p));
    });
    await tf.setBackend('wasm');
    // Profile names also include customGrad scopes (e.g. logSoftmax__op): keep real kernels.
    const names = [...new Set(prof.kernelNames)].filter((k) => tf.getKernel(k, 'cpu')).sort();
    const missing = names.filter((k) => !tf.getKernel(k, 'wasm'));
    console.log(`[kernels] training step uses ${names.length}: ${names.join(' ')}`);
    assert.deepEqual(missing, [], `missing on wasm: ${missing.join(', ')}`);
  });
  test('no tensor or WASM buffer leaks', () => {
    const p = broadParams();
    const run = (): void => tf.dispose(tf.tidy(() => broadStep(p)));
    run(); // warm-up (lazily created constants)
    const before = { tensors: tf.memory().numTensors, ids: tf.engine().backend.numDataIds() };
    run();
    assert.equal(tf.memory().numTensors, before.tensors, 'engine tensors leaked');
    assert.equal(tf.engine().backend.numDataIds(), before.ids, 'wasm buffers leaked');
  });
  test('loss and gradients agree with CPU', async () => {
    const p = broadParams();
    const d = await expectBackendsAgree('broad step', () => broadStep(p), REL);
    console.log(`[kernels] broad step worst rel diff ${d.rel.toExponential(2)}`);
  });
});

describe('tiny convnet end to end', () => {
  test('loss and all variable gradients equal on WASM and CPU', async () => {
    const r = new Rng(44);
    const init: Record<string, [number[], number]> = {
      c1: [[3, 3, 3, 12], 0.3],
      b1: [[12], 0.1],
      dw: [[3, 3, 12, 1], 0.3],
      pw: [[1, 1, 12, 6], 0.3],
      b2: [[6], 0.1],
    };
    const vals = Object.fromEntries(
      Object.entries(init).map(([k, [s, sc]]) => [k, randomArray(r, s, sc)]),
    );
    const x = randomArray(r, [2, 20, 20, 3]);
    const labels = Array.from({ length: 2 * 20 * 20 }, (_, i) => (i * 13) % 6);
    const step = (): tf.Tensor[] => {
      const vars = Object.fromEntries(
        Object.entries(init).map(([k, [s]]) => [
          k,
          tf.variable(tf.tensor(vals[k], s), true, `tiny_${k}_${tf.getBackend()}`),
        ]),
      );
      const { value, grads } = tf.variableGrads(() => {
        let h = tf.conv2d(tf.tensor4d(x, [2, 20, 20, 3]), vars.c1 as tf.Variable<tf.Rank.R4>, 2, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]);
        h = tf.add(h, vars.b1);
        h = tf.depthwiseConv2d(h, vars.dw as tf.Variable<tf.Rank.R4>, 1, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]);
        h = tf.add(tf.matMul(tf.reshape(h, [200, 12]), tf.reshape(vars.pw, [12, 6])), vars.b2); // 1×1 conv
        h = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2)))); // GELU
        h = tf.image.resizeBilinear(
          tf.reshape(h, [2, 10, 10, 6]) as tf.Tensor4D,
          [20, 20],
          false,
          true,
        );
        const logits = tf.reshape(h, [800, 6]);
        return tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.tensor1d(labels, 'int32'), 6),
          logits,
        ) as tf.Scalar;
      }, Object.values(vars));
      const out = [value, ...Object.keys(init).map((k) => grads[vars[k].name])];
      Object.values(vars).forEach((v) => v.dispose());
      return out;
    };
    const d = await expectBackendsAgree('tiny convnet', step, REL);
    console.log(`[kernels] tiny convnet loss+grads worst rel diff ${d.rel.toExponential(2)}`);
  });
});
