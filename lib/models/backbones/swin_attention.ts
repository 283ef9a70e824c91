/**
 * The window attention of the Swin Transformer (Liu et al., ICCV 2021) as mmseg builds it
 * (`mmseg/models/backbones/swin.py` WindowMSA / ShiftWindowMSA), with its window geometry:
 * corner padding, the cyclic shift, the relative-position index and the shifted-window mask.
 * NHWC maps [B,H,W,C]; windows as [B·nW, ws², C] token rows (row-major inside a window).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { reinit, truncNormal } from '../core/init.ts';
import { Linear } from '../layers/linear.ts';
import { matMul } from '../../ops/conv.ts';

/** mmseg Swin init_weights for nn.Linear: trunc_normal(std .02), bias 0. */
export function truncLinearInit(l: Linear): void {
  reinit(l.weight, truncNormal(l.weight.shape, 0.02));
  if (l.bias) reinit(l.bias, tf.zeros(l.bias.shape));
}

/** Zero-pad [B,H,W,C] at the bottom and right to multiples of `m` (mmseg 'corner' padding). */
export function padCorner(x: tf.Tensor4D, m: number): tf.Tensor4D {
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
export function roll2d(x: tf.Tensor4D, s: number): tf.Tensor4D {
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
export class WindowMSA extends Module {
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
export class ShiftWindowMSA extends Module {
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
