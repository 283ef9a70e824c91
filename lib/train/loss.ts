/**
 * mmseg's decode-head loss (offseg.md §1.3): logits resized bilinearly (align_corners False) to
 * the label size, softmax cross-entropy with ignore_index 255, reduction 'mean' with
 * avg_non_ignore=False — the sum over valid pixels divided by ALL pixels of the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resizeBilinear } from '../ops/resize.ts';

export const IGNORE_INDEX = 255;

/** logits [B,h,w,K] (any stride), labels int32 [B,H,W] → scalar loss. */
export function segCrossEntropy(
  logits: tf.Tensor4D,
  labels: tf.Tensor3D,
  ignoreIndex = IGNORE_INDEX,
): tf.Scalar {
  return tf.tidy(() => {
    const [b, hl, wl] = labels.shape;
    const k = logits.shape[3];
    const up = resizeBilinear(logits, [hl, wl]); // [B,H,W,K]
    const logp = tf.logSoftmax(tf.reshape(up, [b * hl * wl, k])); // (P, K)
    const flat = tf.reshape(labels, [b * hl * wl]); // (P)
    const valid = tf.notEqual(flat, ignoreIndex); // (P)
    const safe = tf.where(valid, flat, tf.zerosLike(flat)); // ignored → class 0, masked below
    const picked = tf.sum(tf.mul(logp, tf.oneHot(safe, k)), 1); // log p[label] (P)
    const nll = tf.mul(tf.neg(picked), tf.cast(valid, 'float32'));
    return tf.div(tf.sum(nll), b * hl * wl) as tf.Scalar;
  });
}
