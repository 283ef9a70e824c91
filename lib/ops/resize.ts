/** Traced resizes with PyTorch semantics (docs/architecture.md, Resizing). NHWC. */
import * as tf from '@tensorflow/tfjs-core';
import { numel, recordOp } from './trace.ts';

/** torch F.interpolate(mode='bilinear', align_corners=False) == TF half-pixel centres. */
export function resizeBilinear(x: tf.Tensor4D, size: [number, number], scope = ''): tf.Tensor4D {
  // Recorded even when the size is unchanged: torch still runs (and fvcore counts) the op.
  recordOp('upsample_bilinear', 4 * numel([x.shape[0], size[0], size[1], x.shape[3]]), scope, [
    x.shape,
  ]);
  if (x.shape[1] === size[0] && x.shape[2] === size[1]) return tf.clone(x);
  return tf.image.resizeBilinear(x, size, false, true);
}

/** torch F.interpolate(mode='nearest'): src = floor(dst · in/out), no half-pixel centres. */
export function resizeNearest(x: tf.Tensor4D, size: [number, number], scope = ''): tf.Tensor4D {
  recordOp('upsample_nearest', numel([x.shape[0], size[0], size[1], x.shape[3]]), scope, [x.shape]);
  if (x.shape[1] === size[0] && x.shape[2] === size[1]) return tf.clone(x);
  return tf.image.resizeNearestNeighbor(x, size, false, false);
}
