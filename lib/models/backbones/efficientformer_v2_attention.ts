/**
 * EfficientFormerV2 attention modules of the segmentation backbone (`Attention4D`, `Attention4DDownsample`, `LGQuery` in efficientformer_v2.py):
 * Attention4D (optionally strided), the AttnFFN block, LGQuery, Attention4DDownsample and the
 * `asub` embedding that uses it. NHWC in and out.
 *
 * PyTorch channel-order trap (docs/architecture.md): torch reshapes a conv output (B, heads·d, H, W) to
 * (B, heads, d, N), so channel c belongs to head ⌊c/d⌋, dim c mod d. In NHWC the same split is
 * [B, N, heads, d] followed by a transpose to [B, heads, N, d]; merging back is the inverse.
 *
 * Attention sizes are fixed, not proportional to the width: Attention4D 8 heads × key 32,
 * value 128; the downsample 8 heads × key 16, value 64.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { Conv2d } from '../layers/conv.ts';
import { BatchNorm2d } from '../layers/norm.ts';
import { convBn } from '../layers/conv_bn.ts';
import { matMul } from '../../ops/conv.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import { recordOp } from '../../ops/trace.ts';
import { ConvNorm, Mlp, dropPath, scaled, type BlockOptions } from './efficientformer_v2_blocks.ts';
import { SegAttentionBias, biasIndexTable, type BiasGeometry } from './efficientformer_v2_bias.ts';

/** [B, h, w, heads·d] → [B, heads, h·w, d] with torch's head-major channel split. */
function splitHeads(x: tf.Tensor4D, heads: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const t = tf.reshape(x, [b, h * w, heads, c / heads]) as tf.Tensor4D; // (B, N, heads, d): c = head·d + j
  return tf.transpose(t, [0, 2, 1, 3]); // (B, heads, N, d)
}

/** [B, heads, h·w, d] → [B, h, w, heads·d] (inverse of splitHeads). */
function mergeHeads(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [b, heads, , d] = x.shape;
  const t = tf.transpose(x, [0, 2, 1, 3]); // (B, N, heads, d)
  return tf.reshape(t, [b, h, w, heads * d]); // (B, h, w, heads·d)
}

/**
 * Talking head: torch's 1×1 Conv2d over the head axis of the (B, heads, N, M) logits,
 * A'[h'] = Σ_h W[h', h]·A[h] + b[h']. Done as one 2-D product per image (no transposes of the
 * logits, and no broadcast matMul whose weight gradient tfjs would not reduce). fvcore counts it
 * as a convolution, so it is recorded as `conv` with B·N·M·heads² MACs.
 */
function talkingHead(attn: tf.Tensor4D, conv: Conv2d): tf.Tensor4D {
  const [b, nh, n, m] = attn.shape;
  recordOp('conv', b * n * m * nh * nh, conv.path, [attn.shape, conv.weight.shape]);
  return tf.tidy(() => {
    // ours [1,1,in,out] → W (h', h); transposed explicitly (8×8) so the big product has no
    // transpose flag, which keeps WASM on its fast (XNNPACK) path.
    const w = tf.transpose(tf.reshape(conv.weight, [nh, nh])); // (h', h)
    const bias = tf.reshape(conv.bias as tf.Tensor, [nh, 1]); // (h', 1)
    const flat = tf.reshape(attn, [b, nh, n * m]); // (B, heads, N·M)
    const mix = (a: tf.Tensor): tf.Tensor => tf.add(tf.matMul(w, a), bias); // (h', N·M)
    const y = b === 1 ? mix(tf.reshape(flat, [nh, n * m])) : tf.stack(tf.unstack(flat).map(mix));
    return tf.reshape(y, [b, nh, n, m]); // (B, heads, N, M)
  });
}

export interface Attention4DOptions {
  dim: number;
  /** Stage resolution of the 512-pixel build (ceil(512 / 2^(stage+2))): sizes the bias table. */
  resolution: number;
  /** 2 for stage 3: depthwise 3×3 s2 conv + BN before, bilinear ×2 after. */
  stride?: 2;
  numHeads?: number;
  keyDim?: number;
  attnRatio?: number;
}

