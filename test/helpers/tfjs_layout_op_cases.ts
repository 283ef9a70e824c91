/**
 * The op-level gradient table, part 2 of the tfjs kernels: data movement and indexing (Reshape,
 * Transpose, ExpandDims, Concat, Pack / Unpack, SplitV, Slice, PadV2, Tile, GatherV2,
 * UnsortedSegmentSum, GatherNd, ScatterNd, StridedSlice, DepthToSpace). Each case is checked
 * against central differences of its own forward pass (./gradcheck.ts) on cpu and on wasm by
 * the runner of ./op_cases.ts, which assembles TFJS_CASES from ./tfjs_math_op_cases.ts, this
 * table and ./tfjs_zero_grad_op_cases.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normal, S } from './op_case_inputs.ts';
import type { OpCase } from './op_case_types.ts';

export const TFJS_LAYOUT_CASES: OpCase[] = [
  {
    label: 'Reshape',
    kernels: ['Reshape'],
    build: () => ({ f: (x) => tf.reshape(x, [10, 21]), inputs: [normal(S, 55)] }),
  },
  {
    label: 'Transpose: 4-D NHWC→NCHW, 5-D, 6-D (pixel shuffle)',
    kernels: ['Transpose'],
    build: () => ({
      f: (x, y, z) => [
        tf.transpose(x, [0, 3, 1, 2]),
        tf.transpose(y, [0, 2, 1, 4, 3]),
        tf.transpose(z, [0, 1, 4, 2, 5, 3]),
      ],
      inputs: [normal(S, 56), normal([2, 3, 5, 2, 3], 57), normal([2, 3, 4, 2, 2, 2], 58)],
    }),
  },
  {
    label: 'Transpose [2,37,35] → [2,35,37] (wasm tiled path)',
    kernels: ['Transpose'],
    build: () => ({ f: (x) => tf.transpose(x, [0, 2, 1]), inputs: [normal([2, 37, 35], 59)] }),
  },
  {
    label: 'ExpandDims',
    kernels: ['ExpandDims'],
    build: () => ({ f: (x) => tf.expandDims(x, 3), inputs: [normal([2, 5, 7], 60)] }),
  },
  {
    label: 'Concat on axes 3, 1, 0',
    kernels: ['Concat'],
    build: () => ({
      f: (a, b, c) => [tf.concat([a, b], 3), tf.concat([a, c, a], 1), tf.concat([a, a], 0)],
      inputs: [normal(S, 61), normal([2, 5, 7, 2], 62), normal([2, 3, 7, 3], 63)],
    }),
  },
  {
    label: 'Pack (stack) on axes 0 and 3',
    kernels: ['Pack'],
    build: () => ({
      f: (a, b) => [tf.stack([a, b, a]), tf.stack([a, b], 3)],
      inputs: [normal([2, 5, 7], 64), normal([2, 5, 7], 65)],
    }),
  },
  {
    label: 'Unpack (unstack) on axes 0 and 3',
    kernels: ['Unpack'],
    build: () => ({
      f: (x) => [...tf.unstack(x, 0), ...tf.unstack(x, 3)],
      inputs: [normal(S, 66)],
    }),
  },
  {
    label: 'SplitV: 2 equal parts and sizes [1,3,2]',
    kernels: ['SplitV'],
    build: () => ({
      f: (x) => [...tf.split(x, 2, 3), ...tf.split(x, [1, 3, 2], 3)],
      inputs: [normal([2, 5, 7, 6], 67)],
    }),
  },
  {
    label: 'Slice of a 4-D tensor',
    kernels: ['Slice'],
    build: () => ({
      f: (x) => [tf.slice(x, [0, 1, 2, 0], [2, 3, 4, 3]), tf.slice(x, [1, 0, 0, 1], [1, 5, 6, 2])],
      inputs: [normal(S, 68)],
    }),
  },
  {
    label: 'PadV2: asymmetric zero padding',
    kernels: ['PadV2'],
    build: () => ({
      f: (x) =>
        tf.pad(x, [
          [0, 0],
          [1, 2],
          [2, 1],
          [0, 0],
        ]),
      inputs: [normal(S, 69)],
    }),
  },
  {
    label: 'Tile and broadcastTo',
    kernels: ['Tile'],
    build: () => ({
      f: (x, y) => [tf.tile(x, [1, 4, 2]), tf.broadcastTo(y, [2, 4, 3])],
      inputs: [normal([2, 1, 3], 70), normal([2, 1, 3], 71)],
    }),
  },
  {
    label: 'GatherV2 on axes 0 and 1, repeated indices',
    kernels: ['GatherV2'],
    build: () => {
      const i0 = tf.tensor1d([0, 2, 2, 5, 1, 2], 'int32');
      const i1 = tf.tensor1d([6, 0, 3, 3, 6], 'int32');
      return {
        f: (x, y) => [tf.gather(x, i0), tf.gather(y, i1, 1)],
        inputs: [normal([6, 4], 72), normal([3, 7, 2], 73)],
      };
    },
  },
  {
    label: 'UnsortedSegmentSum (data), repeated and empty segments',
    kernels: ['UnsortedSegmentSum'],
    build: () => {
      const ids = tf.tensor1d([0, 2, 2, 1, 0, 4, 2], 'int32');
      return { f: (x) => tf.unsortedSegmentSum(x, ids, 6), inputs: [normal([7, 3], 74)] };
    },
  },
  {
    label: 'GatherNd, repeated index rows',
    kernels: ['GatherNd'],
    build: () => {
      const idx = tf.tensor2d([0, 1, 4, 3, 0, 1, 2, 0], [4, 2], 'int32');
      return { f: (x) => tf.gatherND(x, idx), inputs: [normal([5, 4, 3], 75)] };
    },
  },
  {
    label: 'ScatterNd (updates), repeated indices summed',
    kernels: ['ScatterNd'],
    build: () => {
      const idx = tf.tensor2d([1, 3, 1, 0, 4], [5, 1], 'int32');
      return { f: (u) => tf.scatterND(idx, u, [6, 3]), inputs: [normal([5, 3], 76)] };
    },
  },
  {
    label: 'StridedSlice with strides 2 and 3',
    kernels: ['StridedSlice'],
    build: () => ({
      f: (x) => tf.stridedSlice(x, [0, 1, 0, 0], [2, 9, 7, 3], [1, 2, 3, 1]),
      inputs: [normal([2, 9, 7, 3], 77)],
    }),
  },
  {
    label: 'DepthToSpace block 2',
    kernels: ['DepthToSpace'],
    build: () => ({
      f: (x) => tf.depthToSpace(x as tf.Tensor4D, 2),
      inputs: [normal([2, 3, 5, 8], 78)],
    }),
  },
];
