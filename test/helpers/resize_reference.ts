/**
 * Independent float64 reference for the bilinear resize (PyTorch semantics), its exact adjoint
 * and the segmentation cross-entropy built on it, with its gradient. Checked (and used as the
 * reference) by lib/ops/resize_reference.test.ts.
 *
 * What is independent of what: this file is plain JavaScript on Float64Array, written only from
 * the two definitions restated here. It shares no code with tfjs, with lib/ops/resize_adjoint.ts
 * or with lib/backend/kernels/corrected_grads.ts (neither was read while writing it).
 *
 * Definition 1 — torch F.interpolate(mode='bilinear', align_corners=False), one axis at a time:
 * for an input of length n resized to length m, every output index d reads the input at the
 * continuous coordinate s = (n/m)·(d + ½) − ½, raised to 0 when it is negative. With
 * i₀ = ⌊s⌋, i₁ = i₀ + 1 (or i₀ itself when i₀ is already the last index n − 1) and
 * λ₁ = s − i₀, λ₀ = 1 − λ₁, the output is λ₀·in[i₀] + λ₁·in[i₁]. Written as a matrix
 * R [m, n] (row d holds λ₀ at column i₀ and λ₁ at column i₁, summed when they coincide), the
 * 2-D resize of one (batch, channel) plane X [H, W] to [Ho, Wo] is Y = Ry·X·Rxᵀ, and its exact
 * adjoint (the gradient of ⟨Y, dY⟩ with respect to X) is dX = Ryᵀ·dY·Rx.
 *
 * Definition 2 — mmseg's decode-head loss: logits [B, h, w, K] are resized as above to the label
 * size [H, W]; each pixel contributes −log softmax(up)[label]; label 255 contributes nothing;
 * the sum is divided by the count of ALL pixels N = B·H·W (avg_non_ignore = False). Its
 * gradient with respect to the resized logits is (softmax(up) − onehot(label))·valid / N, and
 * with respect to the logits that pulled back through the adjoint above.
 */
import assert from 'node:assert/strict';

export type Shape4 = [number, number, number, number];

/** R [out, inn] row-major (definition 1): out[d] = Σᵢ R[d, i]·in[i]. */
export function interpMatrix(out: number, inn: number): Float64Array {
  const r = new Float64Array(out * inn);
  const scale = inn / out;
  for (let d = 0; d < out; d++) {
    let src = scale * (d + 0.5) - 0.5;
    if (src < 0) src = 0;
    const i0 = Math.floor(src);
    assert.ok(i0 <= inn - 1, `source index ${i0} past the end (${inn})`);
    const i1 = i0 < inn - 1 ? i0 + 1 : i0;
    const l1 = src - i0;
    r[d * inn + i0] += 1 - l1;
    r[d * inn + i1] += l1;
  }
  return r;
}

/** a [m, k] · b [k, n] → [m, n]. */
function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j];
    }
  }
  return c;
}

/** a [m, n] → aᵀ [n, m]. */
function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

/**
 * Apply left [P, Hi] and right [Wi, Q] to every (batch, channel) plane of an NHWC array
 * [B, Hi, Wi, C]: out plane = left · plane · right, giving [B, P, Q, C].
 */
function perPlane(
  x: Float64Array,
  shape: Shape4,
  left: Float64Array,
  right: Float64Array,
  p: number,
  q: number,
): Float64Array {
  const [nb, hi, wi, nc] = shape;
  const out = new Float64Array(nb * p * q * nc);
  const plane = new Float64Array(hi * wi);
  for (let b = 0; b < nb; b++) {
    for (let c = 0; c < nc; c++) {
      for (let i = 0; i < hi; i++) {
        for (let j = 0; j < wi; j++) plane[i * wi + j] = x[((b * hi + i) * wi + j) * nc + c];
      }
      const y = matmul(matmul(left, plane, p, hi, wi), right, p, wi, q);
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < q; j++) out[((b * p + i) * q + j) * nc + c] = y[i * q + j];
      }
    }
  }
  return out;
}

/** Forward: x [B, H, W, C] → y = Ry·x·Rxᵀ, [B, Ho, Wo, C]. */
export function resizeForward64(
  x: Float64Array,
  shape: Shape4,
  size: [number, number],
): Float64Array {
  const [, h, w] = shape;
  const [ho, wo] = size;
  const ry = interpMatrix(ho, h); // [Ho, H]
  const rxT = transpose(interpMatrix(wo, w), wo, w); // [W, Wo]
  return perPlane(x, shape, ry, rxT, ho, wo);
}

/** Exact adjoint: dy [B, Ho, Wo, C] → dx = Ryᵀ·dy·Rx, [B, H, W, C]. */
export function resizeAdjoint64(
  dy: Float64Array,
  dyShape: Shape4,
  inSize: [number, number],
): Float64Array {
  const [, ho, wo] = dyShape;
  const [h, w] = inSize;
  const ryT = transpose(interpMatrix(ho, h), ho, h); // [H, Ho]
  const rx = interpMatrix(wo, w); // [Wo, W]
  return perPlane(dy, dyShape, ryT, rx, h, w);
}

/** Definition 2: loss and d loss / d logits, logits [B, h, w, K], labels [B, H, W]. */
export function segCrossEntropy64(
  logits: Float64Array,
  shape: Shape4,
  labels: Int32Array,
  labelSize: [number, number],
): { loss: number; grad: Float64Array } {
  const [nb, h, w, k] = shape;
  const [hl, wl] = labelSize;
  const up = resizeForward64(logits, shape, labelSize);
  const n = nb * hl * wl;
  const dUp = new Float64Array(up.length);
  let sum = 0;
  for (let p = 0; p < n; p++) {
    const label = labels[p];
    if (label === 255) continue; // ignored: no loss, zero gradient
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, up[p * k + c]);
    let z = 0;
    for (let c = 0; c < k; c++) z += Math.exp(up[p * k + c] - mx);
    const lse = mx + Math.log(z);
    sum += lse - up[p * k + label];
    for (let c = 0; c < k; c++) {
      dUp[p * k + c] = (Math.exp(up[p * k + c] - lse) - (c === label ? 1 : 0)) / n;
    }
  }
  return { loss: sum / n, grad: resizeAdjoint64(dUp, [nb, hl, wl, k], [h, w]) };
}