/** Multi-head self-attention on a 2-D grid with talking heads and a local value branch (`Attention4D`). */
export class Attention4D extends Module {
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly scale: number;
  readonly strideConv?: ConvNorm;
  readonly q: ConvNorm;
  readonly k: ConvNorm;
  readonly v: ConvNorm;
  readonly vLocal: ConvNorm;
  readonly talkingHead1: Conv2d;
  readonly talkingHead2: Conv2d;
  readonly proj: ConvNorm;
  readonly attentionBiasesSeg: tf.Variable;
  readonly bias: SegAttentionBias;

  constructor(opts: Attention4DOptions) {
    super();
    const { dim } = opts;
    const nh = (this.numHeads = opts.numHeads ?? 8);
    this.keyDim = opts.keyDim ?? 32;
    this.valueDim = (opts.attnRatio ?? 4) * this.keyDim;
    this.scale = this.keyDim ** -0.5;
    const dh = nh * this.valueDim;
    const r = opts.stride ? Math.ceil(opts.resolution / opts.stride) : opts.resolution;
    if (opts.stride) {
      this.strideConv = this.child(
        'stride_conv',
        new ConvNorm(dim, dim, { kernel: 3, stride: opts.stride, padding: 1, groups: dim }),
      );
    }
    this.q = this.child('q', new ConvNorm(dim, nh * this.keyDim));
    this.k = this.child('k', new ConvNorm(dim, nh * this.keyDim));
    this.v = this.child('v', new ConvNorm(dim, dh));
    this.vLocal = this.child('v_local', new ConvNorm(dh, dh, { kernel: 3, groups: dh }));
    this.talkingHead1 = this.child('talking_head1', new Conv2d(nh, nh));
    this.talkingHead2 = this.child('talking_head2', new Conv2d(nh, nh));
    this.proj = this.child('proj', new ConvNorm(dh, dim, { preGelu: true }));
    // Zero-initialised, not loaded from ImageNet (docs/models.md).
    this.attentionBiasesSeg = this.param('attention_biases_seg', tf.zeros([nh, r * r]));
    const geom: BiasGeometry = { heads: nh, keyRes: r, queryRes: r, queryStride: 1 };
    // Dummy buffers that only exist so the ImageNet checkpoints load non-strictly.
    this.buffer('attention_biases', tf.zeros([nh, 49]));
    this.buffer('attention_bias_idxs', tf.ones([49, 49], 'int32'));
    this.buffer('attention_bias_idxs_seg', tf.tensor2d(biasIndexTable(geom), [r * r, r * r]));
    this.bias = new SegAttentionBias(this.attentionBiasesSeg, geom);
  }

