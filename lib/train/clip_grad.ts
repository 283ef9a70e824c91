/**
 * Gradient clipping by the global L2 norm, as mmengine's OptimWrapper `clip_grad` calls torch's
 * `clip_grad_norm_` (`torch/nn/utils/clip_grad.py`): total = √(Σ over all gradients of Σ g²);
 * when total > maxNorm every gradient is multiplied by maxNorm / (total + 1e-6), otherwise left
 * alone. Used by the Mask2Former recipe (max_norm 0.01).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Clip `grads` in place (each entry replaced by its scaled copy, the old tensor disposed).
 * Returns the global norm before clipping (the value mmengine logs as `grad_norm`).
 * @throws Error for a non-positive maxNorm.
 */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clip_grad: maxNorm must be positive, got ${maxNorm}`);
  if (grads.size === 0) return 0;
  const sq = tf.tidy(() =>
    tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))) as tf.Scalar[]),
  );
  const total = Math.sqrt(sq.dataSync()[0]);
  sq.dispose();
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const [k, g] of grads) {
      grads.set(k, tf.mul(g, coef));
      g.dispose();
    }
  }
  return total;
}
