/**
 * The kernels registered by registerWasmTrainingKernels, apart from convolution backprop
 * (./wasm_conv_grads.test.ts): registration itself (missing training kernels added, slow ones
 * replaced, idempotent), then on random shapes (transposes, batch > 1, broadcast batches), to
 * 1e-4 of the largest reference magnitude. Gradients are never compared with tfjs autodiff (CPU
 * or otherwise): on both backends BatchMatMul and gather gradients are checked against their
 * closed forms in float64, MaxPool/ResizeNearest gradients against hand-computed references.
 * Forward values (BatchMatMul, UnsortedSegmentSum) are also compared with CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ex, type Pad, REL, worstRel } from '../../test/helpers/kernel_check.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { expectBackendsAgree, randomArray, relDiff, runOn } from './kernels/testing.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';

await useBackend('wasm');
const kernels = registerWasmTrainingKernels();

describe('registration', () => {
  test('adds the missing training kernels and replaces the slow ones', () => {
    for (const k of [
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'UnsortedSegmentSum',
      'Conv2DBackpropInput',
      'BatchMatMul',
    ]) {
      assert.ok(tf.getKernel(k, 'wasm'), `${k} missing on wasm`);
    }
    for (const k of ['BatchMatMul', 'Conv2DBackpropInput', 'Slice', 'Concat', 'Sum', 'Mean']) {
      assert.ok(kernels.replaced.includes(k), `${k} not replaced`);
    }
    assert.equal(registerWasmTrainingKernels(), kernels, 'idempotent');
  });
});

describe('BatchMatMul (replaced)', () => {
  // tfjs-core's BatchMatMul gradient does not reduce broadcast batch dims (on any backend):
  // those cases compare the forward product only.
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[3, 5, 7], [3, 7, 4], false, false],
    [[3, 7, 5], [3, 4, 7], true, true],
    [[4, 48, 40], [4, 40, 64], false, false],
    [[4, 40, 48], [4, 64, 40], true, true],
    [[2, 3, 5, 7], [7, 4], false, false],
    [[2, 3, 7, 5], [4, 7], true, true],
    [[40, 50], [3, 50, 60], false, false],
    [[2, 3, 40, 48], [3, 48, 40], false, false],
    [[2, 3, 48, 40], [1, 3, 40, 48], true, true],
    // Small products of a train step, now on the stock loop whatever the batch or flags:
    // talking-head mixes and their gradients, a per-tap filter gradient.
    [[8, 8], [8, 16], true, false],
    [[8, 16], [8, 16], false, true],
    [[8, 40], [40, 8], false, false],
    [[6, 9, 4], [6, 5, 9], true, true],
  ];
  for (const [i, [as, bs, ta, tb]] of cases.entries()) {
    const sameBatch = as.length === bs.length && as.slice(0, -2).join() === bs.slice(0, -2).join();
    test(`[${as}]${ta ? 'ᵀ' : ''} · [${bs}]${tb ? 'ᵀ' : ''}${sameBatch ? ' with gradients' : ''}`, async () => {
      const rng = new Rng(400 + i);
      const a = randomArray(rng, as);
      const b = randomArray(rng, bs);
      const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.matMul(x, y, ta, tb);
      await expectBackendsAgree('matMul', () => [f(tf.tensor(a, as), tf.tensor(b, bs))]);
      if (!sameBatch) return;
      const want = matMulReference(a, as, b, bs, ta, tb);
      for (const be of ['wasm', 'cpu'] as const) {
        const got = await runOn(be, () => [
          f(tf.tensor(a, as), tf.tensor(b, bs)),
          ...tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(f(x, y))))([
            tf.tensor(a, as),
            tf.tensor(b, bs),
          ]),
        ]);
        worstRel(
          got,
          want,
          ['product', 'dA', 'dB'].map((n) => `${be} ${n}`),
        );
      }
    });
  }
  /**
   * C = op(A)·op(B) per batch in float64 and the gradients of Σ C²: with G = 2C,
   * ∂/∂op(A) = G·op(B)ᵀ and ∂/∂op(B) = op(A)ᵀ·G, stored back through the transposes.
   */
  function matMulReference(
    a: Float32Array,
    as: number[],
    b: Float32Array,
    bs: number[],
    ta: boolean,
    tb: boolean,
  ): [Float64Array, Float64Array, Float64Array] {
    const [ar, ac] = as.slice(-2);
    const [br, bc] = bs.slice(-2);
    const [m, k, n] = [ta ? ac : ar, ta ? ar : ac, tb ? br : bc];
    const batch = a.length / (ar * ac);
    const ia = (t: number, i: number, l: number): number =>
      t * ar * ac + (ta ? l * m + i : i * k + l);
    const ib = (t: number, l: number, j: number): number =>
      t * br * bc + (tb ? j * k + l : l * n + j);
    const c = new Float64Array(batch * m * n);
    const da = new Float64Array(a.length);
    const db = new Float64Array(b.length);
    for (let t = 0; t < batch; t++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let l = 0; l < k; l++) sum += a[ia(t, i, l)] * b[ib(t, l, j)];
          c[(t * m + i) * n + j] = sum;
          for (let l = 0; l < k; l++) {
            da[ia(t, i, l)] += 2 * sum * b[ib(t, l, j)];
            db[ib(t, l, j)] += 2 * sum * a[ia(t, i, l)];
          }
        }
    return [c, da, db];
  }
});

