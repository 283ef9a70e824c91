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
import { reinit, Rng, truncNormal } from '../core/init.ts';
import { Conv2d } from '../layers/conv.ts';
import { Linear } from '../layers/linear.ts';
import { LayerNorm } from '../layers/norm.ts';
import { dropPath, dropPathRates } from '../layers/drop_path.ts';
import { matMul } from '../../ops/conv.ts';
import { gelu } from '../../ops/activation.ts';

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

/** mmseg Swin init_weights for nn.Linear: trunc_normal(std .02), bias 0. */
function truncLinearInit(l: Linear): void {
  reinit(l.weight, truncNormal(l.weight.shape, 0.02));
  if (l.bias) reinit(l.bias, tf.zeros(l.bias.shape));
}

/** Zero-pad [B,H,W,C] at the bottom and right to multiples of `m` (mmseg 'corner' padding). */
function padCorner(x: tf.Tensor4D, m: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const ph = (m - (h % m)) % m;
  const pw = (m - (w % m)) % m;
  if (ph === 0 && pw === 0) return x;
  return tf.pad(x, [
    [0, 0],
    [0, ph],
    [0, pw],
    [0, 0],
  ]);
}

/** torch.roll along axes 1 and 2 of [B,H,W,C] by (s, s) (positive: towards larger indices). */
function roll2d(x: tf.Tensor4D, s: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const sh = ((s % h) + h) % h;
    const sw = ((s % w) + w) % w;
    let y = x;
    if (sh)
      y = tf.concat([tf.slice(y, [0, h - sh], [-1, sh]), tf.slice(y, [0, 0], [-1, h - sh])], 1);
    if (sw)
      y = tf.concat(
        [tf.slice(y, [0, 0, w - sw], [-1, -1, sw]), tf.slice(y, [0, 0, 0], [-1, -1, w - sw])],
        2,
      );
    return y;
  });
}

/** The official `relative_position_index` (ws², ws²) for a ws×ws window, row-major tokens. */
export function relativePositionIndex(ws: number): Int32Array {
  const n = ws * ws;
  const out = new Int32Array(n * n);
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      const dy = Math.floor(p / ws) - Math.floor(q / ws);
      const dx = (p % ws) - (q % ws);
      out[p * n + q] = (dy + ws - 1) * (2 * ws - 1) + (dx + ws - 1);
    }
  }
  return out;
}

/**
 * Attention mask of a shifted window layer on an hp×wp padded map (official ShiftWindowMSA):
 * the map is split into 3×3 regions by the slices [0, −ws), [−ws, −s), [−s, end) of each axis;
 * token pairs of one window in different regions get −100. Returns [nW, ws², ws²].
 */
export function shiftedWindowMask(hp: number, wp: number, ws: number, s: number): Float32Array {
  const region = (i: number, size: number) => (i < size - ws ? 0 : i < size - s ? 1 : 2);
  const nWh = hp / ws;
  const nWw = wp / ws;
  const n = ws * ws;
  const out = new Float32Array(nWh * nWw * n * n);
  for (let a = 0; a < nWh; a++) {
    for (let b = 0; b < nWw; b++) {
      const ids: number[] = [];
      for (let i = 0; i < ws; i++)
        for (let j = 0; j < ws; j++) ids.push(region(a * ws + i, hp) * 3 + region(b * ws + j, wp));
      const base = (a * nWw + b) * n * n;
      for (let p = 0; p < n; p++)
        for (let q = 0; q < n; q++) out[base + p * n + q] = ids[p] === ids[q] ? 0 : -100;
    }
  }
  return out;
}

