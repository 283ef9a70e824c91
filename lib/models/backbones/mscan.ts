/**
 * MSCAN (SegNeXt encoder; Guo et al., NeurIPS 2022) as mmsegmentation 1.x builds it
 * (`mmseg/models/backbones/mscan.py`; docs/models.md).
 *
 * Stage 1 is a stem (conv3×3 s2 → BN → GELU → conv3×3 s2 → BN); stages 2–4 an overlapping
 * patch embedding (conv3×3 s2 → BN). Each block:
 *   x = x + DropPath(γ₁ ⊙ SpatialAttn(BN(x))),  x = x + DropPath(γ₂ ⊙ Mlp(BN(x))),  γ init 1e-2.
 * SpatialAttn(u) = proj_2(MSCA(GELU(proj_1(u)))) + u. MSCA is the multi-scale convolutional
 * attention: a = DW5×5(t); s = a + Σ_k DW(k×1)(DW(1×k)(a)) for k = 7, 11, 21; return conv1×1(s) ⊙ t.
 * Mlp = conv1×1 → DW3×3 → GELU → conv1×1 (no activation between fc1 and the DW conv).
 * After each stage a LayerNorm (eps 1e-5) over channels.
 *
 * Keys: `patch_embed1.proj.{0,1,3,4}`, `patch_embed{2,3,4}.{proj,norm}`,
 * `block{s}.{j}.{norm1, attn.proj_1, attn.spatial_gating_unit.{conv0, conv0_1, conv0_2, conv1_1,
 * conv1_2, conv2_1, conv2_2, conv3}, attn.proj_2, norm2, mlp.{fc1, dwconv, fc2}, layer_scale_1,
 * layer_scale_2}`, `norm{s}`. Norm is BN (mmseg 1.x configs; SyncBN when training on GPUs).
 *
 * NHWC: strip convs are depthwise with (1,k)/(k,1) kernels and explicit (0,k//2)/(k//2,0) padding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { Rng } from '../core/init.ts';
import { Conv2d, type Conv2dOptions } from '../layers/conv.ts';
import { BatchNorm2d, LayerNorm } from '../layers/norm.ts';
import { gelu } from '../../ops/activation.ts';
import { dropPath, dropPathRates } from '../layers/drop_path.ts';
import { fanOutNormalInit } from '../layers/weight_init.ts';
import type { FeatureInfo } from '../segmentor.ts';

export interface MSCANOptions {
  embedDims: readonly number[];
  depths: readonly number[];
  mlpRatios?: readonly number[];
  /** Stochastic depth, linear over all blocks (0.1 for T/S/B, 0.3 for L). */
  dropPathRate?: number;
  dropPathSeed?: number;
}

/** mmseg 1.x configs `segnext_mscan-{t,s,b,l}`. */
export const MSCAN_VARIANTS = {
  mscan_t: { embedDims: [32, 64, 160, 256], depths: [3, 3, 5, 2] },
  mscan_s: { embedDims: [64, 128, 320, 512], depths: [2, 2, 4, 2] },
  mscan_b: { embedDims: [64, 128, 320, 512], depths: [3, 3, 12, 3] },
  mscan_l: { embedDims: [64, 128, 320, 512], depths: [3, 5, 27, 3], dropPathRate: 0.3 },
} as const satisfies Record<string, MSCANOptions>;

/** Strip-conv kernel lengths of MSCA's three branches (`MSCAAttention` in mscan.py). */
const STRIPS = [7, 11, 21] as const;

function conv(inC: number, outC: number, o: Conv2dOptions): Conv2d {
  const c = new Conv2d(inC, outC, o);
  fanOutNormalInit(c); // mmseg MSCAN init_weights (init_cfg None)
  return c;
}

/** MSCAAttention (`spatial_gating_unit`). */
class MSCAAttention extends Module {
  readonly conv0: Conv2d;
  readonly strips: [Conv2d, Conv2d][] = [];
  readonly conv3: Conv2d;
  constructor(c: number) {
    super();
    this.conv0 = this.child('conv0', conv(c, c, { kernel: 5, padding: 2, groups: c }));
    STRIPS.forEach((k, i) => {
      const p = Math.floor(k / 2);
      const h = this.child(
        `conv${i}_1`,
        conv(c, c, { kernel: [1, k], padding: [0, p], groups: c }),
      );
      const v = this.child(
        `conv${i}_2`,
        conv(c, c, { kernel: [k, 1], padding: [p, 0], groups: c }),
      );
      this.strips.push([h, v]);
    });
    this.conv3 = this.child('conv3', conv(c, c, { kernel: 1 }));
  }
  forward(u: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const a = this.conv0.forward(u);
      let s: tf.Tensor4D = a;
      for (const [h, v] of this.strips) s = tf.add(s, v.forward(h.forward(a)));
      return tf.mul(this.conv3.forward(s), u);
    });
  }
}

/** MSCASpatialAttention (`attn`). */
class SpatialAttention extends Module {
  readonly proj1: Conv2d;
  readonly sgu: MSCAAttention;
  readonly proj2: Conv2d;
  constructor(c: number) {
    super();
    this.proj1 = this.child('proj_1', conv(c, c, { kernel: 1 }));
    this.sgu = this.child('spatial_gating_unit', new MSCAAttention(c));
    this.proj2 = this.child('proj_2', conv(c, c, { kernel: 1 }));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() =>
      tf.add(this.proj2.forward(this.sgu.forward(gelu(this.proj1.forward(x)))), x),
    );
  }
}

