/**
 * The kernels registered by registerWasmTrainingKernels on random shapes (strides, paddings,
 * dilations, non-square kernels, batch > 1), to 1e-4 of the largest reference magnitude.
 * Gradients are never compared with tfjs autodiff (CPU or otherwise): on both backends the
 * conv, depthwise, dilated-conv and NCHW backprop kernels are checked against the exact
 * adjoint of the convolution written from its definition in float64 (whose forward must equal
 * each backend's conv, which pins the padding convention), BatchMatMul and gather gradients
 * against their closed forms in float64, MaxPool/ResizeNearest gradients against hand-computed
 * references. Forward values (BatchMatMul, UnsortedSegmentSum) are also compared with CPU.
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

interface ConvData {
  x: Float32Array;
  w: Float32Array;
  /** Fixed output weights r: the gradients are those of Σ conv(x, w) ⊙ r. */
  r: Float32Array;
  info: tf.backend_util.Conv2DInfo;
}

function convData(c: ConvCase, depthwise: boolean, seed: number): ConvData {
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
  return { x, w, r: randomArray(rng, info.outShape), info };
}

/** [conv(x, w), ∂/∂x, ∂/∂w of Σ conv(x, w) ⊙ r] on the current backend (tfjs autodiff). */
function convProgram(c: ConvCase, depthwise: boolean, d: ConvData): () => tf.Tensor[] {
  return () => {
    const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
      depthwise
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
    const x = tf.tensor(d.x, c.x);
    const w = tf.tensor(d.w, c.w);
    const r = tf.tensor(d.r, d.info.outShape);
    return [conv(x, w), ...tf.grads((a, b) => tf.sum(tf.mul(conv(a, b), r)))([x, w])];
  };
}

/**
 * The convolution from its definition in float64, with its exact adjoint: y = conv(x, w) and,
 * for output weights dy, ∂⟨dy, y⟩/∂x and ∂⟨dy, y⟩/∂w, accumulated in the same loop (each product
 * x·w contributes dy·w to dx and dy·x to dw). Dense filter [kh, kw, C, O]; depthwise
 * [kh, kw, C, m] with output channel c·m + q; NHWC or NCHW as `info.dataFormat`. Padding,
 * strides and dilations are taken from `info` (the forward comparison checks the convention).
 */
