/**
 * SegFormer (Xie et al., NeurIPS 2021) as mmsegmentation 1.x configures it: MiT backbone +
 * SegformerHead with 256 decoder channels for every variant (docs/models.md), and the OffSeg
 * retrofit "+OL" (paper §4, Table 4). mmseg's EncoderDecoder with children `backbone` and
 * `decode_head`, so parameter keys equal the official checkpoints'.
 *
 * NHWC: input [B,H,W,3] (normalised RGB) → logits [B,H/4,W/4,K] (baseline) or
 * [B,H/8,W/8,K] (+OL, which max-pools before Offset Learning).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from './core/module.ts';
import { MixVisionTransformer, MIT_VARIANTS } from './backbones/mit.ts';
import { SegformerHead } from './heads/segformer_head.ts';
import type { Classifier } from './heads/decode_head.ts';
import type { Segmentor } from './offseg.ts';

export type MiTName = keyof typeof MIT_VARIANTS;

export interface SegFormerOptions {
  backbone: MiTName;
  numClasses: number;
  /** Decoder width (mmseg 1.x: 256 for B0–B5). */
  channels?: number;
  classifier?: Classifier;
  /** +OL only: keep the dead `conv_seg` as the official head does (see segformer_head.ts). */
  keepUnusedConvSeg?: boolean;
}

export class SegFormer extends Module implements Segmentor {
  readonly backbone: MixVisionTransformer;
  readonly decodeHead: SegformerHead;
  readonly numClasses: number;
  readonly outputStride: number;
  /** The stride-32 stage; other sizes also run (convs use floor arithmetic as in torch). */
  readonly sizeDivisor = 32;

  constructor(opts: SegFormerOptions) {
    super();
    this.numClasses = opts.numClasses;
    this.backbone = this.child('backbone', new MixVisionTransformer(MIT_VARIANTS[opts.backbone]));
    this.decodeHead = this.child(
      'decode_head',
      new SegformerHead({
        inChannels: this.backbone.featureInfo.map((f) => f.channels),
        channels: opts.channels ?? 256,
        numClasses: opts.numClasses,
        classifier: opts.classifier,
        keepUnusedConvSeg: opts.keepUnusedConvSeg,
      }),
    );
    this.outputStride = this.decodeHead.outputStride;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.decodeHead.forward(this.backbone.forward(x)));
  }
}
