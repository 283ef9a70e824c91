/**
 * PyTorch bicubic interpolation (`F.interpolate(mode='bicubic', align_corners=False)`, no
 * antialias) as dense 1-D interpolation matrices, for the EfficientFormerV2 attention-bias resize
 * (timm's EfficientFormerV2 `Attention2d` resizes its table when the resolution changes). tfjs-core
 * has no bicubic resize (docs/architecture.md, Operations tfjs lacks).
 *
 * Torch's rule per axis (in → out samples):
 *   scale = in / out;  src = scale·(dst + 0.5) − 0.5   (NOT clamped at 0 for cubic)
 *   i0 = ⌊src⌋, t = src − i0; taps i0−1 … i0+2 with cubic-convolution weights (A = −0.75),
 *   each tap index clamped to [0, in − 1] (border replication).
 * Bicubic resize is separable and linear, so a 2-D resize of an (…, N_t, M_t) matrix B is
 * exactly W_r · B · W_cᵀ with W_r (N × N_t) and W_c (M × M_t). At out == in, W is the identity
 * (t = 0 gives weights 0, 1, 0, 0 exactly).
 *
 * Weights are computed in float32 arithmetic (Math.fround at each step) like torch's CPU kernel.
 * The ONNX exporter records the resize as one Resize node (./composite.ts).
 * fvcore/mmengine do not count bicubic upsampling, so the op is recorded with 0 MACs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { numel, recordOp } from './trace.ts';
import { asComposite } from './composite.ts';

/** Torch's cubic-convolution coefficient (`get_cubic_upsample_coefficients`). */
export const CUBIC_A = -0.75;

const f = Math.fround;

/** |x| ≤ 1: ((A+2)|x| − (A+3))·|x|² + 1. */
function cubic1(x: number, a: number): number {
  return f(f(f(f(f(a + 2) * x) - f(a + 3)) * f(x * x)) + 1);
}

/** 1 < |x| < 2: ((A·|x| − 5A)·|x| + 8A)·|x| − 4A. */
function cubic2(x: number, a: number): number {
  return f(f(f(f(f(f(a * x) - f(5 * a)) * x) + f(8 * a)) * x) - f(4 * a));
}

/** Weights of the taps ⌊src⌋−1, ⌊src⌋, ⌊src⌋+1, ⌊src⌋+2 for the fraction t ∈ [0, 1). */
export function cubicWeights(t: number, a = CUBIC_A): [number, number, number, number] {
  const s = f(1 - t);
  return [cubic2(f(t + 1), a), cubic1(t, a), cubic1(s, a), cubic2(f(s + 1), a)];
}

/** Dense (out × in) row-major interpolation matrix of torch bicubic along one axis. */
export function bicubicMatrix(outSize: number, inSize: number, a = CUBIC_A): Float32Array {
  if (!(outSize > 0 && inSize > 0)) {
    throw new Error(`bicubicMatrix: sizes must be positive, got out=${outSize}, in=${inSize}`);
  }
  const m = new Float32Array(outSize * inSize);
  const scale = f(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    const src = f(f(scale * f(i + 0.5)) - 0.5);
    const i0 = Math.floor(src);
    const w = cubicWeights(f(src - i0), a);
    for (let j = 0; j < 4; j++) {
      const c = Math.min(Math.max(i0 - 1 + j, 0), inSize - 1);
      m[i * inSize + c] += w[j];
    }
  }
  return m;
}

/** The same matrix as a tensor [out, in]. */
export function bicubicMatrixTensor(outSize: number, inSize: number): tf.Tensor2D {
  return tf.tensor2d(bicubicMatrix(outSize, inSize), [outSize, inSize]);
}

/** Precomputed interpolation matrices for one resize; omitted ones are built on the fly. */
export interface BicubicMatrices {
  /** W_r [N, N_t]. */
  rows?: tf.Tensor2D;
  /** W_c [M, M_t]. */
  cols?: tf.Tensor2D;
}

/** x3 [L, A, Mt] · W_cᵀ → [L, A, M] (a plain 2-D product, so gradients need no broadcasting). */
function applyCols(x3: tf.Tensor3D, wc: tf.Tensor2D): tf.Tensor3D {
  const [l, a, mt] = x3.shape;
  const y = tf.matMul(tf.reshape(x3, [l * a, mt]), wc, false, true); // (L·A, M)
  return tf.reshape(y, [l, a, wc.shape[0]]);
}

/** W_r · x3 for x3 [L, Nt, C] → [L, N, C], via the transposed 2-D product. */
function applyRows(x3: tf.Tensor3D, wr: tf.Tensor2D): tf.Tensor3D {
  const [l, nt, c] = x3.shape;
  const n = wr.shape[0];
  const xt = tf.reshape(tf.transpose(x3, [0, 2, 1]), [l * c, nt]); // (L·C, Nt)
  const y = tf.reshape(tf.matMul(xt, wr, false, true), [l, c, n]) as tf.Tensor3D; // (L, C, N)
  return tf.transpose(y, [0, 2, 1]); // (L, N, C)
}

/**
 * Torch bicubic resize of the last two axes: x [..., N_t, M_t] → [..., N, M] = W_r·x·W_cᵀ.
 * Returns a copy when the size is unchanged (exact identity). The cheaper product order is used.
 */
export function resizeBicubicLast2<T extends tf.Tensor>(
  x: T,
  size: [number, number],
  scope = '',
  mats: BicubicMatrices = {},
): T {
  const r = x.rank;
  if (r < 2) throw new Error(`resizeBicubicLast2: rank ≥ 2 required, got shape [${x.shape}]`);
  const lead = x.shape.slice(0, -2);
  const [nt, mt] = x.shape.slice(-2);
  const [n, m] = size;
  recordOp('upsample_bicubic', 0, scope, [x.shape, [...lead, n, m]]);
  return asComposite({ kind: 'resize_bicubic', size: [n, m] }, [x], () =>
    n === nt && m === mt ? tf.clone(x) : bicubicProducts(x, size, mats),
  );
}

/** The resize as W_r·x·W_cᵀ (sizes differ on at least one axis). */
function bicubicProducts<T extends tf.Tensor>(
  x: T,
  size: [number, number],
  mats: BicubicMatrices,
): T {
  const lead = x.shape.slice(0, -2);
  const [nt, mt] = x.shape.slice(-2);
  const [n, m] = size;
  return tf.tidy(() => {
    const wr = n === nt ? undefined : (mats.rows ?? bicubicMatrixTensor(n, nt));
    const wc = m === mt ? undefined : (mats.cols ?? bicubicMatrixTensor(m, mt));
    for (const [w, want] of [
      [wr, [n, nt]],
      [wc, [m, mt]],
    ] as const) {
      if (w && (w.shape[0] !== want[0] || w.shape[1] !== want[1])) {
        throw new Error(`resizeBicubicLast2: matrix [${w.shape}] does not match [${want}]`);
      }
    }
    const l = numel(lead);
    let y = tf.reshape(x, [l, nt, mt]) as tf.Tensor3D; // (L, Nt, Mt)
    // Cost of rows-then-cols vs cols-then-rows (multiply-adds per leading slice).
    const rowsFirst = n * nt * mt + n * mt * m <= nt * mt * m + n * nt * m;
    if (rowsFirst) {
      if (wr) y = applyRows(y, wr); // (L, N, Mt)
      if (wc) y = applyCols(y, wc); // (L, N, M)
    } else {
      if (wc) y = applyCols(y, wc); // (L, Nt, M)
      if (wr) y = applyRows(y, wr); // (L, N, M)
    }
    return tf.reshape(y, [...lead, n, m]) as T;
  });
}
