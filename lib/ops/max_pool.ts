/**
 * Traced max pooling, NHWC (torch nn.MaxPool2d with padding 0, no ceil mode).
 *
 * Recorded as `max_pool` with MACs = input numel (mmcv 0.x's pooling rule). Neither counting
 * convention of lib/analysis counts it: fvcore/mmengine has no handle for aten::max_pool2d.
 */
import * as tf from '@tensorflow/tfjs-core';
import { recordOp } from './trace.ts';

/** x [B,H,W,C] → [B,⌊(H−k)/s⌋+1,⌊(W−k)/s⌋+1,C]. */
export function maxPool2d(x: tf.Tensor4D, kernel: number, stride: number, scope = ''): tf.Tensor4D {
  recordOp('max_pool', x.size, scope, [x.shape]);
  return tf.maxPool(x, kernel, stride, 'valid');
}
