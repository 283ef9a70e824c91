/**
 * Traced normalisations over NHWC tensors. Recorded MACs follow fvcore: BatchNorm (affine) 2·numel
 * at inference, GroupNorm/LayerNorm (affine) 5·numel. The ONNX exporter records GroupNorm and
 * LayerNorm as one op each (./composite.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { recordOp } from './trace.ts';
import { asComposite } from './composite.ts';

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

/**
 * GroupNorm over NHWC: statistics per (sample, group) over H, W and the group's channels.
 *
 * Written for the WASM backend's fast paths (docs/training_speed.md): per-channel sums over the pixels
 * ([B, H·W, C] reduced on axis 1, a column sum), the few channels of a group summed on the tiny
 * [B, G, C/G] result, and only [B, H·W, C] ∘ [B, 1, C] broadcasts — no 5-D broadcasts or
 * transposed reductions. The variance is two-pass (mean of squared deviations), as torch.
 */
export function groupNorm(
  x: tf.Tensor4D,
  groups: number,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  scope = '',
): tf.Tensor4D {
  recordOp('group_norm', 5 * x.size, scope, [x.shape]);
  const op = { kind: 'group_norm', groups, eps } as const;
  return asComposite(op, [x, gamma, beta], () => groupNormKernels(x, groups, gamma, beta, eps));
}

function groupNormKernels(
  x: tf.Tensor4D,
  groups: number,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const cg = c / groups;
    const n = h * w * cg; // elements per (sample, group)
    // PyTorch groups are contiguous channel blocks: channel c is in group floor(c / (C/G)).
    const x3 = tf.reshape(x, [b, h * w, c]); // (B, HW, C)
    /** Per-(sample, group) mean of t [B, HW, C], expanded back to channels: (B, 1, C). */
    const groupMean = (t: tf.Tensor): tf.Tensor => {
      const perChannel = tf.reshape(tf.sum(t, 1), [b, groups, cg]); // (B, G, C/G)
      const g = tf.div(tf.sum(perChannel, 2, true), n); // (B, G, 1)
      return tf.reshape(tf.broadcastTo(g, [b, groups, cg]), [b, 1, c]); // (B, 1, C)
    };
    const d = tf.sub(x3, groupMean(x3)); // (B, HW, C) deviations
    const variance = groupMean(tf.square(d)); // (B, 1, C), biased as torch
    const a = tf.mul(tf.rsqrt(tf.add(variance, eps)), gamma); // (B, 1, C)
    return tf.reshape(tf.add(tf.mul(d, a), beta), [b, h, w, c]) as tf.Tensor4D; // (B, H, W, C)
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
  return asComposite({ kind: 'layer_norm', eps }, [x, gamma, beta], () =>
    tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
      return tf.add(tf.mul(y, gamma), beta);
    }),
  ) as T;
}