function convReference(
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean,
): [Float64Array, Float64Array, Float64Array] {
  const { batchSize: nb, inHeight: h, inWidth: wd, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const first = info.dataFormat === 'channelsFirst';
  const xi = (n: number, i: number, j: number, ch: number): number =>
    first ? ((n * ci + ch) * h + i) * wd + j : ((n * h + i) * wd + j) * ci + ch;
  const yi = (n: number, i: number, j: number, o: number): number =>
    first ? ((n * co + o) * oh + i) * ow + j : ((n * oh + i) * ow + j) * co + o;
  const fo = depthwise ? co / ci : co; // filter's last dimension
  const y = new Float64Array(nb * oh * ow * co);
  const dx = new Float64Array(x.length);
  const dW = new Float64Array(w.length);
  for (let n = 0; n < nb; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let a = 0; a < kh; a++)
          for (let e = 0; e < kw; e++) {
            const iy = i * sh - padInfo.top + a * dh;
            const ix = j * sw - padInfo.left + e * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            for (let ch = 0; ch < ci; ch++)
              for (let q = 0; q < fo; q++) {
                const o = depthwise ? ch * fo + q : q;
                const pw = ((a * kw + e) * ci + ch) * fo + q;
                const px = xi(n, iy, ix, ch);
                const py = yi(n, i, j, o);
                y[py] += x[px] * w[pw];
                dx[px] += dy[py] * w[pw];
                dW[pw] += dy[py] * x[px];
              }
          }
  return [y, dx, dW];
}

/** Worst relative difference of float32 results against float64 references. */
function worstRel(got: Float32Array[], want: Float64Array[], what: string[]): number {
  let worst = 0;
  got.forEach((g, k) => {
    const d = relDiff(g, Float32Array.from(want[k]));
    assert.ok(d.rel <= REL, `${what[k]}: rel ${d.rel.toExponential(2)}`);
    worst = Math.max(worst, d.rel);
  });
  return worst;
}

/** Forward and both gradients of a conv case on wasm and cpu against the float64 reference. */
async function checkConv(c: ConvCase, depthwise: boolean, seed: number): Promise<number> {
  const d = convData(c, depthwise, seed);
  const want = convReference(d.x, d.w, d.r, d.info, depthwise);
  let worst = 0;
  for (const be of ['wasm', 'cpu'] as const) {
    const got = await runOn(be, convProgram(c, depthwise, d));
    worst = Math.max(
      worst,
      worstRel(
        got,
        want,
        ['y', 'dx', 'dw'].map((n) => `${be} ${n}`),
      ),
    );
  }
  return worst;
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
      const rel = await checkConv(c, false, 100 + i);
      console.log(
        `[kernel] conv2d grads ${label(c)}: rel ${rel.toExponential(2)} (float64 adjoint)`,
      );
    });
  }
  test('NCHW Conv2DBackpropFilter / Conv2DBackpropInput kernels', async () => {
    const rng = new Rng(7);
    const x = randomArray(rng, [2, 3, 9, 8]);
    const dy = randomArray(rng, [2, 4, 5, 4]);
    const w = randomArray(rng, [3, 3, 3, 4]);
    const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NCHW' } as const;
    const info = tf.backend_util.computeConv2DInfo(
      [2, 3, 9, 8],
      [3, 3, 3, 4],
      [2, 2],
      1,
      'same',
      undefined,
      false,
      'channelsFirst',
    );
    const [y, dx, dw] = convReference(x, w, dy, info, false);
    for (const be of ['wasm', 'cpu'] as const) {
      const got = await runOn(be, () => [
        // The reference's NCHW forward = the NHWC conv of the transposed input ('same' alike).
        tf.transpose(
          tf.conv2d(
            tf.transpose(tf.tensor4d(x, [2, 3, 9, 8]), [0, 2, 3, 1]) as tf.Tensor4D,
            tf.tensor4d(w, [3, 3, 3, 4]),
            2,
            'same',
          ),
          [0, 3, 1, 2],
        ),
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
      worstRel(
        got,
        [y, dw, dx],
        ['y', 'filter grad', 'input grad'].map((n) => `${be} ${n}`),
      );
    }
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
      const rel = await checkConv(c, true, 200 + i);
      console.log(
        `[kernel] depthwise grads ${label(c)}: rel ${rel.toExponential(2)} (float64 adjoint)`,
      );
    });
  }
});

describe('dilated conv gradients (our gradient override on both backends)', () => {
  const cases: [ConvCase, boolean][] = [
    [{ x: [2, 9, 10, 3], w: [3, 3, 3, 4], s: 1, pad: ex(2, 2, 2, 2), d: 2 }, false],
    [{ x: [1, 11, 9, 2], w: [3, 2, 2, 3], s: 1, pad: 'same', d: 2 }, false],
    [{ x: [2, 9, 10, 3], w: [3, 3, 3, 1], s: 1, pad: ex(2, 2, 2, 2), d: 2 }, true],
    [{ x: [1, 12, 12, 2], w: [3, 3, 2, 1], s: 1, pad: 'valid', d: [2, 3] }, true],
  ];
  for (const [i, [c, depthwise]] of cases.entries()) {
    test(`${depthwise ? 'depthwise' : 'dense'} ${label(c)}`, async () => {
      const rel = await checkConv(c, depthwise, 300 + i);
      console.log(
        `[kernel] dilated grads ${label(c)}: rel ${rel.toExponential(2)} (float64 adjoint)`,
      );
    });
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
