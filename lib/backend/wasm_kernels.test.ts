/**
 * Every kernel registered by registerWasmTrainingKernels, compared with the CPU backend on
 * random shapes (strides, paddings, dilations, non-square kernels, batch > 1), to 1e-4 of the
 * largest reference magnitude. Dilated-conv gradients (our gradient override on both backends)
 * are checked against an independent reference: the undilated conv with a zero-inserted filter.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { expectBackendsAgree, randomArray, relDiff, runOn } from './kernels/testing.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';

await useBackend('wasm');
const kernels = registerWasmTrainingKernels();
const REL = 1e-4;

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
interface ConvCase {
  x: [number, number, number, number];
  w: [number, number, number, number];
  s: number | [number, number];
  pad: Pad;
  d?: number | [number, number];
  round?: 'floor' | 'round' | 'ceil';
}

const ex = (t: number, b: number, l: number, r: number): tf.backend_util.ExplicitPadding => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

/** Gradients of Σ conv(x, w) · r with respect to x and w (r fixed per case). */
function convGrads(c: ConvCase, depthwise: boolean, seed: number): () => tf.Tensor[] {
  const rng = new Rng(seed);
  const x = randomArray(rng, c.x);
  const w = randomArray(rng, c.w, 0.5);
  const info = tf.backend_util.computeConv2DInfo(
    c.x,
    c.w,
    c.s,
    c.d ?? 1,
    c.pad,
    c.round,
    depthwise,
  );
  const r = randomArray(rng, info.outShape);
  return () => {
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const y = depthwise
        ? tf.depthwiseConv2d(
            a as tf.Tensor4D,
            b as tf.Tensor4D,
            c.s,
            c.pad,
            'NHWC',
            c.d ?? 1,
            c.round,
          )
        : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d ?? 1, c.round);
      return tf.sum(tf.mul(y, tf.tensor(r, info.outShape)));
    };
    return tf.grads(f)([tf.tensor(x, c.x), tf.tensor(w, c.w)]);
  };
}

const label = (c: ConvCase): string =>
  `x[${c.x}] w[${c.w}] s${JSON.stringify(c.s)} pad ${JSON.stringify(c.pad)} d${JSON.stringify(c.d ?? 1)}${c.round ? ' ' + c.round : ''}`;

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

describe('Conv2D gradients (Conv2DBackpropInput / Conv2DBackpropFilter)', () => {
  const cases: ConvCase[] = [
    { x: [2, 9, 11, 3], w: [3, 3, 3, 5], s: 1, pad: ex(1, 1, 1, 1) },
    { x: [2, 10, 9, 4], w: [3, 3, 4, 6], s: 2, pad: ex(1, 1, 1, 1) },
    { x: [2, 11, 11, 3], w: [3, 3, 3, 4], s: 2, pad: 'same' },
    { x: [1, 8, 8, 2], w: [1, 1, 2, 3], s: 2, pad: 'valid' },
    { x: [2, 7, 12, 3], w: [2, 4, 3, 2], s: [2, 1], pad: 'same' },
    { x: [2, 12, 10, 3], w: [5, 3, 3, 4], s: [1, 2], pad: 'valid' },
    { x: [2, 13, 13, 2], w: [7, 7, 2, 3], s: 4, pad: ex(3, 3, 3, 3) },
    { x: [1, 9, 10, 3], w: [3, 3, 3, 2], s: 2, pad: ex(0, 2, 1, 0) },
    { x: [2, 11, 11, 2], w: [3, 3, 2, 3], s: 2, pad: 1 },
    { x: [1, 6, 6, 8], w: [1, 1, 8, 16], s: 1, pad: 0 },
  ];
  for (const [i, c] of cases.entries()) {
    test(label(c), async () => {
      const d = await expectBackendsAgree(label(c), convGrads(c, false, 100 + i), REL);
      console.log(`[kernel] conv2d grads ${label(c)}: rel ${d.rel.toExponential(2)}`);
    });
  }
  test('NCHW Conv2DBackpropFilter / Conv2DBackpropInput kernels', async () => {
    const rng = new Rng(7);
    const x = randomArray(rng, [2, 3, 9, 8]);
    const dy = randomArray(rng, [2, 4, 5, 4]);
    const w = randomArray(rng, [3, 3, 3, 4]);
    const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NCHW' } as const;
    await expectBackendsAgree('NCHW', () => [
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: tf.tensor(x, [2, 3, 9, 8]), dy: tf.tensor(dy, [2, 4, 5, 4]) },
          { ...attrs, filterShape: [3, 3, 3, 4] },
        ) as tf.Tensor,
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor(dy, [2, 4, 5, 4]), filter: tf.tensor(w, [3, 3, 3, 4]) },
          { ...attrs, inputShape: [2, 3, 9, 8] },
        ) as tf.Tensor,
    ]);
  });
});

