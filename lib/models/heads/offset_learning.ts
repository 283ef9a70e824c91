/**
 * Offset Learning (OffSeg, ICCV 2025, §3.3; docs/models.md) — the paper's head.
 *
 * A per-pixel classifier scores pixel features E against fixed class embeddings W. Offset
 * Learning adapts both per image from their coupled attention A = W·Eᵀ:
 *   class offset   ΔW = P_c( softmax_N(A) · E )   (each class pools the pixels that match it)
 *   feature offset ΔE = P_f( softmax_K(A)ᵀ · W )  (each pixel pools the classes it matches)
 * and predicts LayerNorm_K( (E + ΔE)·(W + ΔW)ᵀ ).
 *
 * Faithful to the official module, not to the paper's prose:
 * - P_c and P_f are single bias-free Linear(C, C) layers (the paper says "MLP");
 * - no 1/√C scaling; both softmaxes share the same logits; the feature branch pools the
 *   ORIGINAL W, not W + ΔW;
 * - a LayerNorm over the K class scores of every pixel produces the logits (not in the paper).
 *
 * Layout: NHWC in, NHWC out ([B,H,W,C] → [B,H,W,K]). Tokens are row-major pixels, as torch's
 * flatten(2) of NCHW, so N = H·W in the same order.
 *
 * Options allow the paper's Table 6 ablations (class offset only / feature offset only).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { reinit, truncNormal } from '../core/init.ts';
import { Linear } from '../layers/linear.ts';
import { LayerNorm } from '../layers/norm.ts';
import { matMul } from '../../ops/conv.ts';

export interface OffsetLearningOptions {
  /** K: number of classes. */
  numClasses: number;
  /** C: embedding width (the host head's `channels`: 256 for OffSeg/SegFormer/SegNeXt-T/S). */
  channels: number;
  /** Learn ΔW (default true). Table 6 "class offset". */
  classOffset?: boolean;
  /** Learn ΔE (default true). Table 6 "feature offset". */
  featureOffset?: boolean;
}

export class OffsetLearning extends Module {
  readonly numClasses: number;
  readonly channels: number;
  /** W: (1, K, C), shared by every image of the batch (torch `cls_repr`). */
  readonly clsRepr: tf.Variable;
  readonly clsOffsetProj?: Linear;
  readonly featOffsetProj?: Linear;
  readonly maskNorm: LayerNorm;

  constructor(opts: OffsetLearningOptions) {
    super();
    const { numClasses: k, channels: c } = opts;
    this.numClasses = k;
    this.channels = c;
    this.clsRepr = this.param('cls_repr', truncNormal([1, k, c], 0.02));
    if (opts.classOffset ?? true) {
      this.clsOffsetProj = this.child('cls_offset_proj', new Linear(c, c, false));
      reinit(this.clsOffsetProj.weight, truncNormal([c, c], 0.02));
    }
    if (opts.featureOffset ?? true) {
      this.featOffsetProj = this.child('feat_offset_proj', new Linear(c, c, false));
      reinit(this.featOffsetProj.weight, truncNormal([c, c], 0.02));
    }
    this.maskNorm = this.child('mask_norm', new LayerNorm(k, 1e-5));
  }

  /** x [B,H,W,C] → logits [B,H,W,K]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const k = this.numClasses;
      const n = h * w;
      if (c !== this.channels)
        throw new Error(`OffsetLearning: expected ${this.channels} channels, got ${c}`);
      const e = tf.reshape(x, [b, n, c]); // E (B, N, C)
      const w0 = tf.reshape(this.clsRepr, [k, c]); // W (K, C)
      // Coupled attention, one row per pixel: A_nk = E·Wᵀ  (B·N, K) → (B, N, K)
      const aNK = tf.reshape(matMul(tf.reshape(e, [b * n, c]), w0, false, true, this.path), [
        b,
        n,
        k,
      ]);

      let wAdj: tf.Tensor = tf.broadcastTo(tf.reshape(w0, [1, k, c]), [b, k, c]); // (B, K, C)
      if (this.clsOffsetProj) {
        const aCls = tf.softmax(tf.transpose(aNK, [0, 2, 1])); // softmax over pixels: (B, K, N)
        const fCls = matMul(aCls, e, false, false, this.path); // (B, K, C)
        wAdj = tf.add(wAdj, this.clsOffsetProj.forward(fCls)); // W + ΔW (B, K, C)
      }
      let eAdj: tf.Tensor = e;
      if (this.featOffsetProj) {
        const aPos = tf.softmax(aNK); // softmax over classes: (B, N, K)
        const fPos = tf.reshape(matMul(tf.reshape(aPos, [b * n, k]), w0, false, false, this.path), [
          b,
          n,
          c,
        ]); // (B, N, C), original W
        eAdj = tf.add(e, this.featOffsetProj.forward(fPos)); // E + ΔE (B, N, C)
      }
      const m = matMul(eAdj, wAdj, false, true, this.path); // (B, N, K)
      return tf.reshape(this.maskNorm.forward(m), [b, h, w, k]); // LayerNorm over K → (B, H, W, K)
    });
  }
}
