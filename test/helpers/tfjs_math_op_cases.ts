/**
 * The op-level gradient table, part 1 of the tfjs kernels: elementwise arithmetic (unary ops,
 * broadcasting binary ops, Maximum / Minimum, AddN, Select), reductions (Sum, Mean, Max),
 * Softmax / logSoftmax and matrix products (BatchMatMul, _FusedMatMul). Each case is checked
 * against central differences of its own forward pass (./gradcheck.ts) on cpu and on wasm by
 * the runner of ./op_cases.ts, which assembles TFJS_CASES from this table,
 * ./tfjs_layout_op_cases.ts and ./tfjs_zero_grad_op_cases.ts. Inputs keep a margin of ≥ 0.05
 * from kinks and ties (./op_case_inputs.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { apart, awayFrom, distinct, normal, S, uniform } from './op_case_inputs.ts';
import type { OpCase } from './op_case_types.ts';

/**
 * tfjs' BatchMatMul gradient (tfjs-core gradients/BatchMatMul_grad.ts) never sums over
 * broadcast batch dimensions, so the gradient of the broadcast operand has the batch shape of
 * the output and the tape throws a shape error. No model broadcasts a batched product (every
 * matMul in lib/models pairs equal batches, or two matrices).
 */
export const BROADCAST_MATMUL =
  'KNOWN WRONG (throws): tfjs BatchMatMul gradient does not reduce broadcast batch dims ' +
  "(input 'b' gets shape [2,8,7] for [8,7]); no model broadcasts (docs/gradients.md)";

const unary = (
  kernel: string,
  op: (x: tf.Tensor) => tf.Tensor,
  x: () => tf.Tensor,
  label = kernel,
): OpCase => ({ label, kernels: [kernel], build: () => ({ f: (t) => op(t), inputs: [x()] }) });

