/**
 * The op-level gradient table for our own ops (lib/ops/*) and the training loss: conv with every
 * stride / padding / dilation / depthwise configuration the models build (grep of
 * lib/models: 3×3 s1/s2 p1, 7×7 s4 p3, k×k s=k p0 for k = 2, 4, 8, 1×1, depthwise 3×3 s1/s2,
 * 5×5, 1×k / k×1 strips for k = 7, 11, 21; dilation 2 is supported by lib/ops/conv.ts though no
 * model uses it), fused bias and ReLU, pooling, norms in train mode, GELU, resizes and their
 * adjoints, bicubic, CARAFE, grid sampling, pixel shuffle, segCrossEntropy. Run by
 * lib/ops/gradcheck.ops2.test.ts with the runner of ./op_cases.ts.
 *
 * Step sizes: an op that is linear in each input (convolution, matrix product, resize,
 * CARAFE, …) has an exact central difference at any step, so the step only divides the float32
 * rounding of the objective; those cases use h = 0.1 instead of 0.01 (10× less noise, the
 * 1e-3 tolerance unchanged). With h = 0.01 the strided convs measured up to 1.1e-3 on wasm,
 * while their analytic input gradient matched a float64 adjoint to 5e-8 (noise, not error).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../lib/models/core/init.ts';
import { segCrossEntropy } from '../../lib/train/loss.ts';
import { gelu } from '../../lib/ops/activation.ts';
import { resizeBicubicLast2 } from '../../lib/ops/bicubic.ts';
import { carafe } from '../../lib/ops/carafe.ts';
import { type ConvArgs, conv2d, depthwiseConv2d } from '../../lib/ops/conv.ts';
import { gridSample } from '../../lib/ops/grid_sample.ts';
import { maxPool2d } from '../../lib/ops/max_pool.ts';
import { batchNormApply, groupNorm, layerNorm } from '../../lib/ops/norm.ts';
import { pixelShuffle, pixelUnshuffle } from '../../lib/ops/pixel_shuffle.ts';
import { resizeBilinear, resizeNearest } from '../../lib/ops/resize.ts';
import { resizeBilinearAdjoint, resizeNearestAdjoint } from '../../lib/ops/resize_adjoint.ts';
import { distinct, normal, type OpCase, uniform } from './op_cases.ts';

/** Step for ops linear in each input (see the file comment). */
const LINEAR = { eps: 0.1 };

type T4 = tf.Tensor4D;
const FUSED_CONV = ['FusedConv2D', 'fusedConv2d__op'];
const FUSED_DW = ['FusedDepthwiseConv2D', 'fusedDepthwiseConv2d__op'];

/**
 * conv2d / depthwiseConv2d of lib/ops/conv.ts with weights scaled by 1/√fan-in; with
 * `unbiased`, the same conv without bias is a second output (the other kernel path).
 */
function convCase(
  label: string,
  kernels: string[],
  xShape: number[],
  wShape: number[],
  args: ConvArgs,
  seed: number,
  unbiased = false,
): OpCase {
  const depthwise = wShape[3] === 1 && xShape[3] > 1;
  const op = depthwise ? depthwiseConv2d : conv2d;
  const fanIn = wShape[0] * wShape[1] * (depthwise ? 1 : wShape[2]);
  const cout = depthwise ? wShape[2] : wShape[3];
  return {
    label: `${depthwise ? 'depthwiseConv2d' : 'conv2d'} ${label}`,
    kernels,
    build: () => ({
      f: (x, w, b) => {
        const y = op(x as T4, w as T4, b as tf.Tensor1D, args);
        return unbiased ? [y, op(x as T4, w as T4, undefined, args)] : y;
      },
      inputs: [
        normal(xShape, seed),
        normal(wShape, seed + 1, 1 / Math.sqrt(fanIn)),
        normal([cout], seed + 2, 0.5),
      ],
    }),
    opts: LINEAR,
  };
}

/** A grid [N,Ho,Wo,2] whose unnormalised coordinates keep ≥ 0.2 from pixel centres' integer
 * steps and from the border (some points lie beyond it, where the sample is clamped). */
function gridFor(n: number, ho: number, wo: number, h: number, w: number, seed: number) {
  const r = new Rng(seed);
  const coord = (size: number): number => {
    const p = r.next();
    if (p < 0.1) return -0.3 - r.next(); // clamped at 0
    if (p < 0.2) return size - 1 + 0.3 + r.next(); // clamped at size − 1
    return r.int(size - 1) + 0.2 + 0.6 * r.next(); // between two pixels
  };
  const g = new Float32Array(n * ho * wo * 2);
  for (let i = 0; i < g.length; i += 2) {
    g[i] = (2 * coord(w) + 1) / w - 1; // u = ((gx + 1)·W − 1)/2
    g[i + 1] = (2 * coord(h) + 1) / h - 1;
  }
  return tf.tensor4d(g, [n, ho, wo, 2]);
}

