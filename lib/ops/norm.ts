/**
 * Traced normalisations over NHWC tensors. Recorded MACs follow fvcore: BatchNorm (affine) 2·numel
 * at inference, GroupNorm/LayerNorm (affine) 5·numel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { recordOp } from './trace.ts';

/** Record a BatchNorm over a tensor of `shape` (also used where BN was folded into a conv). */
export function recordBatchNorm(shape: number[], scope = ''): void {
  recordOp('batch_norm', 2 * shape.reduce((a, b) => a * b, 1), scope, [shape]);
}

/** Per-channel affine map of BN: scale = γ/√(var + eps), shift = β − mean·scale. */
export function batchNormAffine(
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): { scale: tf.Tensor; shift: tf.Tensor } {
  return tf.tidy(() => {
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, eps)));
    return { scale, shift: tf.sub(beta, tf.mul(mean, scale)) };
  });
}

/** y = (x − mean)/√(var + eps)·γ + β with given per-channel statistics. */
export function batchNormApply(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  scope = '',
): tf.Tensor {
  recordBatchNorm(x.shape, scope);
  return tf.tidy(() => {
    const { scale, shift } = batchNormAffine(mean, variance, gamma, beta, eps);
    return tf.add(tf.mul(x, scale), shift);
  });
}

/** GroupNorm over NHWC: statistics per (sample, group) over H, W and the group's channels. */
export function groupNorm(
  x: tf.Tensor4D,
  groups: number,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  scope = '',
): tf.Tensor4D {
  recordOp('group_norm', 5 * x.size, scope, [x.shape]);
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    // PyTorch groups are contiguous channel blocks: channel c is in group floor(c / (C/G)).
    const xg = tf.reshape(x, [b, h, w, groups, c / groups]); // (B, H, W, G, C/G)
    const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
    const y = tf.mul(tf.sub(xg, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(tf.reshape(y, [b, h, w, c]), gamma), beta) as tf.Tensor4D;
  });
}

/** LayerNorm over the last axis. */
export function layerNorm<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  scope = '',
): T {
  recordOp('layer_norm', 5 * x.size, scope, [x.shape]);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(y, gamma), beta);
  }) as T;
}
