/**
 * LightHamHead, SegNeXt's decoder, as mmsegmentation 1.x builds it (`ham_head.py`;
 * components.md §4.2), and its Offset Learning retrofit (OffSeg `LightHamHeadOffsetLearning`;
 * offseg.md §4.2).
 *
 * The stride-8/16/32 maps (backbone outputs 1–3) are bilinearly resized to stride 8 and
 * concatenated → `squeeze` ConvModule (GN-32, ReLU) → Hamburger [`ham_in` conv1×1 with bias →
 * ReLU → NMF2D → `ham_out` conv1×1 + GN-32 → ReLU(z + ·)] → `align` ConvModule → dropout →
 * `conv_seg`. Logits at 1/8. The retrofit puts Offset Learning in place of dropout + `conv_seg`
 * (still 1/8).
 *
 * NMF rank R (MD_R) per variant — the registry uses R = 16 for T, S and B:
 * - mmseg 1.x configs set R = 16 for every size (B and L inherit it from the T config), and the
 *   OffSeg retrofit configs build on them, so R = 16 is what the +OL models (and mmseg's
 *   checkpoints) were trained and evaluated with;
 * - the FLOPs targets (segnext-t 6.45, segnext-s 15.72 G) are mmengine counts with R = 16;
 * - the original SegNeXt repo uses R = 64 for B and L, which is what the SegNeXt paper's
 *   34.9 G (B) reflects. Build that with `nmf: { rank: 64 }`. Parameters do not depend on R.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { Rng } from '../core/init.ts';
import { Conv2d } from '../layers/conv.ts';
import { ConvModule } from '../layers/conv_module.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import { NMF2D, type NMF2DOptions } from './nmf.ts';
import { OffsetLearning } from './offset_learning.ts';
import { dropout2d, initConvSeg, type HeadClassifier } from './segformer_head.ts';

export interface LightHamHeadOptions {
  /** Widths of the maps the head reads (backbone outputs 1, 2, 3). */
  inChannels: readonly number[];
  /** Hamburger width (`ham_channels`). */
  hamChannels: number;
  /** `align` output width C. */
  channels: number;
  numClasses: number;
  nmf: NMF2DOptions;
  classifier?: HeadClassifier;
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

export class LightHamHead extends Module {
  readonly convSeg?: Conv2d;
  readonly squeeze: ConvModule;
  readonly hamburger: Hamburger;
  readonly align: ConvModule;
  readonly offsetLearning?: OffsetLearning;
  readonly classifier: HeadClassifier;
  readonly outputStride = 8;
  readonly dropoutRatio: number;
  private readonly rng: Rng;

  constructor(opts: LightHamHeadOptions) {
    super();
    const { inChannels, hamChannels, channels, numClasses } = opts;
    this.classifier = opts.classifier ?? 'conv-seg';
    this.dropoutRatio = opts.dropoutRatio ?? 0.1;
    this.rng = this.registerRng('dropout', new Rng(opts.dropoutSeed ?? 0));
    // Registration order = the official state_dict order (BaseDecodeHead's conv_seg first).
    if (this.classifier === 'conv-seg' || opts.keepUnusedConvSeg) {
      this.convSeg = this.child('conv_seg', new Conv2d(channels, numClasses, { kernel: 1 }));
      initConvSeg(this.convSeg);
    }
    const total = inChannels.reduce((a, b) => a + b, 0);
    this.squeeze = this.child('squeeze', new ConvModule(total, hamChannels, { norm: GN32 }));
    this.hamburger = this.child('hamburger', new Hamburger(hamChannels, opts.nmf));
    this.align = this.child('align', new ConvModule(hamChannels, channels, { norm: GN32 }));
    if (this.classifier === 'offset-learning') {
      this.offsetLearning = this.child(
        'offset_learning',
        new OffsetLearning({ numClasses, channels }),
      );
    }
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

  /** feats: the three maps at strides 8, 16, 32 → logits [B, H/8, W/8, K]. */
  forward(feats: readonly tf.Tensor4D[]): tf.Tensor4D {
    return tf.tidy(() => {
      const x = this.features(feats);
      if (this.offsetLearning) return this.offsetLearning.forward(x);
      if (!this.convSeg) throw new Error('LightHamHead: no classifier');
      return this.convSeg.forward(dropout2d(x, this.dropoutRatio, this.training, this.rng));
    });
  }
}
