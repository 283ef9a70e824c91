/**
 * The op-level gradient table, part 3 of the tfjs kernels: kernels with no derivative in their
 * input (Floor, ZerosLike, comparisons and the casts of their masks, OneHot, Range, Cast to
 * int32). Each case is checked against central differences of its own forward pass
 * (./gradcheck.ts) on cpu and on wasm by the runner of ./op_cases.ts, which assembles TFJS_CASES
 * from ./tfjs_math_op_cases.ts, ./tfjs_layout_op_cases.ts and this table. Inputs stay ≥ 0.05
 * from the steps and switching points (./op_case_inputs.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { apart, awayFrom, fractional, normal, S } from './op_case_inputs.ts';
import type { OpCase } from './op_case_types.ts';

/**
 * tfjs' Cast gradient (tfjs-core gradients/Cast_grad.ts) returns dy for every cast, so a cast
 * to int32 passes gradient straight through where the derivative is 0 (TF's _CastGrad returns
 * None for non-float targets; PyTorch does not differentiate integer tensors). No model
 * differentiates through such a cast: the only float→int32 cast of a training step is inside
 * the forward of grid_sample's customGrad row gather, whose index gradient is defined as 0.
 */
export const TFJS_ZERO_GRAD_CASES: OpCase[] = [
  // Kernels with no derivative in their input (piecewise constant, integer or no input): the
  // composite makes the objective non-trivial; a nonzero gradient through them would fail.
  {
    label: 'Floor: zero gradient (x² + floor(x), off the integers)',
    kernels: ['Floor'],
    build: () => ({ f: (x) => tf.add(tf.square(x), tf.floor(x)), inputs: [fractional(S, 79)] }),
  },
  {
    label: 'ZerosLike: zero gradient',
    kernels: ['ZerosLike'],
    build: () => ({ f: (x) => tf.add(tf.square(x), tf.zerosLike(x)), inputs: [normal(S, 80)] }),
  },
  {
    label: 'GreaterEqual + Cast(bool→float32): masks carry no gradient',
    kernels: ['GreaterEqual', 'Cast'],
    build: () => ({
      f: (x, y) => [
        tf.mul(x, tf.cast(tf.greaterEqual(x, 0.3), 'float32')),
        tf.where(tf.greaterEqual(0.3, x), tf.mul(x, 2), y),
      ],
      inputs: [awayFrom(S, 81, 0.3, 0.05), normal(S, 82)],
    }),
  },
  {
    label: 'NotEqual + Cast(bool→float32): masks carry no gradient',
    kernels: ['NotEqual', 'Cast'],
    build: () => {
      const a = normal(S, 83);
      return {
        f: (x, y) => tf.mul(tf.add(x, y), tf.cast(tf.notEqual(x, y), 'float32')),
        inputs: [a, apart(a, 84)],
      };
    },
  },
  {
    label: 'OneHot: integer input; x·onehot',
    kernels: ['OneHot'],
    build: () => {
      const idx = tf.tensor1d([0, 4, 2, 2, 1, 3], 'int32');
      return { f: (x) => tf.mul(x, tf.oneHot(idx, 5)), inputs: [normal([6, 5], 85)] };
    },
  },
  {
    label: 'Range: no tensor input; x·range',
    kernels: ['Range'],
    build: () => ({
      f: (x) => tf.mul(x, tf.range(0, 7, 1, 'float32')),
      inputs: [normal([3, 7], 86)],
    }),
  },
  {
    label: 'Cast float32→int32→float32 (derivative 0 off the integers)',
    kernels: ['Cast'],
    build: () => ({
      f: (x) => tf.add(tf.square(x), tf.cast(tf.cast(x, 'int32'), 'float32')),
      inputs: [fractional([3, 7], 87)],
    }),
  },
];
