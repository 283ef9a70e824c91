/**
 * The pre-norm residual block of vision transformers (MiT in SegFormer, Swin):
 *   y = x + DropPath(attn(norm1(x))),  out = y + DropPath(ffn(norm2(y)))
 * as mmseg's `TransformerEncoderLayer` (mit.py) and `SwinBlock` (swin.py) compute it. The
 * modules are the caller's own children, so state-dict keys stay where each family puts them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../rng.ts';
import { dropPath } from './drop_path.ts';

/** Anything with a forward from and to NHWC (or token) tensors of one shape. */
interface Forward {
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

/**
 * One pre-norm block step on `x` [B, H, W, C] (or [B, N, 1, C] tokens), same shape out.
 * `dropProb` is the stochastic-depth rate, active only when `training`.
 */
export function preNormResidual(
  x: tf.Tensor4D,
  m: { norm1: Forward; attn: Forward; norm2: Forward; ffn: Forward },
  dropProb: number,
  training: boolean,
  rng: Rng,
): tf.Tensor4D {
  return tf.tidy(() => {
    const a = dropPath(m.attn.forward(m.norm1.forward(x)), dropProb, training, rng);
    const y = tf.add(x, a) as tf.Tensor4D;
    const f = dropPath(m.ffn.forward(m.norm2.forward(y)), dropProb, training, rng);
    return tf.add(y, f);
  });
}
