/**
 * Mix Vision Transformer (MiT-B0…B5), the SegFormer encoder (Xie et al., NeurIPS 2021), as
 * mmsegmentation 1.x builds it (`mmseg/models/backbones/mit.py`).
 *
 * Per stage i: overlapping patch embedding (conv k×k stride s, pad k//2, then LayerNorm) →
 * N_i encoder layers [x + DropPath(EffAttn(LN(x))), x + DropPath(MixFFN(LN(x)))] → LayerNorm.
 * EffAttn is torch nn.MultiheadAttention whose keys/values come from a stride-sr conv + LN of the
 * tokens (sr = 8, 4, 2, 1). MixFFN = 1×1 conv → depthwise 3×3 → GELU → 1×1 conv.
 *
 * Keys follow mmseg 1.x: `layers.{i}.0.{projection,norm}`, `layers.{i}.1.{j}.{norm1,
 * attn.attn.{in_proj_weight,in_proj_bias,out_proj}, attn.sr, attn.norm, norm2,
 * ffn.layers.{0,1,4}}`, `layers.{i}.2`. LayerNorm eps 1e-6 everywhere; GELU exact.
 *
 * NHWC throughout: tokens are the row-major pixels of a [B,h,w,C] map (torch's flatten(2) of
 * NCHW gives the same order), so LayerNorm over the last axis needs no reshape; only attention
 * flattens to [B,N,C].
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import type { FeatureInfo } from '../segmentor.ts';
import { reinit, Rng, truncNormal, xavierUniform } from '../core/init.ts';
import { Conv2d } from '../layers/conv.ts';
import { Linear } from '../layers/linear.ts';
import { LayerNorm } from '../layers/norm.ts';
import { dropPathRates } from '../layers/drop_path.ts';
import { preNormResidual } from '../layers/pre_norm_block.ts';
import { fanOutNormalInit } from '../layers/weight_init.ts';
import { matMul } from '../../ops/conv.ts';
import { gelu } from '../../ops/activation.ts';

export interface MiTOptions {
  /** Base width; stage widths are embedDims · numHeads[i]. */
  embedDims: number;
  numLayers: readonly number[];
  numHeads?: readonly number[];
  patchSizes?: readonly number[];
  strides?: readonly number[];
  srRatios?: readonly number[];
  mlpRatio?: number;
  /** Stochastic depth, linear over all blocks (mmseg configs: 0.1). */
  dropPathRate?: number;
  /** Seed of the generator that draws drop-path masks in train mode. */
  dropPathSeed?: number;
}

/** mmseg configs `segformer_mit-b{0..5}`. */
export const MIT_VARIANTS = {
  mit_b0: { embedDims: 32, numLayers: [2, 2, 2, 2] },
  mit_b1: { embedDims: 64, numLayers: [2, 2, 2, 2] },
  mit_b2: { embedDims: 64, numLayers: [3, 4, 6, 3] },
  mit_b3: { embedDims: 64, numLayers: [3, 4, 18, 3] },
  mit_b4: { embedDims: 64, numLayers: [3, 8, 27, 3] },
  mit_b5: { embedDims: 64, numLayers: [3, 6, 40, 3] },
} as const satisfies Record<string, MiTOptions>;

const LN_EPS = 1e-6;

/** mmseg MiT init_weights for nn.Linear: trunc_normal(std .02), bias 0. */
function truncLinearInit(l: Linear): void {
  reinit(l.weight, truncNormal(l.weight.shape, 0.02));
  if (l.bias) reinit(l.bias, tf.zeros(l.bias.shape));
}

/** mmseg PatchEmbed: `projection` conv k×k stride s pad k//2, then `norm` LayerNorm. */
class PatchEmbed extends Module {
  readonly projection: Conv2d;
  readonly norm: LayerNorm;
  constructor(inC: number, outC: number, patch: number, stride: number) {
    super();
    this.projection = this.child(
      'projection',
      new Conv2d(inC, outC, { kernel: patch, stride, padding: Math.floor(patch / 2) }),
    );
    fanOutNormalInit(this.projection);
    this.norm = this.child('norm', new LayerNorm(outC, LN_EPS));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.norm.forward(this.projection.forward(x)));
  }
}

