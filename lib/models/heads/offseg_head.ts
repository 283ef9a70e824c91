/**
 * OffSegHead (paper §3.4; `mmseg/models/decode_heads/offseg_head.py` of the OffSeg repository): per-level 1×1 ConvModule (GN-32, ReLU) → coarse-to-fine
 * FreqFusion with 4-group interleaved concatenation → `align` ConvModule to C channels at 1/4
 * resolution → Offset Learning. Logits come out at 1/4 of the input resolution, NHWC.
 *
 * Options also build the paper's ablations from the same parts (Tables 6 and 7):
 * - decoder 'conv': no FreqFusion; every level is bilinearly resized to 1/4 and concatenated
 *   (the "simple conv pixel decoder" of Table 6 row 1 — the paper gives only its totals,
 *   5.9 M / 5.1 G; this design meets both, see lib/models/offseg.ts);
 * - classifier 'conv_seg': the per-pixel 1×1 classifier instead of Offset Learning (DecodeHead);
 * - classOffset / featureOffset: one branch of Offset Learning only;
 * - channels: the align width C (Table 7).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConvModule } from '../layers/conv_module.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import { FreqFusion, groupInterleave } from './freqfusion.ts';
import { DecodeHead, type Classifier } from './decode_head.ts';

export interface OffSegHeadOptions {
  /** Backbone widths at strides 4, 8, 16, 32. */
  inChannels: readonly number[];
  /** `pre` output widths per level (config `new_channels`). */
  newChannels: readonly number[];
  /** Align width C (256 in every OffSeg config). */
  channels: number;
  numClasses: number;
  decoder?: 'freqfusion' | 'conv';
  /** 'offset_learning' (default) or 'conv_seg' (the per-pixel ablations of Tables 6 and 7). */
  classifier?: Classifier;
  classOffset?: boolean;
  featureOffset?: boolean;
}

const GN32 = { type: 'GN', groups: 32 } as const;

/**
 * The head of OffSeg. `conv_seg` always exists (BaseDecodeHead creates it; with Offset Learning
 * it is never called, but official checkpoints carry it and the paper's parameter counts include
 * it: OffSeg-B is 13.0 M only with it).
 *
 * DEVIATION: the per-pixel ablation rows ('conv_seg') run without BaseDecodeHead's 0.1 dropout
 * and keep the Conv2d's default initialisation of `conv_seg`; both were so before the heads
 * shared a base, and the trained ablation results depend on them.
 */
export class OffSegHead extends DecodeHead {
  readonly pre: ConvModule[] = [];
  readonly freqfusions: FreqFusion[] = [];
  readonly align: ConvModule;
  declare readonly convSeg: NonNullable<DecodeHead['convSeg']>;
  readonly decoder: 'freqfusion' | 'conv';
  /**
   * Optional tap on intermediates for debugging and parity checks (`pre0..3`, `ff{j}_hr_out`,
   * `ff{j}_lr_out`). The tensor is disposed after the call: clone and keep it to hold on to it.
   */
  debugHook?: (name: string, t: tf.Tensor) => void;

  constructor(readonly opts: OffSegHeadOptions) {
    const { inChannels, newChannels, channels, numClasses } = opts;
    if (inChannels.length !== 4 || newChannels.length !== 4)
      throw new Error('OffSegHead expects 4 levels');
    super({
      channels,
      numClasses,
      classifier: opts.classifier ?? 'offset_learning',
      keepUnusedConvSeg: true,
      dropout: false,
      convSegInit: 'layer-default',
      classOffset: opts.classOffset,
      featureOffset: opts.featureOffset,
    });
    this.decoder = opts.decoder ?? 'freqfusion';
    inChannels.forEach((c, i) => {
      this.pre.push(this.child(`pre.${i}`, new ConvModule(c, newChannels[i], { norm: GN32 })));
    });
    if (this.decoder === 'freqfusion') {
      // Coarse → fine: lr starts as the stride-32 level; each step fuses the next finer level.
      let preC = newChannels[3];
      for (let i = 2, j = 0; i >= 0; i--, j++) {
        const c = newChannels[i];
        this.freqfusions.push(
          this.child(
            `freqfusions.${j}`,
            new FreqFusion({
              hrChannels: c,
              lrChannels: preC,
              compressedChannels: Math.floor((preC + c) / 4),
            }),
          ),
        );
        preC += c;
      }
    }
    const total = newChannels.reduce((a, b) => a + b, 0);
    this.align = this.child('align', new ConvModule(total, channels, { norm: GN32 }));
    this.addClassifier();
  }

  /** Decoder features before the classifier: [B, H/4, W/4, C] (the `align` output, E of the paper). */
  features(feats: readonly tf.Tensor4D[]): tf.Tensor4D {
    return tf.tidy(() => {
      const x = feats.map((f, i) => this.pre[i].forward(f)); // per level [B, h_i, w_i, new_i]
      x.forEach((t, i) => this.debugHook?.(`pre${i}`, t));
      let fused: tf.Tensor4D;
      if (this.decoder === 'freqfusion') {
        let lr = x[3];
        for (let j = 0; j < 3; j++) {
          const hr = x[2 - j];
          const { hrOut, lrOut } = this.freqfusions[j].forward(hr, lr);
          this.debugHook?.(`ff${j}_hr_out`, hrOut);
          this.debugHook?.(`ff${j}_lr_out`, lrOut);
          lr = groupInterleave(hrOut, lrOut, 4); // [hr_g0, lr_g0, …, hr_g3, lr_g3] channels
        }
        fused = lr;
      } else {
        const size: [number, number] = [x[0].shape[1], x[0].shape[2]];
        fused = tf.concat(
          x.map((t) => resizeBilinear(t, size, this.path)),
          3,
        ) as tf.Tensor4D; // [B, H/4, W/4, Σ new]
      }
      return this.align.forward(fused);
    });
  }
}