describe('DepthwiseConv2dNative gradients', () => {
  const dw = (h: number, w: number, kh: number, kw: number, c = 4, b = 2): ConvCase => ({
    x: [b, h, w, c],
    w: [kh, kw, c, 1],
    s: 1,
    pad: ex(kh >> 1, kh >> 1, kw >> 1, kw >> 1),
  });
  const cases: ConvCase[] = [
    dw(9, 10, 3, 3),
    dw(12, 12, 5, 5),
    dw(10, 12, 1, 7),
    dw(12, 10, 7, 1),
    dw(8, 14, 1, 11),
    dw(14, 8, 11, 1),
    dw(6, 24, 1, 21, 3, 1),
    dw(24, 6, 21, 1, 3, 1),
    { x: [2, 11, 9, 3], w: [3, 3, 3, 1], s: 2, pad: ex(1, 1, 1, 1) },
    { x: [2, 10, 10, 3], w: [3, 3, 3, 1], s: 2, pad: 'same' },
    { x: [1, 9, 8, 3], w: [3, 3, 3, 2], s: 1, pad: 'same' },
    { x: [2, 9, 9, 2], w: [3, 3, 2, 3], s: 2, pad: 'valid' },
  ];
  for (const [i, c] of cases.entries()) {
    test(label(c), async () => {
      const d = await expectBackendsAgree(label(c), convGrads(c, true, 200 + i), REL);
      console.log(`[kernel] depthwise grads ${label(c)}: rel ${d.rel.toExponential(2)}`);
    });
  }
});

describe('dilated conv gradients (dilation 2) vs zero-inserted-filter reference', () => {
  const cases: [ConvCase, boolean][] = [
    [{ x: [2, 9, 10, 3], w: [3, 3, 3, 4], s: 1, pad: ex(2, 2, 2, 2), d: 2 }, false],
    [{ x: [1, 11, 9, 2], w: [3, 2, 2, 3], s: 1, pad: 'same', d: 2 }, false],
    [{ x: [2, 9, 10, 3], w: [3, 3, 3, 1], s: 1, pad: ex(2, 2, 2, 2), d: 2 }, true],
    [{ x: [1, 12, 12, 2], w: [3, 3, 2, 1], s: 1, pad: 'valid', d: [2, 3] }, true],
  ];
  for (const [i, [c, depthwise]] of cases.entries()) {
    test(`${depthwise ? 'depthwise' : 'dense'} ${label(c)}`, async () => {
      const d = typeof c.d === 'number' ? [c.d, c.d] : (c.d as [number, number]);
      const ours = convGrads(c, depthwise, 300 + i);
      const wasm = await runOn('wasm', ours);
      const cpu = await runOn('cpu', ours);
      // Reference: same x, w and r through an undilated conv with the zero-inserted filter.
      const rng = new Rng(300 + i);
      const x = randomArray(rng, c.x);
      const w = randomArray(rng, c.w, 0.5);
      const info = tf.backend_util.computeConv2DInfo(
        c.x,
        c.w,
        c.s,
        c.d ?? 1,
        c.pad,
        undefined,
        depthwise,
      );
      const r = randomArray(rng, info.outShape);
      const [wd, bigShape] = dilateFilter(w, c.w, d);
      const ref = await runOn('cpu', () => {
        const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
          const y = depthwise
            ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad)
            : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad);
          return tf.sum(tf.mul(y, tf.tensor(r, info.outShape)));
        };
        const [gx, gw] = tf.grads(f)([tf.tensor(x, c.x), tf.tensor(wd, bigShape)]);
        const sub = tf.stridedSlice(gw, [0, 0, 0, 0], bigShape, [d[0], d[1], 1, 1]);
        return [gx, sub];
      });
      for (const [name, got] of [
        ['wasm', wasm],
        ['cpu', cpu],
      ] as const) {
        for (let k = 0; k < 2; k++) {
          const diff = relDiff(got[k], ref[k]);
          assert.ok(diff.rel <= REL, `${name} grad ${k}: rel ${diff.rel}`);
        }
      }
    });
  }
  /** Filter [kh,kw,a,b] → [(kh−1)·d0+1, (kw−1)·d1+1, a, b] with zeros between the taps. */
  function dilateFilter(w: Float32Array, shape: number[], d: number[]): [Float32Array, number[]] {
    const [kh, kw, a, b] = shape;
    const big = [(kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1, a, b];
    const out = new Float32Array(big.reduce((p, q) => p * q, 1));
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let k = 0; k < a * b; k++)
          out[(i * d[0] * big[1] + j * d[1]) * a * b + k] = w[(i * kw + j) * a * b + k];
    return [out, big];
  }
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
  ];
  for (const [i, [as, bs, ta, tb]] of cases.entries()) {
    test(`[${as}]${ta ? 'ᵀ' : ''} · [${bs}]${tb ? 'ᵀ' : ''} with gradients`, async () => {
      const rng = new Rng(400 + i);
      const a = randomArray(rng, as);
      const b = randomArray(rng, bs);
      await expectBackendsAgree('matMul', () => {
        const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.matMul(x, y, ta, tb);
        const out = f(tf.tensor(a, as), tf.tensor(b, bs));
        if (as.length !== bs.length || as.slice(0, -2).join() !== bs.slice(0, -2).join())
          return [out];
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(f(x, y))))([
          tf.tensor(a, as),
          tf.tensor(b, bs),
        ]);
        return [out, ...g];
      });
    });
  }
});

describe('UnsortedSegmentSum', () => {
  test('gather gradient (duplicates, axis 0 and 1)', async () => {
    const rng = new Rng(500);
    const p = randomArray(rng, [10, 6]);
    await expectBackendsAgree('gather grads', () => {
      const f = (t: tf.Tensor): tf.Tensor =>
        tf.add(
          tf.sum(tf.square(tf.gather(t, tf.tensor1d([1, 3, 3, 9, 0, 1, 1], 'int32'), 0))),
          tf.sum(tf.gather(t, tf.tensor1d([5, 0, 5], 'int32'), 1)),
        );
      return tf.grads(f)([tf.tensor(p, [10, 6])]);
    });
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