/**
 * torch nn.MultiheadAttention (batch-first use): packed in-projection `in_proj_weight` (3C, C)
 * with `in_proj_bias`, `out_proj` Linear. q·kᵀ and attn·v are traced as matmul; the projections
 * as linear (fvcore's aten::linear), as mmengine counts them (docs/flops.md).
 */
class MultiheadAttention extends Module {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias: tf.Variable;
  readonly outProj: Linear;
  readonly headDim: number;
  constructor(
    readonly dim: number,
    readonly numHeads: number,
  ) {
    super();
    this.headDim = dim / numHeads;
    // torch _reset_parameters: xavier_uniform on the (3C, C) matrix, zero biases. Stored (C, 3C).
    this.inProjWeight = this.param(
      'in_proj_weight',
      xavierUniform([dim, 3 * dim], dim, 3 * dim),
      'linear',
    );
    this.inProjBias = this.param('in_proj_bias', tf.zeros([3 * dim]));
    this.outProj = this.child('out_proj', new Linear(dim, dim));
    truncLinearInit(this.outProj); // mmseg init_weights also catches out_proj (an nn.Linear)
  }

  /** q [B,N,C], kv [B,M,C] → [B,N,C]. */
  forward(q: tf.Tensor3D, kv: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, n, c] = q.shape;
      const m = kv.shape[1];
      const h = this.numHeads;
      const d = this.headDim;
      // Rows 0..C of torch's packed weight project q, rows C..3C project k then v.
      const wq = tf.slice(this.inProjWeight, [0, 0], [c, c]); // (C, C)
      const wkv = tf.slice(this.inProjWeight, [0, c], [c, 2 * c]); // (C, 2C)
      const bq = tf.slice(this.inProjBias, [0], [c]);
      const bkv = tf.slice(this.inProjBias, [c], [2 * c]);
      const qp = tf.add(
        matMul(tf.reshape(q, [b * n, c]), wq, false, false, this.path, 'linear'),
        bq,
      ); // (B·N, C)
      const kvp = tf.add(
        matMul(tf.reshape(kv, [b * m, c]), wkv, false, false, this.path, 'linear'),
        bkv,
      ); // (B·M, 2C)
      // torch splits channels head-major: channel = head·d + j.
      const heads = (t: tf.Tensor, len: number): tf.Tensor =>
        tf.transpose(tf.reshape(t, [b, len, h, d]), [0, 2, 1, 3]); // (B, len, h, d) → (B, h, len, d)
      const kh = heads(tf.slice(kvp, [0, 0], [b * m, c]), m); // (B, h, M, d)
      const vh = heads(tf.slice(kvp, [0, c], [b * m, c]), m); // (B, h, M, d)
      const qh = heads(tf.mul(qp, 1 / Math.sqrt(d)), n); // (B, h, N, d), scaled as torch does
      const attn = tf.softmax(matMul(qh, kh, false, true, this.path)); // (B, h, N, M)
      const o = matMul(attn, vh, false, false, this.path); // (B, h, N, d)
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, n, c]) as tf.Tensor3D; // (B, N, C)
      return this.outProj.forward(merged);
    });
  }
}

/** mmseg EfficientMultiheadAttention: keys/values from a stride-sr conv + LayerNorm. */
class EfficientMultiheadAttention extends Module {
  readonly attn: MultiheadAttention;
  readonly sr?: Conv2d;
  readonly norm?: LayerNorm;
  constructor(dim: number, heads: number, srRatio: number) {
    super();
    this.attn = this.child('attn', new MultiheadAttention(dim, heads));
    if (srRatio > 1) {
      this.sr = this.child(
        'sr',
        new Conv2d(dim, dim, { kernel: srRatio, stride: srRatio, padding: 0 }),
      );
      fanOutNormalInit(this.sr);
      this.norm = this.child('norm', new LayerNorm(dim, LN_EPS));
    }
  }
  /** x [B,h,w,C] → [B,h,w,C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const kvMap = this.sr && this.norm ? this.norm.forward(this.sr.forward(x)) : x; // (B, h', w', C)
      const q = tf.reshape(x, [b, h * w, c]) as tf.Tensor3D; // (B, N, C)
      const kv = tf.reshape(kvMap, [b, -1, c]) as tf.Tensor3D; // (B, N', C)
      return tf.reshape(this.attn.forward(q, kv), [b, h, w, c]); // (B, h, w, C)
    });
  }
}

/** mmseg MixFFN: `layers` = [fc1 1×1, pe_conv dw3×3, GELU, Dropout, fc2 1×1, Dropout]. */
class MixFFN extends Module {
  readonly fc1: Conv2d;
  readonly peConv: Conv2d;
  readonly fc2: Conv2d;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.child('layers.0', new Conv2d(dim, hidden, { kernel: 1 }));
    this.peConv = this.child('layers.1', new Conv2d(hidden, hidden, { kernel: 3, groups: hidden }));
    this.fc2 = this.child('layers.4', new Conv2d(hidden, dim, { kernel: 1 }));
    for (const c of [this.fc1, this.peConv, this.fc2]) fanOutNormalInit(c);
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.fc2.forward(gelu(this.peConv.forward(this.fc1.forward(x)))));
  }
}