class Mlp extends Module {
  readonly fc1: Conv2d;
  readonly dwconv: Conv2d;
  readonly fc2: Conv2d;
  constructor(c: number, hidden: number) {
    super();
    this.fc1 = this.child('fc1', conv(c, hidden, { kernel: 1 }));
    this.dwconv = this.child('dwconv', conv(hidden, hidden, { kernel: 3, groups: hidden }));
    this.fc2 = this.child('fc2', conv(hidden, c, { kernel: 1 }));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.fc2.forward(gelu(this.dwconv.forward(this.fc1.forward(x)))));
  }
}

class MSCABlock extends Module {
  readonly norm1: BatchNorm2d;
  readonly attn: SpatialAttention;
  readonly norm2: BatchNorm2d;
  readonly mlp: Mlp;
  readonly layerScale1: tf.Variable;
  readonly layerScale2: tf.Variable;
  constructor(
    c: number,
    mlpRatio: number,
    readonly dropPathProb: number,
    private readonly rng: Rng,
  ) {
    super();
    this.norm1 = this.child('norm1', new BatchNorm2d(c));
    this.attn = this.child('attn', new SpatialAttention(c));
    this.norm2 = this.child('norm2', new BatchNorm2d(c));
    this.mlp = this.child('mlp', new Mlp(c, Math.floor(c * mlpRatio)));
    this.layerScale1 = this.param('layer_scale_1', tf.fill([c], 1e-2));
    this.layerScale2 = this.param('layer_scale_2', tf.fill([c], 1e-2));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const p = this.dropPathProb;
      const a = tf.mul(this.attn.forward(this.norm1.forward(x)), this.layerScale1); // γ₁ over C
      const y = tf.add(x, dropPath(a, p, this.training, this.rng)) as tf.Tensor4D;
      const f = tf.mul(this.mlp.forward(this.norm2.forward(y)), this.layerScale2);
      return tf.add(y, dropPath(f, p, this.training, this.rng));
    });
  }
}

/** Stage-1 stem: `proj` = Sequential(conv, BN, GELU, conv, BN). */
class StemConv extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  constructor(inC: number, outC: number) {
    super();
    const half = Math.floor(outC / 2);
    this.conv1 = this.child('proj.0', conv(inC, half, { kernel: 3, stride: 2, padding: 1 }));
    this.bn1 = this.child('proj.1', new BatchNorm2d(half));
    this.conv2 = this.child('proj.3', conv(half, outC, { kernel: 3, stride: 2, padding: 1 }));
    this.bn2 = this.child('proj.4', new BatchNorm2d(outC));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() =>
      this.bn2.forward(this.conv2.forward(gelu(this.bn1.forward(this.conv1.forward(x))))),
    );
  }
}

/** Stages 2–4: `proj` conv3×3 stride 2 pad 1, `norm` BN. */
class OverlapPatchEmbed extends Module {
  readonly proj: Conv2d;
  readonly norm: BatchNorm2d;
  constructor(inC: number, outC: number) {
    super();
    this.proj = this.child('proj', conv(inC, outC, { kernel: 3, stride: 2, padding: 1 }));
    this.norm = this.child('norm', new BatchNorm2d(outC));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.norm.forward(this.proj.forward(x)));
  }
}

export class MSCAN extends Module {
  readonly patchEmbeds: (StemConv | OverlapPatchEmbed)[] = [];
  readonly blocks: MSCABlock[][] = [];
  readonly norms: LayerNorm[] = [];
  readonly featureInfo: FeatureInfo[] = [];
  private readonly rng: Rng;

  constructor(opts: MSCANOptions) {
    super();
    const ratios = opts.mlpRatios ?? [8, 8, 4, 4];
    const total = opts.depths.reduce((a, b) => a + b, 0);
    const dpr = dropPathRates(opts.dropPathRate ?? 0.1, total);
    this.rng = this.registerRng('drop_path', new Rng(opts.dropPathSeed ?? 0));
    let cur = 0;
    for (let i = 0; i < opts.depths.length; i++) {
      const c = opts.embedDims[i];
      const embed = i === 0 ? new StemConv(3, c) : new OverlapPatchEmbed(opts.embedDims[i - 1], c);
      this.patchEmbeds.push(this.child(`patch_embed${i + 1}`, embed));
      const stage: MSCABlock[] = [];
      for (let j = 0; j < opts.depths[i]; j++) {
        stage.push(
          this.child(`block${i + 1}.${j}`, new MSCABlock(c, ratios[i], dpr[cur + j], this.rng)),
        );
      }
      this.blocks.push(stage);
      this.norms.push(this.child(`norm${i + 1}`, new LayerNorm(c, 1e-5)));
      this.featureInfo.push({ channels: c, stride: 2 ** (i + 2) });
      cur += opts.depths[i];
    }
  }

  /** x [B,H,W,3] → [B,H/4,W/4,C1], [B,H/8,W/8,C2], [B,H/16,W/16,C3], [B,H/32,W/32,C4]. */
  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      const outs: tf.Tensor4D[] = [];
      let y = x;
      for (let i = 0; i < this.patchEmbeds.length; i++) {
        y = this.patchEmbeds[i].forward(y);
        for (const blk of this.blocks[i]) y = blk.forward(y);
        y = this.norms[i].forward(y); // LayerNorm over channels = torch's token-layout LN
        outs.push(y);
      }
      return outs;
    });
  }
}
