/**
 * The op-level gradient table for our convolutions (lib/ops/conv.ts), with every stride /
 * padding / dilation / depthwise configuration the models build (grep of lib/models: 3×3 s1/s2
 * p1, 7×7 s4 p3, k×k s=k p0 for k = 2, 4, 8, 1×1, depthwise 3×3 s1/s2, 5×5, 1×k / k×1 strips
 * for k = 7, 11, 21; dilation 2 is supported by lib/ops/conv.ts though no model uses it), and
 * fused bias and ReLU. Each case is checked against central differences of its own forward pass
 * (./gradcheck.ts) on cpu and on wasm; the table is part of LIB_CASES (./lib_op_cases.ts), run
 * by lib/ops/gradcheck.ops2.test.ts with the runner of ./op_cases.ts.
 *
 * Step sizes: an op that is linear in each input (convolution, matrix product, resize,
 * CARAFE, …) has an exact central difference at any step, so the step only divides the float32
 * rounding of the objective; those cases use h = 0.1 instead of 0.01 (10× less noise, the
 * 1e-3 tolerance unchanged). With h = 0.01 the strided convs measured up to 1.1e-3 on wasm,
 * while their analytic input gradient matched a float64 adjoint to 5e-8 (noise, not error).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ConvArgs, conv2d, depthwiseConv2d } from '../../lib/ops/conv.ts';
import { normal, uniform } from './op_case_inputs.ts';
import type { OpCase } from './op_case_types.ts';

/** Step for ops linear in each input (see the file comment). */
export const LINEAR = { eps: 0.1 };

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

export const LIB_CONV_CASES: OpCase[] = [
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
];
