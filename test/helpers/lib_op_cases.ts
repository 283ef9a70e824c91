/**
 * The op-level gradient table for our own ops (lib/ops/*) and the training loss. LIB_CASES is
 * the convolutions of ./lib_conv_op_cases.ts (every configuration the models build, fused bias
 * and ReLU) followed by the cases here: pooling, norms in train mode, GELU, resizes and their
 * adjoints, bicubic, CARAFE, grid sampling, pixel shuffle, segCrossEntropy. Each case is checked
 * against central differences of its own forward pass (./gradcheck.ts) on cpu and on wasm; run
 * by lib/ops/gradcheck.ops2.test.ts with the runner of ./op_cases.ts.
 *
 * Step sizes: ops linear in each input (resizes and their adjoints, bicubic, CARAFE) use
 * LINEAR, h = 0.1 instead of 0.01 (see ./lib_conv_op_cases.ts: the central difference is exact
 * at any step, so a larger step only divides the float32 rounding; the 1e-3 tolerance is
 * unchanged).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../lib/rng.ts';
import { segCrossEntropy } from '../../lib/train/loss.ts';
import { gelu } from '../../lib/ops/activation.ts';
import { resizeBicubicLast2 } from '../../lib/ops/bicubic.ts';
import { carafe } from '../../lib/ops/carafe.ts';
import { gridSample } from '../../lib/ops/grid_sample.ts';
import { maxPool2d } from '../../lib/ops/max_pool.ts';
import { batchNormApply, groupNorm, layerNorm } from '../../lib/ops/norm.ts';
import { pixelShuffle, pixelUnshuffle } from '../../lib/ops/pixel_shuffle.ts';
import { resizeBilinear, resizeNearest } from '../../lib/ops/resize.ts';
import { LIB_CONV_CASES, LINEAR } from './lib_conv_op_cases.ts';
import { distinct, normal } from './op_case_inputs.ts';
import type { OpCase } from './op_case_types.ts';

type T4 = tf.Tensor4D;

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
  ...LIB_CONV_CASES,
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
