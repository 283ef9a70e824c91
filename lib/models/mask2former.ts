/**
 * Mask2Former-Tiny for semantic segmentation (Cheng et al., CVPR 2022) as mmseg configures it
 * with a Swin-T backbone, and its Offset Learning variant (OffSeg, ICCV 2025, Table 5).
 * mmseg's EncoderDecoder with children `backbone` and `decode_head`, so parameter keys equal the
 * official checkpoints'.
 *
 * Inference (mmseg Mask2FormerHead.predict): the last prediction's mask logits are bilinearly
 * resized to the input size, then scores[k] = Σ_q softmax(class logits)[q, k] · sigmoid(mask_q)
 * with the "no object" class dropped. So `forward` returns per-class scores (not logits) at the
 * input resolution: x [B,H,W,3] → [B,H,W,K] (outputStride 1). `predictions` returns all 10
 * class/mask predictions for training.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from './core/module.ts';
import { SwinTransformer, SWIN_VARIANTS } from './backbones/swin.ts';
import { Mask2FormerHead, type Mask2FormerPredictions } from './heads/mask2former/head.ts';
import { matMul } from '../ops/conv.ts';
import { resizeBilinear } from '../ops/resize.ts';
import type { Segmentor } from './segmentor.ts';

export interface Mask2FormerOptions {
  numClasses: number;
  offsetLearning?: boolean;
}

export class Mask2Former extends Module implements Segmentor {
  readonly backbone: SwinTransformer;
  readonly decodeHead: Mask2FormerHead;
  readonly numClasses: number;
  readonly outputStride = 1;
  readonly sizeDivisor = 32;

  constructor(opts: Mask2FormerOptions) {
    super();
    this.numClasses = opts.numClasses;
    this.backbone = this.child('backbone', new SwinTransformer(SWIN_VARIANTS.swin_t));
    this.decodeHead = this.child(
      'decode_head',
      new Mask2FormerHead({
        inChannels: this.backbone.featureInfo.map((f) => f.channels),
        numClasses: opts.numClasses,
        offsetLearning: opts.offsetLearning,
      }),
    );
  }

  /** x [B,H,W,3] → the 10 predictions (class logits [B,Q,K+1], masks [B,H/4,W/4,Q]). */
  predictions(x: tf.Tensor4D): Mask2FormerPredictions {
    const feats = this.backbone.forward(x);
    const out = this.decodeHead.forward(feats);
    tf.dispose(feats);
    return out;
  }

  /** x [B,H,W,3] → class scores [B,H,W,K] (softmax class × sigmoid mask, summed over queries). */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [, h, w] = x.shape;
      const { cls, masks } = this.predictions(x);
      return semanticScores(cls[cls.length - 1], masks[masks.length - 1], [h, w], this.path);
    });
  }
}

/**
 * mmseg Mask2FormerHead.predict: cls [B,Q,K+1], masks [B,h,w,Q] → [B,H,W,K] =
 * einsum('bqk,bhwq', softmax(cls)[…, :K], sigmoid(resize(masks, size))).
 */
export function semanticScores(
  cls: tf.Tensor3D,
  masks: tf.Tensor4D,
  size: [number, number],
  scope = '',
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, q, k1] = cls.shape;
    const prob = tf.slice(tf.softmax(cls), [0, 0, 0], [b, q, k1 - 1]); // (B, Q, K)
    const m = tf.sigmoid(resizeBilinear(masks, size, scope)); // (B, H, W, Q)
    const s = matMul(tf.reshape(m, [b, size[0] * size[1], q]), prob, false, false, scope);
    return tf.reshape(s, [b, size[0], size[1], k1 - 1]) as tf.Tensor4D;
  });
}
