/**
 * LightHamHead, SegNeXt's decoder, as mmsegmentation 1.x builds it (`ham_head.py`;
 * docs/models.md), and its Offset Learning retrofit (OffSeg `LightHamHeadOffsetLearning`;
 * paper §4).
 *
 * The stride-8/16/32 maps (backbone outputs 1–3) are bilinearly resized to stride 8 and
 * concatenated → `squeeze` ConvModule (GN-32, ReLU) → Hamburger [`ham_in` conv1×1 with bias →
 * ReLU → NMF2D → `ham_out` conv1×1 + GN-32 → ReLU(z + ·)] → `align` ConvModule; then the
 * DecodeHead classifier: dropout → `conv_seg` (baseline), or Offset Learning (the retrofit).
 * Logits at 1/8 either way.
 *
 * NMF rank R (MD_R) per variant — the registry uses R = 16 for T, S and B:
 * - mmseg 1.x configs set R = 16 for every size (B and L inherit it from the T config), and the
 *   OffSeg retrofit configs build on them, so R = 16 is what the +OL models (and mmseg's
 *   checkpoints) were trained and evaluated with;
 * - our FLOPs targets (segnext-t 6.45, segnext-s 15.72 G) are mmengine counts with R = 16;
 * - the original SegNeXt repo uses R = 64 for B and L, which is what the SegNeXt paper's
 *   34.9 G (B) reflects. Build that with `nmf: { rank: 64 }`. Parameters do not depend on R.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { ConvModule } from '../layers/conv_module.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import { NMF2D, type NMF2DOptions } from './nmf.ts';
import { DecodeHead, type Classifier } from './decode_head.ts';

export interface LightHamHeadOptions {
  /** Widths of the maps the head reads (backbone outputs 1, 2, 3). */
  inChannels: readonly number[];
  /** Hamburger width (`ham_channels`). */
  hamChannels: number;
  /** `align` output width C. */
  channels: number;
  numClasses: number;
  nmf: NMF2DOptions;
  /** 'conv_seg' (baseline, default) or 'offset_learning' (the OffSeg retrofit). */
  classifier?: Classifier;
  /** Retrofit only: keep the unused `conv_seg` (see segformer_head.ts for the counting rule). */
  keepUnusedConvSeg?: boolean;
  dropoutRatio?: number;
  dropoutSeed?: number;
}

const GN32 = { type: 'GN', groups: 32 } as const;

/** `hamburger`: ham_in → ReLU → NMF2D → ham_out, with a residual ReLU. */
class Hamburger extends Module {
  readonly hamIn: ConvModule;
  readonly ham: NMF2D;
  readonly hamOut: ConvModule;
  constructor(c: number, nmf: NMF2DOptions) {
    super();
    this.hamIn = this.child('ham_in', new ConvModule(c, c, { act: 'none' }));
    this.ham = this.child('ham', new NMF2D(nmf));
    this.hamOut = this.child('ham_out', new ConvModule(c, c, { norm: GN32, act: 'none' }));
  }
  forward(z: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const e = this.hamOut.forward(this.ham.forward(tf.relu(this.hamIn.forward(z))));
      return tf.relu(tf.add(z, e)) as tf.Tensor4D;
    });
  }
}

export class LightHamHead extends DecodeHead {
  readonly squeeze: ConvModule;
  readonly hamburger: Hamburger;
  readonly align: ConvModule;
  readonly outputStride = 8;

  constructor(opts: LightHamHeadOptions) {
    const { inChannels, hamChannels, channels, numClasses } = opts;
    super({
      channels,
      numClasses,
      classifier: opts.classifier ?? 'conv_seg',
      keepUnusedConvSeg: opts.keepUnusedConvSeg,
      dropout: { ratio: opts.dropoutRatio ?? 0.1, seed: opts.dropoutSeed ?? 0 },
    });
    const total = inChannels.reduce((a, b) => a + b, 0);
    this.squeeze = this.child('squeeze', new ConvModule(total, hamChannels, { norm: GN32 }));
    this.hamburger = this.child('hamburger', new Hamburger(hamChannels, opts.nmf));
    this.align = this.child('align', new ConvModule(hamChannels, channels, { norm: GN32 }));
    this.addClassifier();
  }

  /** `align` output [B, H/8, W/8, C] from the stride-8/16/32 maps. */
  features(feats: readonly tf.Tensor4D[]): tf.Tensor4D {
    return tf.tidy(() => {
      const size: [number, number] = [feats[0].shape[1], feats[0].shape[2]];
      // mmseg resizes every level, the stride-8 one included (a traced no-op resize).
      const x = tf.concat(
        feats.map((f) => resizeBilinear(f, size, this.path)),
        3,
      ) as tf.Tensor4D; // [B, H/8, W/8, ΣC]
      return this.align.forward(this.hamburger.forward(this.squeeze.forward(x)));
    });
  }
}