/** Labels int32 [B,H,W] in [0, k) with ~15 % ignored (255). */
export function labels(shape: [number, number, number], k: number, seed: number): tf.Tensor3D {
  const r = new Rng(seed);
  const n = shape[0] * shape[1] * shape[2];
  const v = Int32Array.from({ length: n }, () => (r.next() < 0.15 ? 255 : r.int(k)));
  return tf.tensor3d(v, shape, 'int32');
}

export const LIB_CASES: OpCase[] = [
  // Dense convolutions (every configuration in lib/models).
  convCase(
    '3×3 s1 p1 ± bias',
    [...FUSED_CONV, 'Conv2D'],
    [2, 5, 7, 3],
    [3, 3, 3, 4],
    { padding: 1 },
    100,
    true,
  ),
  convCase(
    '3×3 s2 p1 ± bias (stems, downsampling)',
    [...FUSED_CONV, 'Conv2D'],
    [2, 7, 9, 3],
    [3, 3, 3, 4],
    { stride: 2, padding: 1 },
    110,
    true,
  ),
  convCase(
    '7×7 s4 p3 + bias (MiT stage-1 patch embed)',
    FUSED_CONV,
    [2, 9, 11, 3],
    [7, 7, 3, 4],
    { stride: 4, padding: 3 },
    120,
  ),
  convCase(
    '2×2 s2 p0 + bias (MiT spatial reduction)',
    FUSED_CONV,
    [2, 9, 11, 3],
    [2, 2, 3, 4],
    { stride: 2 },
    130,
  ),
  convCase(
    '4×4 s4 p0 + bias (MiT spatial reduction)',
    FUSED_CONV,
    [2, 9, 11, 3],
    [4, 4, 3, 4],
    { stride: 4 },
    140,
  ),
  convCase(
    '8×8 s8 p0 + bias (MiT spatial reduction)',
    FUSED_CONV,
    [2, 9, 17, 3],
    [8, 8, 3, 2],
    { stride: 8 },
    150,
  ),
  convCase(
    '1×1 ± bias (pointwise as a matrix product)',
    ['_FusedMatMul', 'fusedMatMul__op', 'BatchMatMul'],
    [2, 5, 7, 6],
    [1, 1, 6, 4],
    {},
    160,
    true,
  ),
  convCase(
    '3×3 dilation 2 p2 ± bias',
    ['Conv2D', 'Add'],
    [2, 7, 9, 3],
    [3, 3, 3, 4],
    { padding: 2, dilation: 2 },
    170,
    true,
  ),
  // Depthwise convolutions.
  convCase(
    '3×3 s1 p1 ± bias',
    [...FUSED_DW, 'DepthwiseConv2dNative'],
    [2, 5, 7, 4],
    [3, 3, 4, 1],
    { padding: 1 },
    200,
    true,
  ),
  convCase(
    '3×3 s2 p1 ± bias',
    [...FUSED_DW, 'DepthwiseConv2dNative'],
    [2, 7, 9, 4],
    [3, 3, 4, 1],
    { stride: 2, padding: 1 },
    210,
    true,
  ),
  convCase('5×5 p2 + bias (MSCA conv0)', FUSED_DW, [2, 5, 7, 4], [5, 5, 4, 1], { padding: 2 }, 220),
  convCase(
    '1×7 p(0,3) + bias (MSCA strip)',
    FUSED_DW,
    [2, 5, 7, 4],
    [1, 7, 4, 1],
    { padding: [0, 3] },
    230,
  ),
  convCase(
    '7×1 p(3,0) + bias (MSCA strip)',
    FUSED_DW,
    [2, 5, 7, 4],
    [7, 1, 4, 1],
    { padding: [3, 0] },
    240,
  ),
  convCase(
    '1×11 p(0,5) + bias (MSCA strip)',
    FUSED_DW,
    [2, 5, 7, 2],
    [1, 11, 2, 1],
    { padding: [0, 5] },
    250,
  ),
  convCase(
    '11×1 p(5,0) + bias (MSCA strip)',
    FUSED_DW,
    [2, 5, 7, 2],
    [11, 1, 2, 1],
    { padding: [5, 0] },
    260,
  ),
  convCase(
    '1×21 p(0,10) + bias (MSCA strip)',
    FUSED_DW,
    [2, 5, 7, 2],
    [1, 21, 2, 1],
    { padding: [0, 10] },
    270,
  ),
  convCase(
    '21×1 p(10,0) + bias (MSCA strip)',
    FUSED_DW,
    [2, 5, 7, 2],
    [21, 1, 2, 1],
    { padding: [10, 0] },
    280,
  ),
  convCase(
    '3×3 dilation 2 p2 ± bias',
    ['DepthwiseConv2dNative', 'Add'],
    [2, 7, 9, 4],
    [3, 3, 4, 1],
    { padding: 2, dilation: 2 },
    290,
    true,
  ),
  {
    // Sign-controlled ReLU: positive inputs, output channels 0 and 2 with positive weights and
    // bias (active), 1 and 3 negative (clamped). Every pre-activation is ≥ 0.25 from the kink
    // and a step of h = 0.1 moves one by ≤ 0.15, so the map is linear along every step taken.
    label: 'fused conv2d / depthwiseConv2d + bias + ReLU, both sides of the kink',
    kernels: [...FUSED_CONV, ...FUSED_DW],
    build: () => {
      const sign = tf.tensor1d([1, -1, 1, -1]);
      return {
        f: (x, w, dw, b) => {
          const bias = tf.add(tf.mul(sign, 0.2), tf.mul(b, 0.05));
          const activation = 'relu';
          const pad = 'same';
          return [
            tf.fused.conv2d({ x: x as T4, filter: w as T4, strides: 1, pad, bias, activation }),
            tf.fused.depthwiseConv2d({
              x: x as T4,
              filter: dw as T4,
              strides: 2,
              pad,
              bias,
              activation,
            }),
          ];
        },
        inputs: [
          uniform([2, 5, 7, 4], 300, 0.5, 1.5),
          tf.mul(uniform([3, 3, 4, 4], 301, 0.05, 0.15), sign),
          tf.mul(uniform([3, 3, 4, 1], 302, 0.1, 0.2), tf.reshape(sign, [1, 1, 4, 1])),
          normal([4], 303),
        ],
      };
    },
    opts: LINEAR,
  },
  // Pooling, norms, activation.
  {
    label: 'maxPool2d 2×2 s2 (SegFormer-OL), 3×3 s2 valid and same, no ties',
    kernels: ['MaxPool'],
    build: () => ({
      f: (x) => [
        maxPool2d(x as T4, 2, 2),
        maxPool2d(x as T4, 3, 2),
        tf.maxPool(x as T4, 3, 2, 'same'),
      ],
      inputs: [distinct([2, 5, 7, 3], 310)],
    }),
  },
  {
    label: 'BatchNorm train mode: batch statistics (tf.moments) + batchNormApply',
    kernels: ['Mean', 'Rsqrt'],
    build: () => ({
      f: (x, g, b) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return batchNormApply(x, mean, variance, g, b, 1e-5);
      },
      inputs: [normal([2, 5, 7, 3], 320), tf.add(1, normal([3], 321, 0.3)), normal([3], 322)],
    }),
  },
  {
    label: 'groupNorm: 3 groups of 2 channels, and 1 group',
    kernels: ['Sum', 'Tile', 'Rsqrt'],
    build: () => ({
      f: (x, g, b) => [
        groupNorm(x as T4, 3, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
        groupNorm(x as T4, 1, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
      ],
      inputs: [normal([2, 5, 7, 6], 330), tf.add(1, normal([6], 331, 0.3)), normal([6], 332)],
    }),
  },
  {
    label: 'layerNorm over the last axis: NHWC and tokens',
    kernels: ['Mean', 'Rsqrt'],
    build: () => ({
      f: (x, t, g, b) => [
        layerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
        layerNorm(t, g as tf.Tensor1D, b as tf.Tensor1D, 1e-6),
      ],
      inputs: [
        normal([2, 5, 7, 6], 340),
        normal([2, 9, 6], 341, 2),
        tf.add(1, normal([6], 342, 0.3)),
        normal([6], 343),
      ],
    }),
  },
  {
    label: 'gelu (exact, erf form)',
    kernels: { cpu: ['Erf'], wasm: ['OffsegGelu'] },
    build: () => ({ f: (x) => gelu(x), inputs: [normal([2, 5, 7, 3], 350, 2)] }),
  },
  // Resampling.
  {
    label: 'resizeBilinear (half-pixel): up, down, non-square',
    kernels: ['ResizeBilinear'],
    build: () => ({
      f: (x) => [
        resizeBilinear(x as T4, [9, 12]),
        resizeBilinear(x as T4, [3, 4]),
        resizeBilinear(x as T4, [5, 3]),
      ],
      inputs: [normal([2, 5, 7, 3], 360)],
    }),
    opts: LINEAR,
  },
  {
    label: 'resizeBilinear to the same size (a copy)',
    kernels: ['Identity'],
    build: () => ({
      f: (x) => resizeBilinear(x as T4, [5, 7]),
      inputs: [normal([2, 5, 7, 3], 361)],
    }),
  },
  {
    label: 'resizeNearest (torch rule): up, down, non-square',
    kernels: ['ResizeNearestNeighbor'],
    build: () => ({
      f: (x) => [
        resizeNearest(x as T4, [9, 12]),
        resizeNearest(x as T4, [3, 4]),
        resizeNearest(x as T4, [10, 5]),
      ],
      inputs: [normal([2, 5, 7, 3], 362)],
    }),
    opts: LINEAR,
  },
  {
    label: 'resizeBilinearAdjoint / resizeNearestAdjoint as functions of dy',
    kernels: ['UnsortedSegmentSum', 'Transpose'],
    build: () => {
      const hp = { alignCorners: false, halfPixelCenters: true };
      const legacy = { alignCorners: false, halfPixelCenters: false };
      return {
        f: (up, down) => [
          resizeBilinearAdjoint(up as T4, [5, 7]),
          resizeBilinearAdjoint(down as T4, [5, 7], hp),
          resizeNearestAdjoint(up as T4, [5, 7], legacy),
        ],
        inputs: [normal([2, 9, 12, 3], 363), normal([2, 3, 4, 3], 364)],
      };
    },
    opts: LINEAR,
  },
  {
    label: 'resizeBicubicLast2: up, down, one axis',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (x) => [
        resizeBicubicLast2(x, [7, 6]),
        resizeBicubicLast2(x, [3, 3]),
        resizeBicubicLast2(x, [4, 9]),
      ],
      inputs: [normal([2, 3, 4, 5], 370)],
    }),
    opts: LINEAR,
  },
  {
    label: 'pixelShuffle ×2 and pixelUnshuffle ×2',
    kernels: ['Transpose', 'Reshape'],
    build: () => ({
      f: (x, y) => [pixelShuffle(x as T4, 2), pixelUnshuffle(y as T4, 2)],
      inputs: [normal([2, 3, 4, 8], 380), normal([2, 6, 4, 3], 381)],
    }),
  },
  {
    label: 'carafe scale 2, k 3 (phase form)',
    kernels: ['BatchMatMul', 'PadV2', 'Pack'],
    build: () => ({
      f: (x, k) => carafe(x as T4, k as T4, 3, 1, 2),
      inputs: [normal([2, 3, 4, 5], 390), normal([2, 6, 8, 9], 391, 0.3)],
    }),
    opts: LINEAR,
  },
  {
    label: 'carafe scale 1, k 3 (per-tap form)',
    kernels: ['PadV2', 'Slice', 'Unpack'],
    build: () => ({
      f: (x, k) => carafe(x as T4, k as T4, 3, 1, 1),
      inputs: [normal([2, 3, 4, 5], 392), normal([2, 3, 4, 9], 393, 0.3)],
    }),
    opts: LINEAR,
  },
  {
    label: 'carafe scale 2, k 5, in bands of source rows',
    kernels: ['BatchMatMul', 'Concat'],
    build: () => ({
      f: (x, k) => carafe(x as T4, k as T4, 5, 1, 2, '', 2 * 4 * 25 * 2),
      inputs: [normal([2, 3, 4, 2], 394), normal([2, 6, 8, 25], 395, 0.2)],
    }),
    opts: LINEAR,
  },
  {
    label: 'gridSample (border): input and grid, between pixels and beyond the border',
    kernels: {
      cpu: ['GatherV2', 'Floor', 'Minimum', 'GreaterEqual', 'Select', 'AddN'],
      wasm: ['GatherNd', 'Floor', 'Minimum', 'GreaterEqual', 'Select', 'AddN'],
    },
    build: () => ({
      f: (x, g) => gridSample(x as T4, g as T4),
      inputs: [normal([2, 4, 5, 3], 400), gridFor(2, 3, 4, 4, 5, 401)],
    }),
  },
  // The loss: a mean over all label pixels, so its gradient per logit is small next to its
  // value and central differences are noisy; small shapes keep the ratio low, and h = 0.05 is
  // safe for this analytic function (the error kept falling up to h = 0.2). The batch-2 case is
  // checked against an exact float64 reference in lib/ops/resize_reference.test.ts.
  {
    label: 'segCrossEntropy: logits 2×3 → labels 5×7, ignore 255',
    kernels: ['ResizeBilinear', 'logSoftmax__op', 'OneHot', 'NotEqual', 'Select', 'Cast'],
    build: () => ({
      f: (lg, y) => segCrossEntropy(lg as T4, y as tf.Tensor3D),
      inputs: [normal([1, 2, 3, 4], 410, 2), labels([1, 5, 7], 4, 411)],
    }),
    opts: { eps: 0.05 },
  },
  {
    label: 'segCrossEntropy: logits at label size 3×2, ignore 255',
    kernels: ['logSoftmax__op', 'OneHot'],
    build: () => ({
      f: (lg, y) => segCrossEntropy(lg as T4, y as tf.Tensor3D),
      inputs: [normal([1, 3, 2, 4], 412, 2), labels([1, 3, 2], 4, 413)],
    }),
  },
];