class TransformerEncoderLayer extends Module {
  readonly norm1: LayerNorm;
  readonly attn: EfficientMultiheadAttention;
  readonly norm2: LayerNorm;
  readonly ffn: MixFFN;
  constructor(
    dim: number,
    heads: number,
    mlpRatio: number,
    srRatio: number,
    readonly dropPathProb: number,
    private readonly rng: Rng,
  ) {
    super();
    this.norm1 = this.child('norm1', new LayerNorm(dim, LN_EPS));
    this.attn = this.child('attn', new EfficientMultiheadAttention(dim, heads, srRatio));
    this.norm2 = this.child('norm2', new LayerNorm(dim, LN_EPS));
    this.ffn = this.child('ffn', new MixFFN(dim, dim * mlpRatio));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return preNormResidual(x, this, this.dropPathProb, this.training, this.rng);
  }
}

export type { FeatureInfo };

export class MixVisionTransformer extends Module {
  readonly patchEmbeds: PatchEmbed[] = [];
  readonly blocks: TransformerEncoderLayer[][] = [];
  readonly norms: LayerNorm[] = [];
  readonly featureInfo: FeatureInfo[] = [];
  private readonly rng: Rng;

  constructor(opts: MiTOptions) {
    super();
    const heads = opts.numHeads ?? [1, 2, 5, 8];
    const patch = opts.patchSizes ?? [7, 3, 3, 3];
    const strides = opts.strides ?? [4, 2, 2, 2];
    const sr = opts.srRatios ?? [8, 4, 2, 1];
    const mlpRatio = opts.mlpRatio ?? 4;
    const total = opts.numLayers.reduce((a, b) => a + b, 0);
    const dpr = dropPathRates(opts.dropPathRate ?? 0.1, total);
    this.rng = this.registerRng('drop_path', new Rng(opts.dropPathSeed ?? 0));
    let inC = 3;
    let cur = 0;
    let stride = 1;
    for (let i = 0; i < opts.numLayers.length; i++) {
      const dim = opts.embedDims * heads[i];
      this.patchEmbeds.push(
        this.child(`layers.${i}.0`, new PatchEmbed(inC, dim, patch[i], strides[i])),
      );
      const stage: TransformerEncoderLayer[] = [];
      for (let j = 0; j < opts.numLayers[i]; j++) {
        stage.push(
          this.child(
            `layers.${i}.1.${j}`,
            new TransformerEncoderLayer(dim, heads[i], mlpRatio, sr[i], dpr[cur + j], this.rng),
          ),
        );
      }
      this.blocks.push(stage);
      this.norms.push(this.child(`layers.${i}.2`, new LayerNorm(dim, LN_EPS)));
      stride *= strides[i];
      this.featureInfo.push({ channels: dim, stride });
      cur += opts.numLayers[i];
      inC = dim;
    }
  }

  /** x [B,H,W,3] → one map per stage, [B,H/4,W/4,C1] … [B,H/32,W/32,C4]. */
  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      const outs: tf.Tensor4D[] = [];
      let y = x;
      for (let i = 0; i < this.patchEmbeds.length; i++) {
        y = this.patchEmbeds[i].forward(y);
        for (const blk of this.blocks[i]) y = blk.forward(y);
        y = this.norms[i].forward(y);
        outs.push(y);
      }
      return outs;
    });
  }
}
