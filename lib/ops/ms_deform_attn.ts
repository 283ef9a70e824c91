/**
 * Multi-scale deformable attention, the sampling core (Zhu et al., "Deformable DETR", ICLR 2021,
 * Eq. 3; mmcv's `multi_scale_deformable_attn_pytorch` in `mmcv/ops/multi_scale_deform_attn.py`):
 *
 *   out[b, q, h] = Σ_l Σ_p A[b, q, h, l, p] · bilinear(V_l[b, :, :, h], loc[b, q, h, l, p])
 *
 * with V_l the level-l value map split into heads, loc = (x, y) normalised to [0, 1] over the
 * level's width and height (pixel centres at (i + 0.5)/W), bilinear sampling with
 * align_corners=False and ZERO padding (a tap outside the map contributes 0), as torch's
 * grid_sample(padding_mode='zeros') and the CUDA kernel both do.
 *
 * Built on lib/ops/grid_sample.ts, whose padding is 'border': each level's map is padded by one
 * ring of zeros and the coordinates are shifted into the padded map. Within one pixel of the map
 * a tap then reads the zero ring exactly where zero padding would; further out the border clamp
 * reads the ring (0) with a zero coordinate gradient, again as zero padding. The gradients are
 * those of grid_sample (input through scatter-add, coordinates through the bilinear weights) and
 * of the weighted sum; lib/ops/ms_deform_attn.test.ts checks them by float64 finite differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gridSample } from './grid_sample.ts';

/**
 * value [B, S, heads, d] with S = Σ_l H_l·W_l (levels concatenated, each row-major);
 * shapes [[H_0, W_0], …]; locations [B, Nq, heads, L, P, 2] as (x, y) in [0, 1];
 * weights [B, Nq, heads, L, P] (already softmax-normalised by the caller).
 * Returns [B, Nq, heads·d] with channel = head·d + j (torch's `view(bs, heads·d, nq)` order).
 * @throws Error when S or the level count does not match `shapes`.
 */
export function msDeformAttn(
  value: tf.Tensor4D,
  shapes: readonly (readonly [number, number])[],
  locations: tf.Tensor,
  weights: tf.Tensor,
  scope = '',
): tf.Tensor3D {
  const [b, s, heads, d] = value.shape;
  const total = shapes.reduce((a, [h, w]) => a + h * w, 0);
  if (total !== s)
    throw new Error(`msDeformAttn: value has ${s} rows but the level shapes sum to ${total}`);
  const [, nq, , nl, np] = locations.shape;
  if (nl !== shapes.length || locations.shape.length !== 6 || weights.shape.length !== 5)
    throw new Error(
      `msDeformAttn: locations [${locations.shape}] / weights [${weights.shape}] do not fit ${shapes.length} levels`,
    );
  return tf.tidy(() => {
    // One level: no split/unstack (tfjs' SplitV gradient fails on a single output).
    const one = shapes.length === 1;
    const levels = one
      ? [value]
      : tf.split(
          value,
          shapes.map(([h, w]) => h * w),
          1,
        ); // L × (B, H·W, heads, d)
    const locs = one ? [tf.squeeze(locations, [3])] : tf.unstack(locations, 3); // L × (B, Nq, heads, P, 2)
    const wts = one ? [tf.squeeze(weights, [3])] : tf.unstack(weights, 3); // L × (B, Nq, heads, P)
    const parts: tf.Tensor[] = [];
    shapes.forEach(([h, w], l) => {
      const v = tf.reshape(
        tf.transpose(tf.reshape(levels[l], [b, h, w, heads, d]), [0, 3, 1, 2, 4]),
        [b * heads, h, w, d],
      ); // (B·heads, H, W, d)
      const padded = tf.pad(v, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]) as tf.Tensor4D; // (B·heads, H+2, W+2, d), a zero ring
      const loc = tf.reshape(tf.transpose(locs[l], [0, 2, 1, 3, 4]), [b * heads, nq, np, 2]);
      // pixel u = x·W − 0.5 in the map is u + 1 in the padded one; renormalise for grid_sample:
      // g' = (2(u + 1) + 1)/(W + 2) − 1 = (2·x·W + 2)/(W + 2) − 1 (same for y with H).
      const scale = tf.tensor1d([(2 * w) / (w + 2), (2 * h) / (h + 2)]);
      const shift = tf.tensor1d([2 / (w + 2) - 1, 2 / (h + 2) - 1]);
      const grid = tf.add(tf.mul(loc, scale), shift) as tf.Tensor4D; // (B·heads, Nq, P, 2)
      const sampled = gridSample(padded, grid, scope); // (B·heads, Nq, P, d)
      const a = tf.reshape(tf.transpose(wts[l], [0, 2, 1, 3]), [b * heads, nq, np, 1]);
      parts.push(tf.sum(tf.mul(sampled, a), 2)); // (B·heads, Nq, d)
    });
    const out = parts.length === 1 ? parts[0] : tf.addN(parts); // (B·heads, Nq, d)
    return tf.reshape(tf.transpose(tf.reshape(out, [b, heads, nq, d]), [0, 2, 1, 3]), [
      b,
      nq,
      heads * d,
    ]) as tf.Tensor3D;
  });
}
