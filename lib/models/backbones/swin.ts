/**
 * Swin Transformer (Liu et al., ICCV 2021) as mmsegmentation 1.x builds it
 * (`mmseg/models/backbones/swin.py`, patch embedding and merging from `mmseg/models/utils/embed.py`).
 *
 * Stem: `patch_embed` = conv k=s=4 (input zero-padded at the bottom/right to a multiple of 4,
 * mmseg's 'corner' adaptive padding) → LayerNorm. Stage i: `stages.i.blocks.j` Swin blocks
 * [x + DropPath(W-MSA(LN(x))), x + DropPath(FFN(LN(x)))], odd blocks with windows shifted by
 * ⌊window/2⌋; then `stages.i.downsample` (all but the last stage) merges 2×2 patches: channel
 * order c·4 + (dy·2 + dx) as torch's nn.Unfold gives it, LayerNorm(4C), Linear(4C → 2C, no bias).
 * Every stage's output before merging passes its own LayerNorm `norm{i}`.
 *
 * Window attention (`attn.w_msa`): maps are zero-padded at the bottom/right to a multiple of the
 * window after norm1, cyclically shifted by −s for shifted blocks (regions that wrap are kept
 * apart with −100 added to their logits, as the official mask does), cut into ws×ws windows;
 * softmax(q·kᵀ/√d + B) with B the relative position bias: `relative_position_bias_table`
 * [(2ws−1)², heads] indexed by `relative_position_index` (persistent buffer, int64 in torch)
 * = (Δy + ws − 1)·(2ws − 1) + (Δx + ws − 1) for query minus key offsets. The index is applied as
 * a product with a constant one-hot matrix, exact and differentiable without a gather gradient.
 *
 * Keys: `patch_embed.{projection,norm}`, `stages.i.blocks.j.{norm1,norm2}`,
 * `stages.i.blocks.j.attn.w_msa.{qkv,proj,relative_position_bias_table,relative_position_index}`,
 * `stages.i.blocks.j.ffn.layers.{0.0,1}`, `stages.i.downsample.{norm,reduction}`, `norm{i}`.
 * LayerNorm eps 1e-5 (mmcv's LN default); GELU exact. NHWC throughout.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import type { FeatureInfo } from '../segmentor.ts';
import { Rng } from '../core/init.ts';
import { Conv2d } from '../layers/conv.ts';
import { Linear } from '../layers/linear.ts';
import { LayerNorm } from '../layers/norm.ts';
import { dropPathRates } from '../layers/drop_path.ts';
import { preNormResidual } from '../layers/pre_norm_block.ts';
import { gelu } from '../../ops/activation.ts';
import { padCorner, ShiftWindowMSA, truncLinearInit } from './swin_attention.ts';

export { relativePositionIndex, shiftedWindowMask } from './swin_attention.ts';

export interface SwinOptions {
  embedDims: number;
  depths: readonly number[];
  numHeads: readonly number[];
  windowSize?: number;
  mlpRatio?: number;
  patchSize?: number;
  /** Stochastic depth, linear over all blocks (the Mask2Former Swin-T config: 0.3). */
  dropPathRate?: number;
  dropPathSeed?: number;
}

/** mmseg configs `swin-tiny-patch4-window7` (as used by Mask2Former Swin-T). */
export const SWIN_VARIANTS = {
  swin_t: { embedDims: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24], dropPathRate: 0.3 },
} as const satisfies Record<string, SwinOptions>;

const LN_EPS = 1e-5;

/** mmcv FFN (2 fcs, GELU): `layers.0.0` Linear(C → hidden), `layers.1` Linear(hidden → C). */
class SwinFFN extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.child('layers.0.0', new Linear(dim, hidden));
    this.fc2 = this.child('layers.1', new Linear(hidden, dim));
    truncLinearInit(this.fc1);
    truncLinearInit(this.fc2);
  }
  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }
}

class SwinBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: ShiftWindowMSA;
  readonly norm2: LayerNorm;
  readonly ffn: SwinFFN;
  constructor(
    dim: number,
    heads: number,
    ws: number,
    shift: boolean,
    mlpRatio: number,
    readonly dropPathProb: number,
    private readonly rng: Rng,
  ) {
    super();
    this.norm1 = this.child('norm1', new LayerNorm(dim, LN_EPS));
    this.attn = this.child('attn', new ShiftWindowMSA(dim, heads, ws, shift ? ws >> 1 : 0));
    this.norm2 = this.child('norm2', new LayerNorm(dim, LN_EPS));
    this.ffn = this.child('ffn', new SwinFFN(dim, dim * mlpRatio));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return preNormResidual(x, this, this.dropPathProb, this.training, this.rng);
  }
}