  /** x [B,H,W,C] → [B,H,W,C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [, hIn, wIn] = x.shape;
      const xs = this.strideConv ? this.strideConv.forward(x) : x; // (B, h, w, C)
      const [, h, w] = xs.shape;
      const n = h * w;
      const q = splitHeads(this.q.forward(xs), this.numHeads); // (B, 8, N, 32)
      const k = splitHeads(this.k.forward(xs), this.numHeads); // (B, 8, N, 32)
      const v0 = this.v.forward(xs); // (B, h, w, 1024)
      const vLocal = this.vLocal.forward(v0); // (B, h, w, 1024)
      const v = splitHeads(v0, this.numHeads); // (B, 8, N, 128)
      const logits = tf.mul(matMul(q, k, false, true, this.path), this.scale); // (B, 8, N, N)
      let attn = tf.add(logits, this.bias.get(n, n, this.training, this.path)) as tf.Tensor4D;
      attn = talkingHead(attn, this.talkingHead1);
      attn = tf.softmax(attn) as tf.Tensor4D; // over keys (last axis)
      attn = talkingHead(attn, this.talkingHead2);
      const o = matMul(attn, v, false, false, this.path) as tf.Tensor4D; // (B, 8, N, 128)
      let out = tf.add(mergeHeads(o, h, w), vLocal) as tf.Tensor4D; // (B, h, w, 1024)
      if (this.strideConv) out = resizeBilinear(out, [2 * h, 2 * w], this.path); // (B, H, W, 1024)
      if (out.shape[1] !== hIn || out.shape[2] !== wIn) {
        throw new Error(`Attention4D: ${hIn}×${wIn} input must be divisible by the stride`);
      }
      return this.proj.forward(out); // (B, H, W, C)
    });
  }

  override clearCache(): void {
    this.bias.clear();
  }
}

/** AttnFFN block: x + DropPath(γ₁ ⊙ Attention4D(x)), then x + DropPath(γ₂ ⊙ Mlp(x)). */
export interface AttnBlockOptions extends BlockOptions {
  resolution: number;
  stride?: 2;
}

export class AttnFFN extends Module {
  readonly layerScale1: tf.Variable;
  readonly layerScale2: tf.Variable;
  readonly tokenMixer: Attention4D;
  readonly mlp: Mlp;
  constructor(readonly opts: AttnBlockOptions) {
    super();
    const { dim } = opts;
    this.layerScale1 = this.param('layer_scale_1', tf.fill([dim, 1, 1], opts.layerScaleInit));
    this.layerScale2 = this.param('layer_scale_2', tf.fill([dim, 1, 1], opts.layerScaleInit));
    this.tokenMixer = this.child(
      'token_mixer',
      new Attention4D({ dim, resolution: opts.resolution, stride: opts.stride }),
    );
    this.mlp = this.child('mlp', new Mlp(dim, Math.floor(dim * opts.mlpRatio)));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { dropPath: p, rng } = this.opts;
      const t = this.training;
      const a = scaled(this.layerScale1, this.tokenMixer.forward(x));
      const y = tf.add(x, dropPath(a, p, t, rng)) as tf.Tensor4D;
      return tf.add(y, dropPath(scaled(this.layerScale2, this.mlp.forward(y)), p, t, rng));
    });
  }
}

/** Local-global query (`LGQuery`): BN(conv1×1(dwconv3×3 s2(x) + x[:, ::2, ::2])). */
export class LGQuery extends Module {
  readonly local: ConvNorm;
  readonly proj: ConvNorm;
  constructor(inDim: number, outDim: number) {
    super();
    this.local = this.child(
      'local',
      new ConvNorm(inDim, inDim, { kernel: 3, stride: 2, padding: 1, groups: inDim, norm: false }),
    );
    this.proj = this.child('proj', new ConvNorm(inDim, outDim));
  }
  /** x [B,H,W,C] (H, W even) → [B,H/2,W/2,outDim]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      // AvgPool2d(kernel 1, stride 2) == x[:, ::2, ::2]: pick the first of each 2×2 cell.
      const cells = tf.reshape(x, [b * (h / 2), 2, w / 2, 2 * c]); // (B·H/2, dy, W/2, dx·C + ch)
      const pool = tf.reshape(tf.slice(cells, [0, 0, 0, 0], [-1, 1, -1, c]), [b, h / 2, w / 2, c]);
      return this.proj.forward(tf.add(this.local.forward(x), pool) as tf.Tensor4D);
    });
  }
}

export interface Attention4DDownsampleOptions {
  dim: number;
  outDim: number;
  /** Key grid side of the 512-pixel build (ceil(512/16) = 32): sizes the bias table. */
  resolution: number;
  numHeads?: number;
  keyDim?: number;
  attnRatio?: number;
}

/** Attention that halves the grid: LGQuery queries attend to full-resolution keys (`Attention4DDownsample`). */
export class Attention4DDownsample extends Module {
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly scale: number;
  readonly q: LGQuery;
  readonly k: ConvNorm;
  readonly v: ConvNorm;
  readonly vLocal: ConvNorm;
  readonly proj: ConvNorm;
  readonly attentionBiasesSeg: tf.Variable;
  readonly bias: SegAttentionBias;

