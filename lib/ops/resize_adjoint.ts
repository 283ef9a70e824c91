/**
 * Exact adjoints (transposes) of the image resizes, written from the forward definitions.
 *
 * Why this file exists: TensorFlow.js' `ResizeBilinearGrad` kernel ignores `halfPixelCenters`
 * on the cpu and wasm backends — it back-propagates as if the forward had used the legacy grid
 * `src = dst · in/out`. PyTorch's `F.interpolate(mode='bilinear', align_corners=False)`, which
 * every model here uses, is the half-pixel grid, so tfjs' gradient was wrong by up to ~60 % of
 * its magnitude (docs/gradients.md). The forward kernels are right (official parity), so the
 * gradient is rebuilt here as the transpose of the forward's linear map and registered in place
 * of tfjs' (lib/backend/kernels/corrected_grads.ts).
 *
 * A resize is separable: out[b, i, j, c] = Σ_{p,q} Ry[i, p] · Rx[j, q] · x[b, p, q, c], where
 * each row of Ry (Rx) has at most two non-zero weights (bilinear) or one (nearest). The adjoint
 * is dx[b, p, q, c] = Σ_{i,j} Ry[i, p] · Rx[j, q] · dy[b, i, j, c], computed one axis at a time
 * as a scatter-add of weighted rows (separableResizeAdjoint), so memory and time stay O(|dy|).
 *
 * Source-coordinate rules (PyTorch aten/src/ATen/native/UpSample.h,
 * `area_pixel_compute_source_index`, and TF's resize kernels, which agree for these modes):
 * - scale = (in − 1)/(out − 1) with align_corners (out > 1), else in/out;
 * - half-pixel centres: src = (dst + ½)·scale − ½, clamped below at 0;
 * - legacy grid (TF's `halfPixelCenters=false`, and PyTorch's `mode='nearest'`): src = dst·scale;
 * - bilinear: lo = ⌊src⌋, hi = min(lo + 1, in − 1), weight of hi = src − ⌊src⌋;
 * - nearest: index = min(⌊src⌋, in − 1) (round instead of floor with align_corners, and
 *   ⌊(dst + ½)·scale⌋ with half-pixel centres, as tfjs' forward kernel computes it).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Interpolation taps of one axis: out[i] = (1 − w[i]) · in[lo[i]] + w[i] · in[hi[i]]. */
export interface AxisTaps {
  lo: Int32Array;
  hi: Int32Array;
  /** Weight of `hi` (0 for nearest). */
  w: Float32Array;
}

export interface ResizeMode {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

function axisScale(inSize: number, outSize: number, alignCorners: boolean): number {
  return alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
}

/** Bilinear taps of one axis (see the file comment for the rule). */
export function bilinearTaps(inSize: number, outSize: number, mode: ResizeMode): AxisTaps {
  const s = axisScale(inSize, outSize, mode.alignCorners);
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const w = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = mode.halfPixelCenters ? Math.max(0, (i + 0.5) * s - 0.5) : i * s;
    const f = Math.min(Math.floor(src), inSize - 1);
    lo[i] = f;
    hi[i] = Math.min(f + 1, inSize - 1);
    w[i] = src - Math.floor(src);
  }
  return { lo, hi, w };
}

/** Nearest-neighbour taps of one axis, as tfjs' ResizeNearestNeighbor forward picks them. */
export function nearestTaps(inSize: number, outSize: number, mode: ResizeMode): AxisTaps {
  const s = axisScale(inSize, outSize, mode.alignCorners);
  const lo = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = mode.halfPixelCenters ? (i + 0.5) * s : i * s;
    let k = Math.min(inSize - 1, mode.alignCorners ? Math.round(src) : Math.floor(src));
    if (mode.halfPixelCenters) k = Math.max(0, k);
    lo[i] = k;
  }
  return { lo, hi: lo, w: new Float32Array(outSize) };
}

