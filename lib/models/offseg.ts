/**
 * OffSeg (ICCV 2025): EfficientFormerV2 backbone + OffSegHead (FreqFusion decoder + Offset
 * Learning). mmseg's EncoderDecoder with children `backbone` and `decode_head`, so parameter keys
 * equal the official checkpoint's. NHWC: input [B,H,W,3] (normalised RGB, H and W divisible by
 * 32) → logits [B,H/4,W/4,K].
 *
 * Variants (paper Table 2): T = S1 backbone, B = S2, L = L; all with align width 256.
 * Ablation variants of Tables 6 and 7 are options of the same head (see offseg_head.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from './core/module.ts';
import { EfficientFormerV2, EFFV2_VARIANTS } from './backbones/efficientformer_v2.ts';
import { OffSegHead, type OffSegHeadOptions } from './heads/offseg_head.ts';
import { checkpointed } from './core/grad_checkpoint.ts';
import type { Segmentor } from './segmentor.ts';

export type EffV2Name = keyof typeof EFFV2_VARIANTS;

export interface OffSegOptions {
  backbone: EffV2Name;
  /** Head options except inChannels (taken from the backbone) and numClasses. */
  head: Omit<OffSegHeadOptions, 'inChannels' | 'numClasses'>;
  numClasses: number;
}

/** Re-exported for older import paths; the contract lives in lib/models/segmentor.ts. */
export type { Segmentor };

export class OffSeg extends Module implements Segmentor {
  readonly backbone: EfficientFormerV2;
  readonly decodeHead: OffSegHead;
  readonly numClasses: number;
  readonly outputStride = 4;
  readonly sizeDivisor = 32;

  constructor(opts: OffSegOptions) {
    super();
    this.numClasses = opts.numClasses;
    this.backbone = this.child('backbone', new EfficientFormerV2(EFFV2_VARIANTS[opts.backbone]));
    const inChannels = this.backbone.featureInfo.map((f) => f.channels);
    this.decodeHead = this.child(
      'decode_head',
      new OffSegHead({ ...opts.head, inChannels, numClasses: opts.numClasses }),
    );
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = x.shape;
    if (h % 32 !== 0 || w % 32 !== 0) {
      throw new Error(
        `OffSeg needs H and W divisible by 32, got ${h}×${w}: pad or resize the input`,
      );
    }
    return tf.tidy(() => {
      const feats = this.backbone.forward(x);
      // The head is checkpointed as one block when gradient checkpointing is on.
      const head = this.decodeHead;
      return checkpointed(
        head,
        feats,
        (...f) => head.forward(f as typeof feats),
        undefined,
        (key) => key.startsWith('conv_seg.') && head.offsetLearning !== undefined,
      );
    });
  }
}