/** mmseg WindowMSA: attention inside [Bw, ws², C] windows with the relative position bias. */
class WindowMSA extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly table: tf.Variable;
  readonly index: tf.Variable;
  private onehot?: tf.Tensor2D;
  constructor(
    readonly dim: number,
    readonly numHeads: number,
    readonly ws: number,
  ) {
    super();
    const side = 2 * ws - 1;
    this.table = this.param(
      'relative_position_bias_table',
      truncNormal([side * side, numHeads], 0.02),
    );
    this.index = this.buffer(
      'relative_position_index',
      tf.tensor2d(relativePositionIndex(ws), [ws * ws, ws * ws], 'int32'),
    );
    this.qkv = this.child('qkv', new Linear(dim, 3 * dim));
    this.proj = this.child('proj', new Linear(dim, dim));
    truncLinearInit(this.qkv);
    truncLinearInit(this.proj);
  }

  /** Bias [heads, N, N] = table[index] as onehot(index) · table. */
  private bias(): tf.Tensor3D {
    const n = this.ws * this.ws;
    const rows = this.table.shape[0];
    if (!this.onehot) {
      this.onehot = tf.keep(
        tf.tidy(() => tf.oneHot(tf.reshape(this.index, [-1]) as tf.Tensor1D, rows).toFloat()),
      ) as tf.Tensor2D; // (N·N, rows)
    }
    const b = matMul(this.onehot, this.table, false, false, this.path); // (N·N, heads)
    return tf.transpose(tf.reshape(b, [n, n, this.numHeads]), [2, 0, 1]);
  }

  /** x [Bw,N,C] (Bw = B·nW windows), mask [nW,N,N] or undefined → [Bw,N,C]. */
  forward(x: tf.Tensor3D, mask?: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [bw, n, c] = x.shape;
      const h = this.numHeads;
      const d = c / h;
      // torch: qkv.reshape(B, N, 3, heads, d).permute(2, 0, 3, 1, 4)
      const qkv = tf.transpose(tf.reshape(this.qkv.forward(x), [bw, n, 3, h, d]), [2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(qkv).map((t) => t as tf.Tensor4D); // 3 × (Bw, h, N, d)
      let attn = matMul(tf.mul(q, d ** -0.5), k, false, true, this.path); // (Bw, h, N, N)
      attn = tf.add(attn, this.bias());
      if (mask) {
        const nW = mask.shape[0];
        attn = tf.reshape(
          tf.add(tf.reshape(attn, [bw / nW, nW, h, n, n]), tf.reshape(mask, [1, nW, 1, n, n])),
          [bw, h, n, n],
        );
      }
      const o = matMul(tf.softmax(attn), v, false, false, this.path); // (Bw, h, N, d)
      return this.proj.forward(tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [bw, n, c]));
    });
  }

  override clearCache(): void {
    this.onehot?.dispose();
    this.onehot = undefined;
  }
}

/** mmseg ShiftWindowMSA on a [B,H,W,C] map (child `w_msa`). */
class ShiftWindowMSA extends Module {
  readonly wMsa: WindowMSA;
  private masks = new Map<string, tf.Tensor3D>();
  constructor(
    dim: number,
    heads: number,
    readonly ws: number,
    readonly shift: number,
  ) {
    super();
    this.wMsa = this.child('w_msa', new WindowMSA(dim, heads, ws));
  }

  private mask(hp: number, wp: number): tf.Tensor3D {
    const key = `${hp}x${wp}`;
    let m = this.masks.get(key);
    if (!m) {
      const n = this.ws * this.ws;
      const nW = (hp / this.ws) * (wp / this.ws);
      m = tf.keep(tf.tensor3d(shiftedWindowMask(hp, wp, this.ws, this.shift), [nW, n, n]));
      this.masks.set(key, m);
    }
    return m;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const ws = this.ws;
      let y = padCorner(x, ws);
      const [, hp, wp] = y.shape;
      if (this.shift > 0) y = roll2d(y, -this.shift);
      // window partition: (B, hp/ws, ws, wp/ws, ws, C) → (B·nW, ws², C)
      const nh = hp / ws;
      const nw = wp / ws;
      const win = tf.reshape(
        tf.transpose(tf.reshape(y, [b, nh, ws, nw, ws, c]), [0, 1, 3, 2, 4, 5]),
        [b * nh * nw, ws * ws, c],
      ) as tf.Tensor3D;
      const out = this.wMsa.forward(win, this.shift > 0 ? this.mask(hp, wp) : undefined);
      // window reverse
      y = tf.reshape(tf.transpose(tf.reshape(out, [b, nh, nw, ws, ws, c]), [0, 1, 3, 2, 4, 5]), [
        b,
        hp,
        wp,
        c,
      ]);
      if (this.shift > 0) y = roll2d(y, this.shift);
      return hp !== h || wp !== w ? tf.slice(y, [0, 0, 0, 0], [b, h, w, c]) : y;
    });
  }

  override clearCache(): void {
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}

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
    return tf.tidy(() => {
      const p = this.dropPathProb;
      const a = dropPath(this.attn.forward(this.norm1.forward(x)), p, this.training, this.rng);
      const y = tf.add(x, a) as tf.Tensor4D;
      const f = dropPath(this.ffn.forward(this.norm2.forward(y)), p, this.training, this.rng);
      return tf.add(y, f);
    });
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
