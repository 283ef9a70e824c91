/**
 * Gradients tfjs-core does not define on any backend, for ops our models may use in training
 * (every kernel a training step needs has a gradient, checked in docs/gradients.md): GatherNd (grid sampling /
 * CARAFE-style lookups), StridedSlice (PyTorch `x[:, ::2]`), DepthToSpace (pixel shuffle) and
 * ScatterNd (its updates), plus zero gradients for comparisons and logical ops. Registered
 * only where no gradient exists; backend-agnostic.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import { attr } from './common.ts';
import './gradients.ts';

const gatherNdGrad: GradConfig = {
  kernelName: 'GatherNd',
  inputsToSave: ['params', 'indices'],
  gradFunc: (dy, saved) => {
    const [params, indices] = saved;
    // ScatterNd adds the updates of duplicate indices, as the gradient must.
    return {
      params: () => tf.scatterND(indices, dy as tf.Tensor, params.shape),
      indices: () => tf.zerosLike(indices),
    };
  },
};

const scatterNdGrad: GradConfig = {
  kernelName: 'ScatterNd',
  inputsToSave: ['indices'],
  gradFunc: (dy, saved) => {
    const [indices] = saved;
    return {
      updates: () => tf.gatherND(dy as tf.Tensor, indices),
      indices: () => tf.zerosLike(indices),
    };
  },
};

/** Flat input offsets read by a strided slice, in output order. */
function stridedOffsets(xShape: number[], attrs: NamedAttrMap): Int32Array {
  const a = <T>(n: string): T => attr<T>(attrs, n);
  const info = tf.slice_util.sliceInfo(
    xShape,
    a<number[]>('begin'),
    a<number[]>('end'),
    a<number[]>('strides'),
    a<number>('beginMask'),
    a<number>('endMask'),
    a<number>('ellipsisMask'),
    a<number>('newAxisMask'),
    a<number>('shrinkAxisMask'),
  );
  const box = tf.slice_util
    .computeOutShape(info.begin, info.end, info.strides)
    .map((v) => Math.max(0, v));
  const r = xShape.length;
  const xs = new Array<number>(r);
  let acc = 1;
  for (let d = r - 1; d >= 0; d--) {
    xs[d] = acc;
    acc *= xShape[d];
  }
  const n = box.reduce((p, q) => p * q, 1);
  const out = new Int32Array(n);
  const idx = new Array<number>(r).fill(0);
  let off = info.begin.reduce((p, v, d) => p + v * xs[d], 0);
  for (let k = 0; k < n; k++) {
    out[k] = off;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++;
      off += info.strides[d] * xs[d];
      if (idx[d] < box[d]) break;
      off -= info.strides[d] * xs[d] * box[d];
      idx[d] = 0;
    }
  }
  return out;
}

const stridedSliceGrad: GradConfig = {
  kernelName: 'StridedSlice',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    return {
      x: () => {
        const offsets = stridedOffsets(x.shape, attrs);
        const flat = tf.scatterND(
          tf.tensor2d(offsets, [offsets.length, 1], 'int32'),
          tf.reshape(dy as tf.Tensor, [offsets.length]),
          [x.size],
        ); // (size(x)); each input element is read at most once
        return tf.reshape(flat, x.shape);
      },
    };
  },
};

const depthToSpaceGrad: GradConfig = {
  kernelName: 'DepthToSpace',
  gradFunc: (dy, _saved, attrs) => {
    const b = attr<number>(attrs, 'blockSize');
    const fmt = attr<string | undefined>(attrs, 'dataFormat') ?? 'NHWC';
    return {
      x: () => {
        const g = (
          fmt === 'NHWC' ? dy : tf.transpose(dy as tf.Tensor, [0, 2, 3, 1])
        ) as tf.Tensor4D;
        const [n, hb, wb, c] = g.shape;
        const h = hb / b;
        const w = wb / b;
        const t = tf.transpose(tf.reshape(g, [n, h, b, w, b, c]), [0, 1, 3, 2, 4, 5]); // (N, H, W, bi, bj, C)
        const s = tf.reshape(t, [n, h, w, b * b * c]); // channel (bi·b + bj)·C + c
        return fmt === 'NHWC' ? s : tf.transpose(s, [0, 3, 1, 2]);
      },
    };
  },
};

/**
 * Comparisons and logical ops pass no gradient (as in PyTorch), but tfjs-core has no gradient
 * function for most of them, so backprop through a mask computed from activations throws
 * ("gradient function not found for Greater"). GreaterEqual / ArgMax already return zeros.
 */
function zeroGrad(kernelName: string, inputs: string[]): GradConfig {
  return {
    kernelName,
    inputsToSave: inputs,
    gradFunc: (_dy, saved) =>
      Object.fromEntries(
        inputs.map((name, i) => [name, () => tf.zeros(saved[i].shape, 'float32')]),
      ),
  };
}
const ZERO_GRADS = [
  ...[
    'Greater',
    'Less',
    'LessEqual',
    'Equal',
    'NotEqual',
    'LogicalAnd',
    'LogicalOr',
    'LogicalXor',
  ].map((k) => zeroGrad(k, ['a', 'b'])),
  zeroGrad('LogicalNot', ['x']),
];

/** Register the gradients above where tfjs-core has none (idempotent). */
export function registerMissingGradients(): string[] {
  const added: string[] = [];
  for (const g of [
    gatherNdGrad,
    scatterNdGrad,
    stridedSliceGrad,
    depthToSpaceGrad,
    ...ZERO_GRADS,
  ]) {
    if (tf.getGradient(g.kernelName)) continue;
    tf.registerGradient(g);
    added.push(g.kernelName);
  }
  return added;
}
