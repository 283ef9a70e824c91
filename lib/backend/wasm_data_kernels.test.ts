/**
 * The heap-copy data-movement kernels (Slice, Concat, Pack, SplitV, Unpack, PadV2,
 * StridedSlice, DepthToSpace) and the leading-axes Sum/Mean replacements on WASM, compared with
 * the CPU backend: exact for data movement, 1e-5 relative for the reductions (forward values).
 * The gradient through the reductions is checked on each backend against independent
 * references, never against tfjs autodiff elsewhere: its closed form in float64 and central
 * differences of the forward (test/helpers/gradcheck.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeCheck, gradCheck } from '../../test/helpers/gradcheck.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { expectBackendsAgree, randomArray, relDiff, runOn } from './kernels/testing.ts';

await useBackend('wasm');

const rng = new Rng(11);
function rand(shape: number[]): () => tf.Tensor {
  const v = randomArray(rng, shape);
  return () => tf.tensor(v, shape);
}
function ints(shape: number[]): () => tf.Tensor {
  const v = Int32Array.from(randomArray(rng, shape, 50), Math.round);
  return () => tf.tensor(v, shape, 'int32');
}
const exact = (label: string, fn: () => tf.Tensor[]): Promise<unknown> =>
  expectBackendsAgree(label, fn, 0);

describe('Slice / StridedSlice', () => {
  test('slices of ranks 1–5, float and int', async () => {
    const a = rand([7, 9, 10, 6]);
    const b = ints([5, 4, 3, 2, 6]);
    const c = rand([13]);
    await exact('slice', () => [
      tf.slice(a(), [1, 2, 3, 0], [4, 5, 6, 6]),
      tf.slice(a(), [0, 0, 0, 2], [7, 9, 10, 3]),
      tf.slice(a(), [2, 0, 0, 0], [3, -1, -1, -1]),
      tf.slice(b(), [1, 1, 0, 1, 2], [2, 3, 3, 1, 4]),
      tf.slice(c(), [4], [5]),
      tf.slice(a(), [3, 3, 3, 3], [0, 2, 2, 2]),
    ]);
  });
  test('strided slices: steps, negative steps, masks', async () => {
    const a = rand([8, 9, 10, 4]);
    const b = ints([6, 7, 5]);
    await exact('stridedSlice', () => [
      tf.stridedSlice(a(), [0, 1, 1, 0], [8, 9, 10, 4], [1, 2, 2, 1]),
      tf.stridedSlice(a(), [1, 0, 0, 0], [7, 9, 10, 4], [3, 1, 3, 2]),
      tf.stridedSlice(a(), [7, 8, 9, 3], [0, 0, 0, 0], [-2, -3, -1, -1]),
      tf.stridedSlice(a(), [0, 2, 0, 0], [0, 7, 0, 0], [1, 1, 1, 1], 0b1101, 0b1101),
      tf.stridedSlice(a(), [2, 0, 3, 0], [3, 9, 10, 4], [1, 1, 1, 1], 0, 0, 0, 0, 0b0001),
      tf.stridedSlice(b(), [1, 0], [5, 7], [2, 3], 0, 0, 0, 0b10),
      tf.stridedSlice(a(), [1, 2], [5, 4], [1, 1], 0, 0, 0b01),
    ]);
  });
});

describe('Concat / Pack / SplitV / Unpack', () => {
  test('concat on every axis, with an empty input, float and int', async () => {
    const xs = [rand([2, 3, 4, 5]), rand([2, 3, 4, 5]), rand([2, 3, 4, 5])];
    const e = rand([2, 0, 4, 5]);
    const i1 = ints([3, 4]);
    const i2 = ints([3, 2]);
    await exact('concat', () => [
      ...[0, 1, 2, 3].map((ax) =>
        tf.concat(
          xs.map((f) => f()),
          ax,
        ),
      ),
      tf.concat([xs[0](), e(), xs[1]()], 1),
      tf.concat([i1(), i2()], 1),
      tf.concat([xs[0](), xs[1]()], -1),
    ]);
  });
  test('stack / split / unstack', async () => {
    const xs = [rand([3, 4, 5]), rand([3, 4, 5])];
    const y = rand([6, 7, 8]);
    await exact('pack/split/unpack', () => [
      tf.stack(
        xs.map((f) => f()),
        0,
      ),
      tf.stack(
        xs.map((f) => f()),
        2,
      ),
      tf.stack(
        xs.map((f) => f()),
        -1,
      ),
      ...tf.split(y(), 3, 0),
      ...tf.split(y(), [2, -1, 3], 2),
      ...tf.split(y(), [1, 6], 1),
      ...tf.unstack(y(), 0),
      ...tf.unstack(y(), 1),
      ...tf.unstack(y(), -1),
    ]);
  });
});

describe('PadV2 / DepthToSpace', () => {
  test('pads of ranks 1–5 and constants', async () => {
    const a = rand([2, 5, 6, 3]);
    const b = ints([3, 4]);
    const c = rand([2, 3, 2, 2, 3]);
    const d = rand([9]);
    await exact('pad', () => [
      tf.pad(a(), [
        [0, 0],
        [1, 1],
        [2, 3],
        [0, 0],
      ]),
      tf.pad(
        a(),
        [
          [1, 0],
          [0, 2],
          [0, 0],
          [1, 2],
        ],
        2.5,
      ),
      tf.pad(
        b(),
        [
          [2, 1],
          [0, 3],
        ],
        7,
      ),
      tf.pad(c(), [
        [0, 1],
        [1, 0],
        [0, 0],
        [2, 0],
        [0, 1],
      ]),
      tf.pad(d(), [[3, 4]]),
    ]);
  });
  test('depthToSpace NHWC, block 2 and 3', async () => {
    const a = rand([2, 3, 4, 8]);
    const b = rand([1, 2, 3, 18]);
    await exact('depthToSpace', () => [
      tf.depthToSpace(a() as tf.Tensor4D, 2),
      tf.depthToSpace(b() as tf.Tensor4D, 3),
    ]);
  });
});

describe('Sum / Mean (leading or middle axes, column sums)', () => {
  test('axis patterns, keepDims, int fallback', async () => {
    const a = rand([4, 6, 7, 5]);
    const b = rand([1, 9, 8, 6]);
    const i = ints([5, 6]);
    await expectBackendsAgree(
      'sum/mean',
      () => [
        tf.sum(a(), [0, 1, 2]),
        tf.mean(a(), [0, 1, 2]),
        tf.sum(a(), 0),
        tf.mean(a(), [0, 1], true),
        tf.sum(b(), [1, 2]),
        tf.mean(b(), [1, 2], true),
        tf.sum(a(), [1, 2]),
        tf.sum(a(), -1),
        tf.mean(a()),
        tf.sum(a(), [0, 2]),
        tf.sum(i(), 0),
        // Middle blocks with kept leading dims ([O, R, K] column sums).
        tf.mean(a(), [1, 2], true),
        tf.sum(a(), 1),
        tf.mean(tf.reshape(a(), [4, 42, 5]), 1),
        tf.sum(tf.reshape(a(), [4, 6, 1, 7, 5]), [1, 2, 3]),
        tf.sum(tf.reshape(a(), [4, 1, 6, 7, 1, 5]), [2, 4]),
        tf.moments(a(), [0, 1, 2]).mean,
        tf.moments(a(), [0, 1, 2]).variance,
      ],
      1e-5,
    );
  });

  // F(x) = Σ (x + m)², m_c = mean of channel c over the leading axes: ∂F/∂x = 2x + 6m.
  const gShape = [4, 6, 7, 5];
  const gx = randomArray(new Rng(12), gShape);
  const lossOf = (x: tf.Tensor): tf.Tensor => tf.square(tf.add(x, tf.mean(x, [0, 1, 2])));
  for (const be of ['wasm', 'cpu'] as const) {
    test(`gradient through leading-axes Sum/Mean on ${be}: closed form and finite differences`, async () => {
      const [got] = await runOn(be, () =>
        tf.grads((x: tf.Tensor) => tf.sum(lossOf(x)))([tf.tensor(gx, gShape)]),
      );
      const c = gShape[3];
      const n = gx.length / c;
      const m = new Float64Array(c);
      gx.forEach((v, i) => (m[i % c] += v / n));
      const want = Float32Array.from(gx, (v, i) => 2 * v + 6 * m[i % c]);
      const d = relDiff(got, want);
      assert.ok(d.rel <= 1e-5, `closed form on ${be}: rel ${d.rel.toExponential(2)}`);
      // Central differences of the forward, summed over axes 0 and 1 so that Sum is on the path.
      const prev = tf.getBackend();
      await tf.setBackend(be);
      const x = tf.tensor(gx, gShape);
      const r = gradCheck(`sum/mean on ${be}`, (t) => tf.sum(lossOf(t), [0, 1]), [x], {
        sampled: 16,
        directions: 4,
      });
      x.dispose();
      await tf.setBackend(prev);
      console.log(`[gradcheck] ${describeCheck(r)}; closed form rel ${d.rel.toExponential(2)}`);
      assert.ok(r.pass, describeCheck(r));
    });
  }
});