/**
 * out[n, p, :] += Σ_{i: lo[i]=p} (1 − w[i])·t[n, i, :] + Σ_{i: hi[i]=p} w[i]·t[n, i, :] for an
 * array viewed as [N, O, S] (O = the resized axis, S = contiguous inner elements).
 */
function axisAdjoint(
  t: Float32Array,
  n: number,
  o: number,
  s: number,
  taps: AxisTaps,
  inSize: number,
): Float32Array {
  const out = new Float32Array(n * inSize * s);
  for (let q = 0; q < n; q++) {
    for (let i = 0; i < o; i++) {
      const src = (q * o + i) * s;
      const wHi = taps.w[i];
      const wLo = 1 - wHi;
      const lo = (q * inSize + taps.lo[i]) * s;
      const hi = (q * inSize + taps.hi[i]) * s;
      for (let k = 0; k < s; k++) out[lo + k] += wLo * t[src + k];
      if (wHi !== 0) for (let k = 0; k < s; k++) out[hi + k] += wHi * t[src + k];
    }
  }
  return out;
}

/**
 * The exact adjoint of a separable resize with the given per-axis taps.
 * dy [B, Ho, Wo, C] (NHWC) → dx [B, Hi, Wi, C] = Ryᵀ · dy · Rx per image and channel.
 *
 * A direct scatter-add over the taps in plain JS on the tensor's values: O(|dy|), exact up to
 * the order of float32 additions, the same on every backend. (Composed tfjs ops were tried and
 * measured: tfjs' cpu UnsortedSegmentSum loops over segments — 150 s for one 128² loss
 * backward — and dense products with Ryᵀ/Rxᵀ took 3.6 s at 128² → 512², B = 2, K = 150 on
 * wasm, where tfjs' own (wrong) kernel takes 0.33 s.) Reads dy synchronously.
 */
export function separableResizeAdjoint(
  dy: tf.Tensor4D,
  inSize: readonly [number, number],
  rows: AxisTaps,
  cols: AxisTaps,
): tf.Tensor4D {
  const [b, ho, wo, c] = dy.shape;
  const [hi, wi] = inSize;
  if (rows.lo.length !== ho || cols.lo.length !== wo) {
    throw new Error(
      `resize adjoint: taps for ${rows.lo.length}×${cols.lo.length} but dy is ${ho}×${wo}`,
    );
  }
  const g = dy.dataSync() as Float32Array;
  const r = axisAdjoint(g, b, ho, wo * c, rows, hi); // [B, Hi, Wo, C]
  const q = axisAdjoint(r, b * hi, wo, c, cols, wi); // [B, Hi, Wi, C]
  return tf.tensor4d(q, [b, hi, wi, c]);
}

/**
 * Adjoint of bilinear resize [B, Hi, Wi, C] → [B, Ho, Wo, C]: dy [B, Ho, Wo, C] → [B, Hi, Wi, C].
 * Defaults to PyTorch's `align_corners=False` (half-pixel centres), the mode of every model here.
 * Throws if dy's spatial size disagrees with the taps.
 */
export function resizeBilinearAdjoint(
  dy: tf.Tensor4D,
  inSize: readonly [number, number],
  mode: ResizeMode = { alignCorners: false, halfPixelCenters: true },
): tf.Tensor4D {
  const [, ho, wo] = dy.shape;
  return separableResizeAdjoint(
    dy,
    inSize,
    bilinearTaps(inSize[0], ho, mode),
    bilinearTaps(inSize[1], wo, mode),
  );
}

/** Adjoint of nearest-neighbour resize (tfjs' index rule for `mode`), shapes as above. */
export function resizeNearestAdjoint(
  dy: tf.Tensor4D,
  inSize: readonly [number, number],
  mode: ResizeMode,
): tf.Tensor4D {
  const [, ho, wo] = dy.shape;
  return separableResizeAdjoint(
    dy,
    inSize,
    nearestTaps(inSize[0], ho, mode),
    nearestTaps(inSize[1], wo, mode),
  );
}