/** mmseg PatchMerging (2×2 unfold → LayerNorm(4C) → Linear(4C → 2C, no bias)). */
class PatchMerging extends Module {
  readonly norm: LayerNorm;
  readonly reduction: Linear;
  constructor(readonly inC: number) {
    super();
    this.norm = this.child('norm', new LayerNorm(4 * inC, LN_EPS));
    this.reduction = this.child('reduction', new Linear(4 * inC, 2 * inC, false));
    truncLinearInit(this.reduction);
  }
  /** [B,H,W,C] → [B,⌈H/2⌉,⌈W/2⌉,2C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = padCorner(x, 2);
      const [b, h, w, c] = y.shape;
      // nn.Unfold(2, stride 2) orders the 4C channels as c·4 + (dy·2 + dx).
      const u = tf.reshape(
        tf.transpose(tf.reshape(y, [b, h / 2, 2, w / 2, 2, c]), [0, 1, 3, 5, 2, 4]),
        [b, h / 2, w / 2, 4 * c],
      ) as tf.Tensor4D;
      return this.reduction.forward(this.norm.forward(u));
    });
  }
}

/** mmseg PatchEmbed for Swin: `projection` conv k=s=patch (corner padding), then `norm`. */
class SwinPatchEmbed extends Module {
  readonly projection: Conv2d;
  readonly norm: LayerNorm;
  constructor(
    inC: number,
    outC: number,
    readonly patch: number,
  ) {
    super();
    this.projection = this.child(
      'projection',
      new Conv2d(inC, outC, { kernel: patch, stride: patch, padding: 0 }),
    );
    this.norm = this.child('norm', new LayerNorm(outC, LN_EPS));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.norm.forward(this.projection.forward(padCorner(x, this.patch))));
  }
}

/** The shared record under the name this file used to export. */
export type SwinFeatureInfo = FeatureInfo;

/** Swin Transformer backbone: x [B,H,W,3] → 4 maps [B,⌈H/4⌉,⌈W/4⌉,C] … [B,⌈H/32⌉,⌈W/32⌉,8C]. */
export class SwinTransformer extends Module {
  readonly patchEmbed: SwinPatchEmbed;
  readonly blocks: SwinBlock[][] = [];
  readonly downsamples: (PatchMerging | undefined)[] = [];
  readonly outNorms: LayerNorm[] = [];
  readonly featureInfo: SwinFeatureInfo[] = [];
  private readonly rng: Rng;

  constructor(opts: SwinOptions) {
    super();
    const ws = opts.windowSize ?? 7;
    const mlpRatio = opts.mlpRatio ?? 4;
    const patch = opts.patchSize ?? 4;
    const total = opts.depths.reduce((a, b) => a + b, 0);
    const dpr = dropPathRates(opts.dropPathRate ?? 0.1, total);
    this.rng = this.registerRng('drop_path', new Rng(opts.dropPathSeed ?? 0));
    this.patchEmbed = this.child('patch_embed', new SwinPatchEmbed(3, opts.embedDims, patch));
    let dim = opts.embedDims;
    let cur = 0;
    let stride = patch;
    const nStages = opts.depths.length;
    for (let i = 0; i < nStages; i++) {
      const stage: SwinBlock[] = [];
      for (let j = 0; j < opts.depths[i]; j++) {
        stage.push(
          this.child(
            `stages.${i}.blocks.${j}`,
            new SwinBlock(dim, opts.numHeads[i], ws, j % 2 === 1, mlpRatio, dpr[cur + j], this.rng),
          ),
        );
      }
      this.blocks.push(stage);
      cur += opts.depths[i];
      this.featureInfo.push({ channels: dim, stride });
      if (i < nStages - 1) {
        this.downsamples.push(this.child(`stages.${i}.downsample`, new PatchMerging(dim)));
        dim *= 2;
        stride *= 2;
      } else this.downsamples.push(undefined);
    }
    for (let i = 0; i < nStages; i++) {
      this.outNorms.push(
        this.child(`norm${i}`, new LayerNorm(this.featureInfo[i].channels, LN_EPS)),
      );
    }
  }

  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      const outs: tf.Tensor4D[] = [];
      let y = this.patchEmbed.forward(x);
      for (let i = 0; i < this.blocks.length; i++) {
        for (const blk of this.blocks[i]) y = blk.forward(y);
        outs.push(this.outNorms[i].forward(y));
        const down = this.downsamples[i];
        if (down) y = down.forward(y);
      }
      return outs;
    });
  }
}
