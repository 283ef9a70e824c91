/**
 * EfficientFormerV2 segmentation backbone (Li et al., "Rethinking Vision Transformers for
 * MobileNet Size and Speed", ICCV 2023), as used by OffSeg (paper §3.4; docs/models.md).
 *
 * Reference: snap-research/EfficientFormer `segmentation/backbonev2.py` (`efficientformerv2_*_feat`),
 * the copy OffSeg ships in `mmseg/models/backbones/efficientformer_v2.py`.
 * Parameter and buffer names equal the official state_dict keys.
 *
 * Layout: NHWC. x [B,H,W,3] → [c1, c2, c3, c4] at strides 4/8/16/32 with the stage widths as
 * channels; no output norms. H and W must be multiples of 32 (stage 3's strided attention halves
 * H/16, and the reference assumes it is even).
 *
 * Differences from the reference, none numerical:
 * - the attention bias is gathered with constant one-hot products instead of an index gather
 *   and resized with dense bicubic matrices (exact; see efficientformer_v2_bias.ts);
 * - in eval the *resized* bias is cached per input size (torch caches the gathered table and
 *   resizes on every call).
 * BatchNorm trains with batch statistics (the reference converts to SyncBN, so nothing is frozen,
 * docs/architecture.md "BatchNorm"); drop-path draws from a seeded generator.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import type { FeatureInfo } from '../segmentor.ts';
import { Rng } from '../core/init.ts';
import { Embedding, FFN, ModuleList, Stem } from './efficientformer_v2_blocks.ts';
import { AttnFFN, EmbeddingAsub } from './efficientformer_v2_attention.ts';
import { checkpointed } from '../core/grad_checkpoint.ts';

/*
 * Variant table (`EfficientFormer_width` / `EfficientFormer_depth` in efficientformer_v2.py):
 *            widths               depths          vit  drop-path  params (seg backbone)
 *   S0   32, 48,  96, 176    2, 2,  6,  4     2    0.0        3,259,152
 *   S1   32, 48, 120, 224    3, 3,  9,  6     2    0.0        5,748,360
 *   S2   32, 64, 144, 288    4, 4, 12,  8     4    0.02      12,151,408
 *   L    40, 80, 192, 384    5, 5, 15, 10     6    0.1       25,578,016
 */

export interface EfficientFormerV2Options {
  /** Channels of stages 1–4 (also the output channels). */
  widths: readonly number[];
  /** Blocks per stage. */
  depths: readonly number[];
  /** The last `vitNum` blocks of stages 3 and 4 are AttnFFN blocks; all others are FFN. */
  vitNum: number;
  /** MLP expansion ratio of every block, one list per stage (hidden = ⌊dim·ratio⌋). */
  eRatios: readonly (readonly number[])[];
  /** Stochastic depth, linear from 0 at the first block to this at the last. */
  dropPathRate: number;
  /** Build resolution that sizes the attention-bias tables (the reference hard-codes 512). */
  resolution?: number;
  /** Initial value of every layer scale γ (1e-5). */
  layerScaleInit?: number;
  /** Generator for drop-path masks (default: a fresh Rng(0)). */
  dropPathRng?: Rng;
}

export const EFFV2_VARIANTS = {
  efficientformerv2_s0: {
    widths: [32, 48, 96, 176],
    depths: [2, 2, 6, 4],
    vitNum: 2,
    dropPathRate: 0,
    eRatios: [
      [4, 4],
      [4, 4],
      [4, 3, 3, 3, 4, 4],
      [4, 3, 3, 4],
    ],
  },
  efficientformerv2_s1: {
    widths: [32, 48, 120, 224],
    depths: [3, 3, 9, 6],
    vitNum: 2,
    dropPathRate: 0,
    eRatios: [
      [4, 4, 4],
      [4, 4, 4],
      [4, 4, 3, 3, 3, 3, 4, 4, 4],
      [4, 4, 3, 3, 4, 4],
    ],
  },
  efficientformerv2_s2: {
    widths: [32, 64, 144, 288],
    depths: [4, 4, 12, 8],
    vitNum: 4,
    dropPathRate: 0.02,
    eRatios: [
      [4, 4, 4, 4],
      [4, 4, 4, 4],
      [4, 4, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4],
      [4, 4, 3, 3, 3, 3, 4, 4],
    ],
  },
  efficientformerv2_l: {
    widths: [40, 80, 192, 384],
    depths: [5, 5, 15, 10],
    vitNum: 6,
    dropPathRate: 0.1,
    eRatios: [
      [4, 4, 4, 4, 4],
      [4, 4, 4, 4, 4],
      [4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4],
      [4, 4, 4, 3, 3, 3, 3, 4, 4, 4],
    ],
  },
} as const satisfies Record<string, EfficientFormerV2Options>;

export type EffV2VariantName = keyof typeof EFFV2_VARIANTS;

export type { FeatureInfo };

export type EffV2Features = [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];

interface ForwardModule extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

