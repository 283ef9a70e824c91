/**
 * PyTorch `pixel_shuffle` / `pixel_unshuffle` in NHWC, keeping PyTorch's channel order.
 *
 * PyTorch packs sub-pixel (dy, dx) of channel c at channel c·r² + dy·r + dx; TF's depthToSpace
 * uses (dy·r + dx)·C + c instead (docs/architecture.md). FreqFusion's resampler relies on the
 * PyTorch order (FreqFusion's `FreqFusion.forward` pixel-shuffles the high-resolution offsets and the grid), so we
 * never use depthToSpace for it. Pure data movement: nothing is recorded for the FLOPs counter.
 */
import * as tf from '@tensorflow/tfjs-core';

/** x [B, h, w, C·r²] → [B, h·r, w·r, C]; out[.., i·r+dy, j·r+dx, c] = x[.., i, j, c·r² + dy·r + dx]. */
export function pixelShuffle(x: tf.Tensor4D, r: number): tf.Tensor4D {
  const [b, h, w, cr] = x.shape;
  if (cr % (r * r) !== 0) throw new Error(`pixelShuffle: ${cr} channels not divisible by ${r * r}`);
  const c = cr / (r * r);
  return tf.tidy(() => {
    const x6 = tf.reshape(x, [b, h, w, c, r, r]); // (B, h, w, C, dy, dx)
    const t = tf.transpose(x6, [0, 1, 4, 2, 5, 3]); // (B, h, dy, w, dx, C)
    return tf.reshape(t, [b, h * r, w * r, c]); // (B, h·r, w·r, C)
  });
}

/** x [B, H, W, C] → [B, H/r, W/r, C·r²]; the inverse of `pixelShuffle`. */
export function pixelUnshuffle(x: tf.Tensor4D, r: number): tf.Tensor4D {
  const [b, hh, ww, c] = x.shape;
  if (hh % r !== 0 || ww % r !== 0) {
    throw new Error(`pixelUnshuffle: size ${hh}×${ww} not divisible by ${r}`);
  }
  const h = hh / r;
  const w = ww / r;
  return tf.tidy(() => {
    const x6 = tf.reshape(x, [b, h, r, w, r, c]); // (B, h, dy, w, dx, C)
    const t = tf.transpose(x6, [0, 1, 3, 5, 2, 4]); // (B, h, w, C, dy, dx)
    return tf.reshape(t, [b, h, w, c * r * r]); // (B, h, w, C·r²)
  });
}
