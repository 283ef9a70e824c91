/**
 * CARAFE (content-aware reassembly of features, Wang et al. ICCV 2019) with mmcv's semantics,
 * NHWC, built from standard differentiable tf ops (mmcv's `carafe_naive`; FreqFusion's low-pass upsampler).
 *
 *   out[b, Y, X, c] = Σ_{dy,dx ∈ [0,k)} x[b, ⌊Y/s⌋ + dy − r, ⌊X/s⌋ + dx − r, c] · K[b, Y, X, dy·k + dx]
 *
 * with r = (k−1)/2 and **zero** padding (mmcv's CUDA op; the FreqFusion repo's pure-torch fallback
 * pads by reflection and is not what the released weights were trained with). Only up_group G = 1
 * is used by FreqFusion, so only G = 1 is supported (tap channel index (g·k + dy)·k + dx with g = 0).
 *
 * Two formulations, chosen by scale from measurements (wasm, 2 cores, fwd / fwd+bwd in ms):
 * - s = 2, "phase" form: the s² output pixels sharing source pixel (i, j) are the sub-pixel
 *   phases. The k² shifted views of the zero-padded input are stacked per source pixel into
 *   V [P, k², C] (P = B·h·w), the kernel map is regrouped to Kp [P, s², k²], one batched matmul
 *   gives Kp·V = [P, s², C], interleaved back to [B, s·h, s·w, C]. All work at low resolution.
 *   C224 @64²→128², k5: 154 / 540 vs 154 / 1108 for a per-tap multiply–accumulate over the
 *   phases and 253 / 2115 with nearest-upsampled views; C25: 24 / 120 vs 42 / 193 and 52 / 319.
 * - s = 1: per-tap multiply–accumulate, out = Σ_t view_t · K[..., t] (a matmul with one row
 *   per pixel is slower here): C32 @128², k3: 16 / 53 vs 26 / 143 for the matmul form.
 *
 * Complexity: fvcore does not count CARAFE (a CUDA extension); we record C·k²·outPixels·B MACs as
 * kind 'carafe' so the counter can include or exclude it by convention (docs/flops.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import { recordOp } from './trace.ts';

/** Zero-pad x by r = (k−1)/2 on both spatial axes: [B, h+2r, w+2r, C]. */
function padHalo(x: tf.Tensor4D, k: number): tf.Tensor4D {
  const r = (k - 1) / 2;
  return tf.pad(x, [
    [0, 0],
    [r, r],
    [r, r],
    [0, 0],
  ]);
}

/** The k² shifted [B, h, w, C] views of a padded xp [B, h+2r, w+2r, C], tap t = dy·k + dx. */
function shiftedViews(xp: tf.Tensor4D, k: number): tf.Tensor4D[] {
  const [b, hp, wp, c] = xp.shape;
  const views: tf.Tensor4D[] = [];
  for (let dy = 0; dy < k; dy++) {
    for (let dx = 0; dx < k; dx++) {
      views.push(tf.slice(xp, [0, dy, dx, 0], [b, hp - k + 1, wp - k + 1, c]));
    }
  }
  return views;
}

/**
 * The s = 2 form materialises k² copies of the input; above this many floats (64 MB) it runs in
 * bands of source rows so that inference at Cityscapes sizes stays within the WASM heap.
 */
const MAX_STACKED_FLOATS = 1 << 24;

/**
 * CARAFE. x [B, h, w, C]; kernels [B, s·h, s·w, G·k²] (already normalised); returns
 * [B, s·h, s·w, C]. `group` must be 1. `maxStackedFloats` bounds the s > 1 stack (memory knob;
 * results do not depend on it).
 */
