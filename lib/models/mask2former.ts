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
 * class/mask predictions, and `loss` the set-prediction training loss the loop uses in place of
 * per-pixel cross-entropy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from './core/module.ts';
import { Rng } from './core/init.ts';
import { SwinTransformer, SWIN_VARIANTS, type SwinOptions } from './backbones/swin.ts';
import {
  Mask2FormerHead,
  type Mask2FormerHeadOptions,
  type Mask2FormerPredictions,
} from './heads/mask2former/head.ts';
import {
  mask2formerLoss,
  semanticTargets,
  type Mask2FormerLossOptions,
} from '../train/mask2former_loss.ts';
import { matMul } from '../ops/conv.ts';
import { resizeBilinear } from '../ops/resize.ts';
import type { Segmentor } from './segmentor.ts';

export interface Mask2FormerOptions {
  numClasses: number;
  offsetLearning?: boolean;
  /** Backbone size (default Swin-T); smaller ones are for tests. */
  backbone?: SwinOptions;
  /** Head sizes other than the config's (channels, queries, layers…), for tests. */
  head?: Omit<Mask2FormerHeadOptions, 'inChannels' | 'numClasses' | 'offsetLearning'>;
  /** The training loss settings (default: the mmseg Mask2Former config's). */
  loss?: Mask2FormerLossSettings;
  /** Seed of the loss's point sampling (a registered generator, checkpointed with the run). */
  lossSeed?: number;
}

/** Mask2Former's loss settings except the generator (schema key `model.loss`). */
export type Mask2FormerLossSettings = Omit<Mask2FormerLossOptions, 'rng' | 'points'>;

/** mmseg `mask2former_r50_8xb2-160k_ade20k-512x512.py` decode_head losses and train_cfg. */
export const MASK2FORMER_LOSS: Mask2FormerLossSettings = {
  numPoints: 12544,
  oversample: 3,
  importance: 0.75,
  noObjectWeight: 0.1,
  weights: { cls: 2, mask: 5, dice: 5 },
  match: { cls: 2, mask: 5, dice: 5, diceEps: 1 },
};

export class Mask2Former extends Module implements Segmentor {
  readonly backbone: SwinTransformer;
  readonly decodeHead: Mask2FormerHead;
  readonly numClasses: number;
  readonly outputStride = 1;
  readonly sizeDivisor = 32;
  /** Settings of `loss` (lib/train/build.ts sets them from `model.loss`). */
  lossSettings: Mask2FormerLossSettings;
  private readonly lossRng: Rng;

  constructor(opts: Mask2FormerOptions) {
    super();
    this.numClasses = opts.numClasses;
    this.backbone = this.child(
      'backbone',
      new SwinTransformer(opts.backbone ?? SWIN_VARIANTS.swin_t),
    );
    this.decodeHead = this.child(
      'decode_head',
      new Mask2FormerHead({
        ...opts.head,
        inChannels: this.backbone.featureInfo.map((f) => f.channels),
        numClasses: opts.numClasses,
        offsetLearning: opts.offsetLearning,
      }),
    );
    this.lossSettings = opts.loss ?? MASK2FORMER_LOSS;
    this.lossRng = this.registerRng('loss_points', new Rng(opts.lossSeed ?? 0));
  }

  /** Restart the loss's point sampling from `seed` (lib/train/build.ts passes `runtime.seed`). */
  seedLoss(seed: number): void {
    this.lossRng.setState(seed);
  }

  /**
   * The training loss (mmseg Mask2FormerHead.loss): one binary target mask per class present in
   * each label map (255 ignored), then lib/train/mask2former_loss.ts over all 10 predictions.
   * x [B,H,W,3], labels int32 [B,H,W] → scalar. Labels are read on the host.
   */
  loss(x: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => {
      const [b, h, w] = labels.shape;
      const lab = labels.dataSync();
      const targets = Array.from({ length: b }, (_, i) => {
        const t = semanticTargets(lab.subarray(i * h * w, (i + 1) * h * w), h, w);
        return { labels: t.labels, masks: tf.tensor3d(t.masks, [t.labels.length, h, w]) };
      });
      const pred = this.predictions(x);
      return mask2formerLoss(pred, targets, { ...this.lossSettings, rng: this.lossRng }).total;
    });
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