export const TFJS_MATH_CASES: OpCase[] = [
  unary('Exp', tf.exp, () => normal(S, 1, 0.7)),
  unary('Log', tf.log, () => uniform(S, 2, 0.3, 3)),
  unary('Neg', tf.neg, () => normal(S, 3)),
  unary('Erf', tf.erf, () => normal(S, 4)),
  unary('Relu', tf.relu, () => awayFrom(S, 5), 'Relu (inputs ≥ 0.1 from 0)'),
  unary('Rsqrt', tf.rsqrt, () => uniform(S, 6, 0.3, 3)),
  unary('Sigmoid', tf.sigmoid, () => normal(S, 7, 2)),
  unary('Sqrt', tf.sqrt, () => uniform(S, 8, 0.3, 3)),
  unary('Square', tf.square, () => normal(S, 9)),
  unary('Identity', tf.clone, () => normal(S, 10), 'Identity (clone)'),
  unary(
    'Cast',
    (x) => tf.cast(x, 'float32'),
    () => normal(S, 11),
    'Cast float32→float32',
  ),
  {
    label: 'Add: bias, per-sample channel, scalar broadcasts',
    kernels: ['Add'],
    build: () => ({
      f: (a, b, c) => [tf.add(a, b), tf.add(c, a), tf.add(a, 0.5)],
      inputs: [normal(S, 12), normal([3], 13), normal([2, 1, 1, 3], 14)],
    }),
  },
  {
    label: 'Sub: broadcasts both ways, scalar first',
    kernels: ['Sub'],
    build: () => ({
      f: (a, b, c) => [tf.sub(a, b), tf.sub(c, a), tf.sub(1, a)],
      inputs: [normal(S, 15), normal([3], 16), normal([2, 1, 1, 3], 17)],
    }),
  },
  {
    label: 'Multiply: broadcasts, x·x',
    kernels: ['Multiply'],
    build: () => ({
      f: (a, b, c) => [tf.mul(a, b), tf.mul(c, a), tf.mul(a, a)],
      inputs: [normal(S, 18), normal([3], 19), normal([2, 1, 1, 3], 20)],
    }),
  },
  {
    label: 'RealDiv: broadcast denominators, constant',
    kernels: ['RealDiv'],
    build: () => ({
      f: (a, b, c) => [tf.div(a, b), tf.div(a, c), tf.div(b, c), tf.div(a, 7)],
      inputs: [normal(S, 21), uniform([3], 22, 0.5, 2), uniform([2, 1, 1, 3], 23, 0.5, 2)],
    }),
  },
  {
    label: 'Maximum: pairs ≥ 0.05 apart, and with a constant',
    kernels: ['Maximum'],
    build: () => {
      const a = awayFrom(S, 24, 0.2, 0.05);
      return { f: (x, y) => [tf.maximum(x, y), tf.maximum(x, 0.2)], inputs: [a, apart(a, 25)] };
    },
  },
  {
    label: 'Minimum: pairs ≥ 0.05 apart, and with a constant',
    kernels: ['Minimum'],
    build: () => {
      const a = awayFrom(S, 26, 3, 0.05);
      return { f: (x, y) => [tf.minimum(x, y), tf.minimum(x, 3)], inputs: [a, apart(a, 27)] };
    },
  },
  {
    label: 'AddN of 3',
    kernels: ['AddN'],
    build: () => ({
      f: (a, b, c) => tf.addN([a, b, c]),
      inputs: [normal([3, 4, 5], 28), normal([3, 4, 5], 29), normal([3, 4, 5], 30)],
    }),
  },
  {
    label: 'Select (where) with a fixed mask',
    kernels: ['Select'],
    build: () => {
      const cond = tf.greater(normal(S, 31), 0);
      return { f: (a, b) => tf.where(cond, a, b), inputs: [normal(S, 32), normal(S, 33)] };
    },
  },
  {
    label: 'Sum: leading axes [0,1,2], axis 1 of [B,HW,C], last axis keepDims, all',
    kernels: ['Sum'],
    build: () => ({
      f: (x) => [
        tf.sum(x, [0, 1, 2]),
        tf.sum(tf.reshape(x, [2, 35, 3]), 1),
        tf.sum(x, -1, true),
        tf.sum(x),
      ],
      inputs: [normal(S, 34)],
    }),
  },
  {
    label: 'Mean: leading axes [0,1,2], axis 1 of [B,HW,C], last axis keepDims, all',
    kernels: ['Mean'],
    build: () => ({
      f: (x) => [
        tf.mean(x, [0, 1, 2]),
        tf.mean(tf.reshape(x, [2, 35, 3]), 1),
        tf.mean(x, -1, true),
        tf.mean(x),
      ],
      inputs: [normal(S, 35)],
    }),
  },
  {
    label: 'Max (reduce) over last, middle and all axes, no ties',
    kernels: ['Max'],
    build: () => ({
      f: (x) => [tf.max(x, -1), tf.max(x, 1), tf.max(x)],
      inputs: [distinct([2, 5, 7], 36)],
    }),
  },
  {
    label: 'Softmax over the last axis',
    kernels: ['Softmax'],
    build: () => ({ f: (x) => tf.softmax(x), inputs: [normal([2, 3, 4, 5], 37, 2)] }),
  },
  {
    label: 'logSoftmax (tfjs customGrad op)',
    kernels: ['logSoftmax__op'],
    build: () => ({ f: (x) => tf.logSoftmax(x), inputs: [normal([7, 5], 38, 2)] }),
  },
  {
    label: 'BatchMatMul 2-D: nn, nt, tn',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (a, b, bt, at) => [
        tf.matMul(a, b),
        tf.matMul(a, bt, false, true),
        tf.matMul(at, b, true, false),
      ],
      inputs: [normal([9, 6], 39), normal([6, 5], 40), normal([5, 6], 41), normal([6, 9], 42)],
    }),
  },
  {
    label: 'BatchMatMul 3-D/4-D batched: nn, nt, tn, 4-D nt (attention)',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (a, b, bt, a4, b4) => [
        tf.matMul(a, b),
        tf.matMul(a, bt, false, true),
        tf.matMul(b, bt, true, true),
        tf.matMul(a4, b4, false, true),
      ],
      inputs: [
        normal([2, 7, 5], 43),
        normal([2, 5, 6], 44),
        normal([2, 6, 5], 45),
        normal([2, 3, 5, 4], 46),
        normal([2, 3, 6, 4], 47),
      ],
    }),
  },
  {
    label: 'BatchMatMul 41×40×41 per batch pair (XNNPACK pair path of the wasm kernel)',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (a, b) => tf.matMul(a, b, false, true),
      inputs: [normal([2, 41, 40], 50, 0.3), normal([2, 41, 40], 51, 0.3)],
    }),
  },
  {
    label: 'BatchMatMul with a broadcast batch: [2,9,8]·[8,7]',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (a, b) => tf.matMul(a, b),
      inputs: [normal([2, 9, 8], 48), normal([8, 7], 49)],
    }),
    skip: { cpu: BROADCAST_MATMUL, wasm: BROADCAST_MATMUL },
  },
  {
    // ReLU on both sides of the kink: positive a, columns 0 and 2 with positive weights and bias
    // (active), 1 and 3 negative (clamped); every pre-activation is ≥ 0.15 from the kink.
    label: '_FusedMatMul: bias; bias + ReLU, both sides of the kink',
    kernels: ['_FusedMatMul', 'fusedMatMul__op'],
    build: () => {
      const sign = tf.tensor1d([1, -1, 1, -1]);
      return {
        f: (a, b, c, bias) => [
          tf.fused.matMul({ a, b: c, bias }),
          tf.fused.matMul({
            a,
            b,
            bias: tf.add(tf.mul(sign, 0.2), tf.mul(bias, 0.05)),
            activation: 'relu',
          }),
        ],
        inputs: [
          uniform([35, 6], 52, 0.5, 1.5),
          tf.mul(uniform([6, 4], 53, 0.05, 0.15), sign),
          normal([6, 4], 54, 0.3),
          normal([4], 55),
        ],
      };
    },
  },
];
