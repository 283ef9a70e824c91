/**
 * The part every decode head shares, as mmseg's `BaseDecodeHead`
 * (`mmseg/models/decode_heads/decode_head.py`) is to its heads: the classifier at the end. A
 * subclass builds only the feature map (`features`); this base owns
 *
 * - the classifier choice, one of `Classifier`:
 *   - `'conv_seg'`: Dropout2d (train mode only) then a 1×1 conv with bias, mmseg's `cls_seg`;
 *   - `'offset_learning'`: Offset Learning (paper §3.3), the OffSeg replacement of that pair;
 * - the `conv_seg` parameter itself, which BaseDecodeHead always creates. With Offset Learning
 *   it is never called; `keepUnusedConvSeg` keeps it so official checkpoints load key for key
 *   and parameter counts include it as the paper's do;
 * - the dropout ratio and its seeded mask generator.
 *
 * State-dict order follows the official modules: `conv_seg` is registered by this constructor
 * (before the subclass's children, as BaseDecodeHead's `__init__` runs first) and
 * `offset_learning` by `addClassifier()`, which the subclass calls at the end of its own
 * constructor (the official heads create it last).
 *
 * Layout: NHWC, features [B, h, w, C] → logits [B, h', w', K].
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { normal, reinit } from '../core/init.ts';
import { Rng } from '../../rng.ts';
import { Conv2d } from '../layers/conv.ts';
import { OffsetLearning } from './offset_learning.ts';

/** The classifier at the end of a decode head; spelled as the official module names. */
export type Classifier = 'conv_seg' | 'offset_learning';

export interface DecodeHeadOptions {
  /** Width C of the features the classifier reads. */
  channels: number;
  /** K: number of classes. */
  numClasses: number;
  classifier: Classifier;
  /** With 'offset_learning': still create the unused `conv_seg` (BaseDecodeHead does). */
  keepUnusedConvSeg?: boolean;
  /**
   * Dropout2d before `conv_seg` in train mode (mmseg configs: p = 0.1), with the seed of its
   * mask generator; `false` for none (no generator is registered then).
   */
  dropout: { ratio: number; seed: number } | false;
  /**
   * 'normal': `conv_seg` weight ~ N(0, 0.01), bias 0 (BaseDecodeHead's init_weights);
   * 'layer-default': the Conv2d's own default draw.
   */
  convSegInit?: 'normal' | 'layer-default';
  /** Offset Learning's Table 6 switches (default both on). */
  classOffset?: boolean;
  featureOffset?: boolean;
}

/**
 * nn.Dropout2d as BaseDecodeHead applies it before `conv_seg`: in train mode each (sample,
 * channel) map of x [B,H,W,C] is zeroed with probability p, survivors scaled by 1/(1−p); masks
 * come from the seeded generator. Identity in eval mode or at p = 0.
 */
export function dropout2d(x: tf.Tensor4D, p: number, training: boolean, rng: Rng): tf.Tensor4D {
  if (!training || p <= 0) return x;
  const [b, , , c] = x.shape;
  const mask = new Float32Array(b * c);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < p ? 0 : 1 / (1 - p);
  return tf.tidy(() => tf.mul(x, tf.tensor4d(mask, [b, 1, 1, c])));
}

export abstract class DecodeHead extends Module {
  readonly classifier: Classifier;
  /** The 1×1 classifier: with 'conv_seg' always, with 'offset_learning' only if kept. */
  readonly convSeg?: Conv2d;
  /** Set by `addClassifier()` when the classifier is 'offset_learning'. */
  offsetLearning?: OffsetLearning;
  readonly dropoutRatio: number;
  private readonly dropoutRng?: Rng;
  private readonly pending: DecodeHeadOptions;

  constructor(opts: DecodeHeadOptions) {
    super();
    this.pending = opts;
    this.classifier = opts.classifier;
    this.dropoutRatio = opts.dropout ? opts.dropout.ratio : 0;
    if (opts.dropout) this.dropoutRng = this.registerRng('dropout', new Rng(opts.dropout.seed));
    if (opts.classifier === 'conv_seg' || opts.keepUnusedConvSeg) {
      const conv = new Conv2d(opts.channels, opts.numClasses, { kernel: 1 });
      this.convSeg = this.child('conv_seg', conv);
      if ((opts.convSegInit ?? 'normal') === 'normal') {
        reinit(conv.weight, normal(conv.weight.shape, 0.01));
        if (conv.bias) reinit(conv.bias, tf.zeros(conv.bias.shape));
      }
    }
  }

  /**
   * Creates Offset Learning when it is the classifier. Call once, at the end of the subclass
   * constructor, so `offset_learning` comes last in the state dict as in the official heads.
   */
  protected addClassifier(): void {
    const o = this.pending;
    if (o.classifier !== 'offset_learning') return;
    if (this.offsetLearning) throw new Error('DecodeHead.addClassifier called twice');
    this.offsetLearning = this.child(
      'offset_learning',
      new OffsetLearning({
        numClasses: o.numClasses,
        channels: o.channels,
        classOffset: o.classOffset,
        featureOffset: o.featureOffset,
      }),
    );
  }

  /** Backbone maps → the features the classifier reads, [B, h, w, C]. */
  abstract features(feats: readonly tf.Tensor4D[]): tf.Tensor4D;

  /**
   * What a head does to its features before Offset Learning only (identity here; the
   * SegFormer retrofit max-pools).
   */
  protected beforeOffsetLearning(e: tf.Tensor4D): tf.Tensor4D {
    return e;
  }

  /** Features [B, h, w, C] → logits [B, h', w', K] with the chosen classifier. */
  classify(e: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      if (this.classifier === 'offset_learning') {
        if (!this.offsetLearning)
          throw new Error(`${this.constructor.name}: addClassifier() was not called`);
        return this.offsetLearning.forward(this.beforeOffsetLearning(e));
      }
      if (!this.convSeg) throw new Error(`${this.constructor.name}: no conv_seg`);
      const x = this.dropoutRng
        ? dropout2d(e, this.dropoutRatio, this.training, this.dropoutRng)
        : e;
      return this.convSeg.forward(x);
    });
  }

  /** Backbone maps → logits. */
  forward(feats: readonly tf.Tensor4D[]): tf.Tensor4D {
    return tf.tidy(() => this.classify(this.features(feats)));
  }
}
