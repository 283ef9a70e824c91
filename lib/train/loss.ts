/**
 * mmseg's decode-head loss (`mmseg/models/decode_heads/decode_head.py` `loss_by_feat`): logits resized bilinearly (align_corners False) to
 * the label size, softmax cross-entropy with ignore_index 255, reduction 'mean' with
 * avg_non_ignore=False — the sum over valid pixels divided by ALL pixels of the batch.
 *
 * Memory: the label-size tensors ([B·H·W, K], e.g. 2·512²·150 floats = 300 MB each) dominate a
 * training step's memory if autodiff keeps them (resize output, log-softmax, one-hot, product…
 * ≈ 8 copies measured). The loss is therefore one custom-gradient op that keeps only the
 * low-resolution logits and recomputes the label-size softmax in the backward pass:
 *   ∂L/∂up = (softmax(up) − onehot(label)) · valid / (B·H·W),  ∂L/∂logits = resizeᵀ(∂L/∂up).
 * `segCrossEntropyReference` is the plain autodiff formulation the tests compare it with.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resizeBilinear } from '../ops/resize.ts';
import { resizeBilinearAdjoint } from '../ops/resize_adjoint.ts';

export const IGNORE_INDEX = 255;

/** Per-pixel terms at label size: log-probabilities [P,K], safe labels (P), valid mask (P). */
function labelSizeTerms(
  logits: tf.Tensor4D,
  labels: tf.Tensor3D,
  ignoreIndex: number,
): { up: tf.Tensor2D; safe: tf.Tensor1D; valid: tf.Tensor1D } {
  const [b, hl, wl] = labels.shape;
  const k = logits.shape[3];
  const up = tf.reshape(resizeBilinear(logits, [hl, wl]), [b * hl * wl, k]) as tf.Tensor2D; // [B,H,W,K] → (P, K)
  const flat = tf.reshape(labels, [b * hl * wl]); // [B,H,W] → (P)
  const validBool = tf.notEqual(flat, ignoreIndex); // (P)
  const safe = tf.where(validBool, flat, tf.zerosLike(flat)) as tf.Tensor1D; // ignored → class 0, masked
  return { up, safe, valid: tf.cast(validBool, 'float32') as tf.Tensor1D };
}

/** logits [B,h,w,K] (any stride), labels int32 [B,H,W] → scalar loss. */
export function segCrossEntropy(
  logits: tf.Tensor4D,
  labels: tf.Tensor3D,
  ignoreIndex = IGNORE_INDEX,
): tf.Scalar {
  const [b, hl, wl] = labels.shape;
  const k = logits.shape[3];
  const denom = b * hl * wl;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const lg = args[0] as tf.Tensor4D;
    (args[1] as tf.GradSaveFunc)([lg]);
    const value = tf.tidy(() => {
      const { up, safe, valid } = labelSizeTerms(lg, labels, ignoreIndex);
      const picked = tf.sum(tf.mul(tf.logSoftmax(up), tf.oneHot(safe, k)), 1); // log p[label] (P)
      return tf.div(tf.sum(tf.mul(tf.neg(picked), valid)), denom) as tf.Scalar;
    });
    const gradFunc = (dy: tf.Scalar, saved: tf.Tensor[]): tf.Tensor =>
      tf.tidy(() => {
        const low = saved[0] as tf.Tensor4D;
        const { up, safe, valid } = labelSizeTerms(low, labels, ignoreIndex);
        const scale = tf.mul(tf.reshape(valid, [-1, 1]), tf.div(dy, denom)); // (P, 1)
        const dUp = tf.mul(tf.sub(tf.softmax(up), tf.oneHot(safe, k)), scale); // (P, K)
        const dUp4 = tf.reshape(dUp, [b, hl, wl, k]); // (P, K) → [B,H,W,K]
        // Transpose of the bilinear resize (exact adjoint; tfjs' ResizeBilinearGrad kernel
        // ignores half-pixel centres), no label-size tensor kept.
        if (low.shape[1] === hl && low.shape[2] === wl) return dUp4;
        return resizeBilinearAdjoint(dUp4 as tf.Tensor4D, [low.shape[1], low.shape[2]]);
      });
    return { value, gradFunc };
  });
  return op(logits);
}

/** The same loss through plain autodiff (keeps every label-size intermediate): tests only. */
export function segCrossEntropyReference(
  logits: tf.Tensor4D,
  labels: tf.Tensor3D,
  ignoreIndex = IGNORE_INDEX,
): tf.Scalar {
  return tf.tidy(() => {
    const [b, hl, wl] = labels.shape;
    const k = logits.shape[3];
    const { up, safe, valid } = labelSizeTerms(logits, labels, ignoreIndex);
    const picked = tf.sum(tf.mul(tf.logSoftmax(up), tf.oneHot(safe, k)), 1); // log p[label] (P)
    return tf.div(tf.sum(tf.mul(tf.neg(picked), valid)), b * hl * wl) as tf.Scalar;
  });
}
