/**
 * SegNeXt (Guo et al., NeurIPS 2022) as mmsegmentation 1.x configures it: MSCAN backbone +
 * LightHamHead on backbone outputs 1–3 (docs/models.md), and the OffSeg retrofit "+OL"
 * (paper §4, Table 3). mmseg's EncoderDecoder with children `backbone` and `decode_head`.
 *
 * NHWC: input [B,H,W,3] (normalised RGB; mmseg pads test images to a multiple of 32) →
 * logits [B,H/8,W/8,K].
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from './core/module.ts';
import { MSCAN, MSCAN_VARIANTS } from './backbones/mscan.ts';
import { LightHamHead } from './heads/light_ham_head.ts';
import type { Classifier } from './heads/decode_head.ts';
import type { NMF2DOptions } from './heads/nmf.ts';
import type { Segmentor } from './offseg.ts';

export type MSCANName = keyof typeof MSCAN_VARIANTS;

/** Head widths per size (mmseg 1.x configs `segnext_mscan-*`). */
export const SEGNEXT_HEADS: Record<MSCANName, { hamChannels: number; channels: number }> = {
  mscan_t: { hamChannels: 256, channels: 256 },
  mscan_s: { hamChannels: 256, channels: 256 },
  mscan_b: { hamChannels: 512, channels: 512 },
  mscan_l: { hamChannels: 1024, channels: 1024 },
};

export interface SegNeXtOptions {
  backbone: MSCANName;
  numClasses: number;
  classifier?: Classifier;
  /** NMF settings; default R = 16 for every size (see light_ham_head.ts for why). */
  nmf?: Partial<NMF2DOptions>;
  /** +OL only: keep the dead `conv_seg` as the official head does (see segformer_head.ts). */
  keepUnusedConvSeg?: boolean;
}

export class SegNeXt extends Module implements Segmentor {
  readonly backbone: MSCAN;
  readonly decodeHead: LightHamHead;
  readonly numClasses: number;
  readonly outputStride = 8;
  readonly sizeDivisor = 32;

  constructor(opts: SegNeXtOptions) {
    super();
    this.numClasses = opts.numClasses;
    this.backbone = this.child('backbone', new MSCAN(MSCAN_VARIANTS[opts.backbone]));
    const widths = this.backbone.featureInfo.map((f) => f.channels);
    this.decodeHead = this.child(
      'decode_head',
      new LightHamHead({
        inChannels: widths.slice(1), // in_index [1, 2, 3]
        ...SEGNEXT_HEADS[opts.backbone],
        numClasses: opts.numClasses,
        nmf: { rank: 16, ...opts.nmf },
        classifier: opts.classifier,
        keepUnusedConvSeg: opts.keepUnusedConvSeg,
      }),
    );
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.decodeHead.forward(this.backbone.forward(x).slice(1)));
  }
}