export function carafe(
  x: tf.Tensor4D,
  kernels: tf.Tensor4D,
  k: number,
  group: number,
  scale: number,
  scope = '',
  maxStackedFloats = MAX_STACKED_FLOATS,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const s = scale;
  const t = k * k;
  if (group !== 1) throw new Error(`carafe: only up_group 1 is supported (got ${group})`);
  if (k % 2 !== 1) throw new Error(`carafe: kernel size must be odd (got ${k})`);
  const want = [b, s * h, s * w, group * t];
  if (kernels.shape.some((d, i) => d !== want[i])) {
    throw new Error(`carafe: kernels [${kernels.shape}] do not match [${want}] for x [${x.shape}]`);
  }
  recordOp('carafe', b * s * h * s * w * c * t, scope, [x.shape, kernels.shape]);
  return tf.tidy(() =>
    s === 1 ? carafeSame(x, kernels, k) : carafeUp(x, kernels, k, s, maxStackedFloats),
  );
}

/** s = 1: Σ over taps of view_t · K[..., t] (broadcast over channels). */
function carafeSame(x: tf.Tensor4D, kernels: tf.Tensor4D, k: number): tf.Tensor4D {
  const views = shiftedViews(padHalo(x, k), k); // k² × (B, h, w, C)
  const taps = tf.unstack(tf.transpose(kernels, [3, 0, 1, 2])); // k² × (B, h, w)
  let acc: tf.Tensor4D = tf.mul(views[0], tf.expandDims(taps[0], 3)); // (B, h, w, C)
  for (let t = 1; t < k * k; t++) acc = tf.add(acc, tf.mul(views[t], tf.expandDims(taps[t], 3)));
  return acc;
}

/** s > 1: phase form (see the header), in bands of source rows when the stack is large. */
function carafeUp(
  x: tf.Tensor4D,
  kernels: tf.Tensor4D,
  k: number,
  s: number,
  maxFloats: number,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const t = k * k;
  const xp = padHalo(x, k); // (B, h+2r, w+2r, C)
  const rows = Math.max(1, Math.floor(maxFloats / (b * w * t * c)));
  if (rows >= h) return phaseBand(xp, kernels, k, s);
  const bands: tf.Tensor4D[] = [];
  for (let i0 = 0; i0 < h; i0 += rows) {
    const n = Math.min(rows, h - i0);
    // Source rows [i0, i0+n) need padded rows [i0, i0+n+2r); their outputs are rows s·i0… .
    bands.push(
      tf.tidy(() =>
        phaseBand(
          tf.slice(xp, [0, i0, 0, 0], [b, n + k - 1, w + k - 1, c]),
          tf.slice(kernels, [0, s * i0, 0, 0], [b, s * n, s * w, t]),
          k,
          s,
        ),
      ),
    );
  }
  return tf.concat(bands, 1); // (B, s·h, s·w, C)
}

/** Phase form on a padded band xp [B, n+2r, w+2r, C] with its kernels [B, s·n, s·w, k²]. */
function phaseBand(xp: tf.Tensor4D, kernels: tf.Tensor4D, k: number, s: number): tf.Tensor4D {
  const [b, hp, wp, c] = xp.shape;
  const h = hp - k + 1;
  const w = wp - k + 1;
  const t = k * k;
  const v = tf.reshape(tf.stack(shiftedViews(xp, k), 3), [b * h * w, t, c]); // (P, k², C)
  // Kernel map → per-source-pixel phases: (B, h, s, w, s, k²) → (B, h, w, s, s, k²).
  const k6 = tf.reshape(kernels, [b, h, s, w, s, t]); // (B, h, sy, w, sx, k²)
  const kp = tf.reshape(tf.transpose(k6, [0, 1, 3, 2, 4, 5]), [b * h * w, s * s, t]); // (P, s², k²)
  const o = tf.matMul(kp, v); // (P, s², C)
  const o6 = tf.reshape(o, [b, h, w, s, s, c]); // (B, h, w, sy, sx, C)
  return tf.reshape(tf.transpose(o6, [0, 1, 3, 2, 4, 5]), [b, h * s, w * s, c]); // (B, s·h, s·w, C)
}
