/**
 * Offset Learning for mask classification (OffSeg, ICCV 2025, §4 "Mask2Former + Offset
 * Learning"): the per-query mask embeddings play the role of the class embeddings W (so there is
 * no learnable W) and no LayerNorm follows. Given W [B,Q,C] and pixel features E [B,N,C]:
 *   A = W·Eᵀ (no scaling);  W' = W + P_c(softmax_N(A)·E);  E' = E + P_f(softmax_Q(A)ᵀ·W)
 * with P_c (`cls_offset_proj`) and P_f (`feat_offset_proj`) bias-free Linear(C, C), truncated
 * normal (std 0.02) — 2C² parameters (131,072 for C = 256). The feature branch pools the
 * original W. The head then predicts masks W'·E'ᵀ. Pixel features NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { reinit, truncNormal } from '../../core/init.ts';
import { Linear } from '../../layers/linear.ts';
import { matMul } from '../../../ops/conv.ts';

export class OffsetLearningMask extends Module {
  readonly clsOffsetProj: Linear;
  readonly featOffsetProj: Linear;
  constructor(readonly channels: number) {
    super();
    this.clsOffsetProj = this.child('cls_offset_proj', new Linear(channels, channels, false));
    this.featOffsetProj = this.child('feat_offset_proj', new Linear(channels, channels, false));
    reinit(this.clsOffsetProj.weight, truncNormal([channels, channels], 0.02));
    reinit(this.featOffsetProj.weight, truncNormal([channels, channels], 0.02));
  }

  /** embed [B,Q,C], feats [B,H,W,C] → { embed: W' [B,Q,C], feats: E' [B,H,W,C] }. */
  forward(embed: tf.Tensor3D, feats: tf.Tensor4D): { embed: tf.Tensor3D; feats: tf.Tensor4D } {
    return tf.tidy(() => {
      const [b, h, w, c] = feats.shape;
      if (c !== this.channels)
        throw new Error(`OffsetLearningMask: expected ${this.channels} channels, got ${c}`);
      const e = tf.reshape(feats, [b, h * w, c]); // E (B, N, C)
      const aQN = matMul(embed, e, false, true, this.path); // A (B, Q, N)
      const fCls = matMul(tf.softmax(aQN), e, false, false, this.path); // softmax over N → (B, Q, C)
      const wAdj = tf.add(embed, this.clsOffsetProj.forward(fCls)) as tf.Tensor3D;
      const aNQ = tf.transpose(aQN, [0, 2, 1]); // (B, N, Q)
      const fPos = matMul(tf.softmax(aNQ), embed, false, false, this.path); // softmax over Q → (B, N, C)
      const eAdj = tf.add(e, this.featOffsetProj.forward(fPos));
      return { embed: wAdj, feats: tf.reshape(eAdj, [b, h, w, c]) as tf.Tensor4D };
    });
  }
}