  constructor(opts: Attention4DDownsampleOptions) {
    super();
    const { dim, outDim, resolution: r } = opts;
    const nh = (this.numHeads = opts.numHeads ?? 8);
    this.keyDim = opts.keyDim ?? 16;
    this.valueDim = (opts.attnRatio ?? 4) * this.keyDim;
    this.scale = this.keyDim ** -0.5;
    const dh = nh * this.valueDim;
    const rq = Math.ceil(r / 2);
    this.q = this.child('q', new LGQuery(dim, nh * this.keyDim));
    this.k = this.child('k', new ConvNorm(dim, nh * this.keyDim));
    this.v = this.child('v', new ConvNorm(dim, dh));
    this.vLocal = this.child(
      'v_local',
      new ConvNorm(dh, dh, { kernel: 3, stride: 2, padding: 1, groups: dh }),
    );
    this.proj = this.child('proj', new ConvNorm(dh, outDim, { preGelu: true }));
    this.attentionBiasesSeg = this.param('attention_biases_seg', tf.zeros([nh, r * r]));
    const geom: BiasGeometry = {
      heads: nh,
      keyRes: r,
      queryRes: rq,
      queryStride: Math.ceil(r / rq),
    };
    this.buffer('attention_biases', tf.zeros([nh, 196])); // dummy, as in Attention4D
    this.buffer('attention_bias_idxs', tf.ones([49, 196], 'int32'));
    this.buffer('attention_bias_idxs_seg', tf.tensor2d(biasIndexTable(geom), [rq * rq, r * r]));
    this.bias = new SegAttentionBias(this.attentionBiasesSeg, geom);
  }

  /** x [B,H,W,C] (H, W even) → [B,H/2,W/2,outDim]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [, h, w] = x.shape;
      if (h % 2 || w % 2) throw new Error(`Attention4DDownsample: odd grid ${h}×${w}`);
      const q = splitHeads(this.q.forward(x), this.numHeads); // (B, 8, N/4, 16)
      const k = splitHeads(this.k.forward(x), this.numHeads); // (B, 8, N, 16)
      const v0 = this.v.forward(x); // (B, H, W, 512)
      const vLocal = this.vLocal.forward(v0); // (B, H/2, W/2, 512)
      const v = splitHeads(v0, this.numHeads); // (B, 8, N, 64)
      const nq = (h / 2) * (w / 2);
      const logits = tf.mul(matMul(q, k, false, true, this.path), this.scale); // (B, 8, N/4, N)
      const bias = this.bias.get(nq, h * w, this.training, this.path); // (8, N/4, N)
      const attn = tf.softmax(tf.add(logits, bias)) as tf.Tensor4D; // over keys
      const o = matMul(attn, v, false, false, this.path) as tf.Tensor4D; // (B, 8, N/4, 64)
      const out = tf.add(mergeHeads(o, h / 2, w / 2), vLocal) as tf.Tensor4D; // (B, H/2, W/2, 512)
      return this.proj.forward(out); // (B, H/2, W/2, outDim)
    });
  }

  override clearCache(): void {
    this.bias.clear();
  }
}

/** Attention down-sampling embedding (network 5, `asub`): BN(conv3×3 s2(x)) + attn(x). */
export class EmbeddingAsub extends Module {
  readonly attn: Attention4DDownsample;
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inChannels: number, outChannels: number, resolution: number) {
    super();
    this.attn = this.child(
      'attn',
      new Attention4DDownsample({ dim: inChannels, outDim: outChannels, resolution }),
    );
    this.conv = this.child(
      'conv',
      new Conv2d(inChannels, outChannels, { kernel: 3, stride: 2, padding: 1 }),
    );
    this.bn = this.child('bn', new BatchNorm2d(outChannels));
  }
  /** x [B,H,W,C3] → [B,H/2,W/2,C4]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.add(convBn(this.conv, this.bn, x), this.attn.forward(x)));
  }
}
