/**
 * The convolution backprop kernels registered by registerWasmTrainingKernels (and the dilated
 * conv gradient override) on random shapes (strides, paddings, dilations, non-square kernels,
 * batch > 1), to 1e-4 of the largest reference magnitude. Gradients are never compared with tfjs
 * autodiff (CPU or otherwise): on both backends the conv, depthwise, dilated-conv and NCHW
 * backprop kernels are checked against the exact adjoint of the convolution written from its
 * definition in float64 (whose forward must equal each backend's conv, which pins the padding
 * convention). Registration, BatchMatMul, gather, segment sum, MaxPool and ResizeNearest are
 * ./wasm_kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, test } from 'node:test';
import { ex, type Pad, worstRel } from '../../test/helpers/kernel_check.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { randomArray, runOn } from './kernels/testing.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';

await useBackend('wasm');
registerWasmTrainingKernels();

interface ConvCase {
  x: [number, number, number, number];
  w: [number, number, number, number];
  s: number | [number, number];
  pad: Pad;
  d?: number | [number, number];
  round?: 'floor' | 'round' | 'ceil';
}

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
