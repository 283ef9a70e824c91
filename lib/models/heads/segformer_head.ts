/**
 * SegformerHead, the All-MLP decoder of SegFormer as mmsegmentation 1.x builds it
 * (`mmseg/models/decode_heads/segformer_head.py`; docs/models.md), and its Offset Learning
 * retrofit (OffSeg `SegformerHeadOffsetLearning`; paper §4).
 *
 * Features: per level a 1×1 ConvModule (no bias, BN, ReLU) to `channels` (`convs.{i}`) →
 * bilinear resize to the stride-4 size → concat in stage order [1,2,3,4] → `fusion_conv`
 * ConvModule. Baseline classifier (DecodeHead, 'conv_seg'): dropout → `conv_seg` 1×1, logits
 * at 1/4.
 * mmseg 1.x uses channels = 256 for every MiT variant (NVlabs used 768 for B2–B5).
 *
 * Retrofit ('offset_learning'): after `fusion_conv`, MaxPool 2×2 (stride 2) → Offset Learning
 * in place of dropout + `conv_seg`. Logits at 1/8.
 *
 * Parameter count of the retrofit. The official `SegformerHeadOffsetLearning` inherits
 * BaseDecodeHead, which always creates `conv_seg`, so the official +OL model is the baseline
 * PLUS Offset Learning (K·C + 2C² + 2K). Our Tables 3/4 targets use the rule "each +OL model
 * adds K·C + 2C² + 2K minus the replaced classifier (C·K + K)", so the registered -ol models
 * drop the dead classifier; the difference is C·K + K = 38,550 parameters for C = 256, K = 150.
 * `keepUnusedConvSeg` builds the official layout (which also loads official checkpoints key
 * for key).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConvModule } from '../layers/conv_module.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import { maxPool2d } from '../../ops/max_pool.ts';
import { DecodeHead, type Classifier } from './decode_head.ts';

export interface SegformerHeadOptions {
  /** Backbone widths at strides 4, 8, 16, 32. */
  inChannels: readonly number[];
  /** Decoder width C (256 in every mmseg 1.x SegFormer config). */
  channels: number;
  numClasses: number;
  /** 'conv_seg' (baseline, default) or 'offset_learning' (the OffSeg retrofit). */
  classifier?: Classifier;
  /** Dropout2d before `conv_seg` in train mode (baseline only; mmseg configs: 0.1). */
  dropoutRatio?: number;
  /** Seed of the dropout-mask generator. */
  dropoutSeed?: number;
  /** Retrofit only: keep the unused `conv_seg` (see the parameter-count note above). */
  keepUnusedConvSeg?: boolean;
}

export class SegformerHead extends DecodeHead {
  readonly convs: ConvModule[] = [];
  readonly fusionConv: ConvModule;
  /** Logit stride relative to the input: 4 (baseline) or 8 (retrofit, after the max-pool). */
  readonly outputStride: number;

  constructor(opts: SegformerHeadOptions) {
    const { inChannels, channels, numClasses } = opts;
    const classifier = opts.classifier ?? 'conv_seg';
    super({
      channels,
      numClasses,
      classifier,
      keepUnusedConvSeg: opts.keepUnusedConvSeg,
      dropout: { ratio: opts.dropoutRatio ?? 0.1, seed: opts.dropoutSeed ?? 0 },
    });
    this.outputStride = classifier === 'offset_learning' ? 8 : 4;
    const BN = { type: 'BN' } as const;
    inChannels.forEach((c, i) => {
      this.convs.push(this.child(`convs.${i}`, new ConvModule(c, channels, { norm: BN })));
    });
    this.fusionConv = this.child(
      'fusion_conv',
      new ConvModule(channels * inChannels.length, channels, { norm: BN }),
    );
    this.addClassifier();
  }

  /** Fused decoder features [B, H/4, W/4, C] (before the classifier). */
  features(feats: readonly tf.Tensor4D[]): tf.Tensor4D {
    return tf.tidy(() => {
      const size: [number, number] = [feats[0].shape[1], feats[0].shape[2]];
      // mmseg resizes every level, the stride-4 one included (a traced no-op resize).
      const outs = feats.map((f, i) => resizeBilinear(this.convs[i].forward(f), size, this.path)); // [B, H/4, W/4, C] each
      return this.fusionConv.forward(tf.concat(outs, 3) as tf.Tensor4D); // concat → [B, H/4, W/4, 4C]
    });
  }

  /** The retrofit's 2×2 max-pool: [B, H/4, W/4, C] → [B, H/8, W/8, C]. */
  protected override beforeOffsetLearning(e: tf.Tensor4D): tf.Tensor4D {
    return maxPool2d(e, 2, 2, this.path);
  }
}
