/**
 * Filter gradients of dense and depthwise 2-D convolutions from fast WASM kernels
 * (per-tap matrix products with explicit transposes; docs/backends.md).
 *
 * For a tap (i, j) every output position reads x at (o·s + i·d − pad): a strided window of
 * the padded input. Dense: dW[i,j] = Xᵀ_tap · dY, with X_tap [N, Ci] and dY [N, Co] (N = B·OH·OW).
 * The input is transposed once to [Ci, B, H, W] so each window slices straight into the
 * [Ci, N] left operand (`transposeA` on WASM runs a naive loop, ~10× slower).
 * Depthwise: dW[i,j,c,m] = Σ_n X_tap[n,c] · dY[n,c·M+m], per-channel dot products on
 * channel-major copies (see depthwiseFilterGrad).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ConvGeometry, type Pair, padOrCrop } from './common.ts';

/** Pad/crop x [B,H,W,C] so that every tap window starts at i·d and is fully inside. */
function paddedInput(x: tf.Tensor4D, geo: ConvGeometry): tf.Tensor4D {
  const after: Pair = [0, 0];
  for (const a of [0, 1] as const) {
    const need = (geo.kernel[a] - 1) * geo.dilation[a] + (geo.outSize[a] - 1) * geo.stride[a] + 1;
    after[a] = need - geo.padBefore[a] - geo.inSize[a];
  }
  return padOrCrop(x, geo.padBefore, after); // (B, needH, needW, C)
}

/**
 * Windows of the padded input per filter tap. With stride s the window of tap (i, j) reads
 * every s-th row/column from (i·d, j·d): it is a plain slice of the stride phase
 * (i·d mod s, j·d mod s) of the input, so each used phase is gathered (and laid out by
 * `layout`) once instead of one strided gather per tap.
 */
class TapWindows {
  private readonly phases = new Map<string, tf.Tensor>();
  constructor(
    private readonly xp: tf.Tensor4D,
    private readonly geo: ConvGeometry,
    /** NHWC phase → the layout windows are cut from; `hAxis` is its spatial row axis. */
    private readonly layout: (t: tf.Tensor4D) => tf.Tensor4D,
    private readonly hAxis: number,
  ) {}

  window(i: number, j: number): tf.Tensor {
    const [sh, sw] = this.geo.stride;
    const oi = i * this.geo.dilation[0];
    const oj = j * this.geo.dilation[1];
    const src = this.phase(oi % sh, oj % sw);
    const begin = src.shape.map(() => 0);
    const size = [...src.shape];
    begin[this.hAxis] = Math.floor(oi / sh);
    begin[this.hAxis + 1] = Math.floor(oj / sw);
    size[this.hAxis] = this.geo.outSize[0];
    size[this.hAxis + 1] = this.geo.outSize[1];
    return tf.slice(src, begin, size);
  }

  private phase(ph: number, pw: number): tf.Tensor {
    const key = `${ph},${pw}`;
    let t = this.phases.get(key);
    if (!t) {
      const [sh, sw] = this.geo.stride;
      const [b, h, w, c] = this.xp.shape;
      const sub =
        sh === 1 && sw === 1
          ? this.xp
          : tf.stridedSlice(this.xp, [0, ph, pw, 0], [b, h, w, c], [1, sh, sw, 1]); // (B, ⌈(H−ph)/sh⌉, ⌈(W−pw)/sw⌉, C)
      t = this.layout(sub as tf.Tensor4D);
      this.phases.set(key, t);
    }
    return t;
  }
}

/** dW for y = conv2d(x, W): x [B,H,W,Ci], dy [B,OH,OW,Co] → [kh,kw,Ci,Co]. */
export function convFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, geo: ConvGeometry): tf.Tensor4D {
  const [kh, kw] = geo.kernel;
  const [b, oh, ow, co] = dy.shape;
  const ci = x.shape[3];
  const n = b * oh * ow;
  const windows = new TapWindows(paddedInput(x, geo), geo, (t) => tf.transpose(t, [3, 0, 1, 2]), 2); // phases (Ci, B, Hs, Ws)
  const dy2 = tf.reshape(dy, [n, co]); // (N, Co)
  // One [Ci,N]·[N,Co] product per tap (an im2col block of several taps measured no faster).
  const parts: tf.Tensor[] = [];
  for (let t = 0; t < kh * kw; t++) {
    const win = windows.window(Math.floor(t / kw), t % kw); // (Ci, B, OH, OW)
    parts.push(tf.matMul(tf.reshape(win, [ci, n]), dy2)); // (Ci, Co)
  }
  const all = tf.concat(parts, 0); // (kh·kw·Ci, Co)
  return tf.reshape(all, [kh, kw, ci, co]); // row t·Ci + c ↔ tap t = i·kw + j
}

/**
 * dW for y = depthwiseConv2d(x, W): x [B,H,W,C], dy [B,OH,OW,C·M] → [kh,kw,C,M].
 * Channel-major: x (per stride phase) and dy are transposed once to [C, N], so each tap is a
 * window slice and C dot products of length N — one batched [C,1,N]·[C,M,N]ᵀ product, which
 * the stock WASM loop runs ~3× faster than a multiply plus an innermost-axis sum.
 */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  geo: ConvGeometry,
  multiplier: number,
): tf.Tensor4D {
  const [kh, kw] = geo.kernel;
  const [b, oh, ow] = dy.shape;
  const c = x.shape[3];
  const n = b * oh * ow;
  const windows = new TapWindows(paddedInput(x, geo), geo, (t) => tf.transpose(t, [3, 0, 1, 2]), 2); // phases (C, B, Hs, Ws)
  const dyT = tf.reshape(tf.transpose(dy, [3, 0, 1, 2]), [c, multiplier, n]); // (C, M, N); channel c·M + m
  const rows: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const win = tf.reshape(windows.window(i, j), [c, 1, n]); // (C, 1, N)
      rows.push(tf.reshape(tf.matMul(win, dyT, false, true), [c, multiplier])); // (C, 1, M) → (C, M)
    }
  }
  return tf.reshape(tf.stack(rows, 0), [kh, kw, c, multiplier]); // (kh, kw, C, M)
}