describe('UnsortedSegmentSum', () => {
  test('gather gradient (duplicates, axis 0 and 1) against its closed form', async () => {
    const rng = new Rng(500);
    const p = randomArray(rng, [10, 6]);
    const rows = [1, 3, 3, 9, 0, 1, 1];
    const cols = [5, 0, 5];
    // ∂/∂p of Σ p[rows]² + Σ p[:, cols]: 2·p[r, :] per occurrence of r, 1 per occurrence of c.
    const want = new Float64Array(p.length);
    for (const r of rows) for (let j = 0; j < 6; j++) want[r * 6 + j] += 2 * p[r * 6 + j];
    for (const c of cols) for (let i = 0; i < 10; i++) want[i * 6 + c] += 1;
    for (const be of ['wasm', 'cpu'] as const) {
      const got = await runOn(be, () => {
        const f = (t: tf.Tensor): tf.Tensor =>
          tf.add(
            tf.sum(tf.square(tf.gather(t, tf.tensor1d(rows, 'int32'), 0))),
            tf.sum(tf.gather(t, tf.tensor1d(cols, 'int32'), 1)),
          );
        return tf.grads(f)([tf.tensor(p, [10, 6])]);
      });
      worstRel(got, [want], [`${be} gather grad`]);
    }
  });
  test('kernel: rank-3 data, out-of-range ids ignored', async () => {
    const rng = new Rng(501);
    const x = randomArray(rng, [12, 4, 5]);
    const ids = [0, 2, -1, 2, 7, 1, 0, 3, 3, 3, 9, 0];
    await expectBackendsAgree('segment sum', () => [
      tf.unsortedSegmentSum(tf.tensor(x, [12, 4, 5]), tf.tensor1d(ids, 'int32'), 5),
    ]);
  });
});

describe('pooling / resize gradients against hand-computed references', () => {
  /** Gradient of Σ maxPool(x)² by the definition (first maximum of each window). */
  function maxPoolRef(
    v: Float32Array,
    [b, h, w, c]: number[],
    k: number,
    s: number,
    p: number,
  ): Float32Array {
    const oh = Math.floor((h + 2 * p - k) / s) + 1;
    const ow = Math.floor((w + 2 * p - k) / s) + 1;
    const g = new Float32Array(v.length);
    for (let n = 0; n < b; n++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          for (let ch = 0; ch < c; ch++) {
            let best = -Infinity;
            let at = -1;
            for (let a = 0; a < k; a++)
              for (let e = 0; e < k; e++) {
                const y = i * s - p + a;
                const x = j * s - p + e;
                if (y < 0 || y >= h || x < 0 || x >= w) continue;
                const idx = ((n * h + y) * w + x) * c + ch;
                if (v[idx] > best) {
                  best = v[idx];
                  at = idx;
                }
              }
            g[at] += 2 * best;
          }
    return g;
  }
  const cases: [number[], number, number, number][] = [
    [[1, 8, 8, 1], 2, 2, 0],
    [[2, 8, 8, 16], 2, 2, 0],
    [[2, 9, 7, 3], 3, 2, 1],
    [[1, 6, 6, 5], 3, 1, 1],
  ];
  for (const [shape, k, s, p] of cases) {
    test(`MaxPoolGrad x[${shape}] k${k} s${s} p${p}`, async () => {
      const v = randomArray(new Rng(600 + k * 10 + s), shape);
      const pad: Pad = p ? ex(p, p, p, p) : 'valid';
      const f = (): tf.Tensor[] =>
        tf.grads((t: tf.Tensor) =>
          tf.sum(tf.square(tf.maxPool(t as tf.Tensor4D, k, s, pad as 'valid'))),
        )([tf.tensor(v, shape)]);
      const ref = maxPoolRef(v, shape, k, s, p);
      for (const be of ['wasm', 'cpu'] as const) {
        const d = relDiff((await runOn(be, f))[0], ref);
        assert.ok(d.rel <= REL, `${be}: rel ${d.rel}`);
      }
    });
  }
  test('ResizeNearestNeighborGrad with batch 2 (WASM right; the CPU kernel is wrong here)', async () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 8];
    const f = (): tf.Tensor[] =>
      tf.grads((t: tf.Tensor) =>
        tf.sum(tf.square(tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [4, 4]))),
      )([tf.tensor4d(v, [2, 2, 2, 1])]);
    assert.deepEqual(
      Array.from((await runOn('wasm', f))[0]),
      v.map((x) => 8 * x),
    );
  });
});