/** One stage: a run of FFN / AttnFFN blocks named '0', '1', …. */
export class Stage extends ModuleList<FFN | AttnFFN> {
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.items.reduce((y, blk) => blk.forward(y), x));
  }
}

export class EfficientFormerV2 extends Module {
  readonly options: Readonly<EfficientFormerV2Options>;
  readonly patchEmbed: Stem;
  /** network.{0,2,4,6} stages, network.{1,3} plain embeddings, network.5 attention embedding. */
  readonly network: ModuleList<ForwardModule>;
  readonly featureInfo: readonly FeatureInfo[];

  constructor(opts: EfficientFormerV2Options) {
    super();
    const { widths, depths, vitNum, eRatios, dropPathRate } = opts;
    if (widths.length !== 4 || depths.length !== 4 || eRatios.length !== 4) {
      throw new Error('EfficientFormerV2: widths, depths and eRatios need 4 stages');
    }
    eRatios.forEach((r, i) => {
      if (r.length !== depths[i]) {
        throw new Error(
          `EfficientFormerV2: stage ${i} has ${depths[i]} blocks but ${r.length} ratios`,
        );
      }
    });
    const resolution = opts.resolution ?? 512;
    const layerScaleInit = opts.layerScaleInit ?? 1e-5;
    // Registered so the training loop checkpoints its state (exact resume).
    const rng = this.registerRng('drop_path', opts.dropPathRng ?? new Rng(0));
    this.options = { ...opts, resolution, layerScaleInit, dropPathRng: rng };
    this.patchEmbed = this.child('patch_embed', new Stem(3, widths[0]));

    const total = depths.reduce((a, b) => a + b, 0);
    const items: ForwardModule[] = [];
    let blockIndex = 0;
    for (let s = 0; s < 4; s++) {
      const stageRes = Math.ceil(resolution / 2 ** (s + 2));
      const blocks: (FFN | AttnFFN)[] = [];
      for (let j = 0; j < depths[s]; j++) {
        const common = {
          dim: widths[s],
          mlpRatio: eRatios[s][j],
          dropPath: total > 1 ? (dropPathRate * blockIndex++) / (total - 1) : 0,
          layerScaleInit,
          rng,
        };
        // Attention in the last vitNum blocks of stages 3 and 4; stage 3's is strided.
        blocks.push(
          s >= 2 && j > depths[s] - 1 - vitNum
            ? new AttnFFN({ ...common, resolution: stageRes, stride: s === 2 ? 2 : undefined })
            : new FFN(common),
        );
      }
      items.push(new Stage(blocks));
      if (s < 3) {
        items.push(
          s >= 2
            ? new EmbeddingAsub(widths[s], widths[s + 1], stageRes)
            : new Embedding(widths[s], widths[s + 1]),
        );
      }
    }
    this.network = this.child('network', new ModuleList(items));
    this.featureInfo = widths.map((channels, i) => ({ channels, stride: 2 ** (i + 2) }));
  }

  /** Build a registered variant; `overrides` replace single option fields. */
  static fromVariant(
    name: EffV2VariantName,
    overrides: Partial<EfficientFormerV2Options> = {},
  ): EfficientFormerV2 {
    const v = EFFV2_VARIANTS[name];
    if (!v) {
      throw new Error(
        `Unknown EfficientFormerV2 variant '${name}'. Valid: ${Object.keys(EFFV2_VARIANTS).join(', ')}`,
      );
    }
    return new EfficientFormerV2({ ...v, ...overrides });
  }

  /** x [B,H,W,3] → [c1 (H/4), c2 (H/8), c3 (H/16), c4 (H/32)], each [B,h,w,width]. */
  forward(x: tf.Tensor4D): EffV2Features {
    const [, h, w, c] = x.shape;
    if (h % 32 !== 0 || w % 32 !== 0 || h === 0 || w === 0) {
      throw new Error(
        `EfficientFormerV2: input ${h}×${w} must be a positive multiple of 32 in both sides (pad or resize first)`,
      );
    }
    if (c !== 3) throw new Error(`EfficientFormerV2: expected 3 input channels, got ${c}`);
    return tf.tidy(() => {
      let y = this.patchEmbed.forward(x); // (B, H/4, W/4, C1)
      const outs: tf.Tensor4D[] = [];
      const rngs = this.namedRngs().map(([, r]) => r); // drop path draws from the backbone's
      this.network.items.forEach((m, i) => {
        // One checkpoint per stage/embedding (lib/models/core/grad_checkpoint.ts; off by default).
        y = checkpointed(m, [y], (t) => m.forward(t as tf.Tensor4D), rngs);
        if (i % 2 === 0) outs.push(y); // network 0, 2, 4, 6: stage outputs
      });
      return outs as EffV2Features;
    });
  }

  /** Drop every cached attention bias and interpolation matrix. */
  override clearCache(): void {
    for (const [, m] of this.namedModules()) if (m !== this) m.clearCache();
  }
}
