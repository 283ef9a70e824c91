/**
 * Input gradient of dense and depthwise 2-D convolutions, built from forward convolutions
 * (XNNPACK on WASM) instead of the stock WASM `Conv2DBackpropInput`, a plain C++ loop that
 * measured ~1.5 GFLOP/s (docs/backends.md).
 *
 * Forward: y[o] = Σ_i x[o·s + i·d − pad] · w[i] (per spatial dim). Hence, for the input
 * position t = s·m + p (phase p ∈ [0, s)), only the taps i with (p + pad − i·d) ≡ 0 (mod s)
 * contribute, each from dy[m + (p + pad − i·d)/s]. Every phase is therefore a stride-1
 * correlation of dy with a sub-filter (the contributing taps, flipped) — no zero-inserted
 * "dilated" dy, so a stride-2 gradient costs the same FLOPs as the forward conv. The s² phase
 * outputs are interleaved back with depthToSpace. For s = 1 this is the classic "conv of dy
 * with the flipped filter at the same dilation".
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ConvGeometry, gcd, type Pair, padOrCrop } from './common.ts';

interface Phase1D {
  /** Filter taps contributing to this phase, ordered by ascending dy offset. */
  taps: number[];
  /** dy offset of the first tap. */
  offset: number;
  /** Spacing of consecutive taps' dy offsets (the sub-conv dilation). */
  dilation: number;
}

function phases1d(k: number, s: number, d: number, padBefore: number): Phase1D[] {
  const out: Phase1D[] = [];
  const step = d / gcd(s, d);
  for (let p = 0; p < s; p++) {
    const taps: number[] = [];
    let offset = 0;
    // Ascending offset == descending tap index.
    for (let i = k - 1; i >= 0; i--) {
      const num = p + padBefore - i * d;
      if (((num % s) + s) % s !== 0) continue;
      if (!taps.length) offset = num / s;
      taps.push(i);
    }
    out.push({ taps, offset, dilation: step });
  }
  return out;
}

/**
 * dx for y = conv(x, w): dy [B,OH,OW,Co], w [kh,kw,Ci,Co] (dense) or [kh,kw,C,M] (depthwise,
 * dy has C·M channels), geometry of the forward conv → dx [B,H,W,Ci|C].
 */
export function convInputGrad(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  geo: ConvGeometry,
  depthwise: boolean,
): tf.Tensor4D {
  const [kh, kw, c, m] = w.shape;
  if (depthwise && m > 1) {
    // Each of the C·M output channels reads one input channel: treat as multiplier 1 over
    // C·M channels, then add the M contributions of each input channel.
    const w1 = tf.reshape(w, [kh, kw, c * m, 1]); // (kh, kw, C·M, 1); channel order c·M + j
    const dx = convInputGrad(dy, w1 as tf.Tensor4D, geo, true); // (B, H, W, C·M)
    const [b, h, wd] = dx.shape;
    return tf.sum(tf.reshape(dx, [b, h, wd, c, m]), 4); // (B, H, W, C)
  }
  const [sh, sw] = geo.stride;
  const [H, W] = geo.inSize;
  const [oh, ow] = geo.outSize;
  const L: Pair = [Math.ceil(H / sh), Math.ceil(W / sw)];
  const rows = phases1d(kh, sh, geo.dilation[0], geo.padBefore[0]);
  const cols = phases1d(kw, sw, geo.dilation[1], geo.padBefore[1]);
  const b = dy.shape[0];
  const ci = depthwise ? c : w.shape[2];
  const wTaps = tf.reshape(w, [kh * kw, w.shape[2], w.shape[3]]); // (kh·kw, Ci, Co)
  const outs: tf.Tensor4D[] = [];
  for (const r of rows) {
    for (const q of cols) {
      if (!r.taps.length || !q.taps.length) {
        outs.push(tf.zeros([b, L[0], L[1], ci]));
        continue;
      }
      const th = r.taps.length;
      const tw = q.taps.length;
      const before: Pair = [-r.offset, -q.offset];
      const after: Pair = [
        L[0] + (th - 1) * r.dilation - oh - before[0],
        L[1] + (tw - 1) * q.dilation - ow - before[1],
      ];
      const dyP = padOrCrop(dy, before, after); // (B, L0+(th−1)·dil, L1+(tw−1)·dil, Co)
      const flat = r.taps.flatMap((i) => q.taps.map((j) => i * kw + j));
      const g: tf.Tensor4D = tf.reshape(tf.gather(wTaps, flat, 0), [
        th,
        tw,
        w.shape[2],
        w.shape[3],
      ]); // (th, tw, Ci, Co) flipped taps
      const dil: Pair = [r.dilation, q.dilation];
      outs.push(
        depthwise
          ? tf.depthwiseConv2d(dyP, g, 1, 'valid', 'NHWC', dil)
          : tf.conv2d(dyP, tf.transpose(g, [0, 1, 3, 2]), 1, 'valid', 'NHWC', dil), // g: (th, tw, Co, Ci)
      ); // (B, L0, L1, Ci)
    }
  }
  return interleave(outs, sh, sw, H, W);
}

/** Phase outputs (row-phase major) [B,L0,L1,C] each → [B,H,W,C] with x[s·m+p] = phase p [m]. */
function interleave(
  outs: tf.Tensor4D[],
  sh: number,
  sw: number,
  H: number,
  W: number,
): tf.Tensor4D {
  const [b, l0, l1, c] = outs[0].shape;
  let full: tf.Tensor4D;
  if (sh === 1 && sw === 1) {
    full = outs[0];
  } else if (sh === sw) {
    // depthToSpace (NHWC, DCR): out[b, h·s+i, w·s+j, c] = in[b, h, w, (i·s + j)·C + c].
    full = tf.depthToSpace(tf.concat(outs, 3), sh); // (B, L0·s, L1·s, C)
  } else {
    const st = tf.reshape(tf.stack(outs, 0), [sh, sw, b, l0, l1, c]); // (sh, sw, B, L0, L1, C)
    const t = tf.transpose(st, [2, 3, 0, 4, 1, 5]); // (B, L0, sh, L1, sw, C)
    full = tf.reshape(t, [b, l0 * sh, l1 * sw, c]); // (B, L0·sh, L1·sw, C)
  }
  if (full.shape[1] === H && full.shape[2] === W) return full;
  return tf.slice(full, [0, 0, 0, 0], [b, H, W, c]); // (B, H, W, C)
}
