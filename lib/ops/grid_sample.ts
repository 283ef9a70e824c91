/**
 * torch.nn.functional.grid_sample(mode='bilinear', padding_mode='border', align_corners=False)
 * for NHWC input, differentiable w.r.t. the input and the grid (FreqFusion's resampler uses it; docs/architecture.md). tfjs-core
 * has no grid_sample.
 *
 * Per output location with normalised (gx, gy) ∈ grid[n, i, j, :]:
 *  1. unnormalise (align_corners False): u = ((gx + 1)·W − 1)/2, v = ((gy + 1)·H − 1)/2;
 *  2. border padding: clamp u to [0, W−1] and v to [0, H−1]. As in PyTorch
 *     (`clip_coordinates_set_grad`), the coordinate's gradient is 0 wherever it is clamped,
 *     including exactly on the border;
 *  3. x0 = ⌊u⌋, x1 = min(x0 + 1, W−1), α = u − x0 (same for y); the 4 neighbours are gathered
 *     in one row gather on the flattened [N·H·W, C] table and blended bilinearly.
 * When u = W−1 exactly PyTorch reads the (out-of-range, zero) pixel W with weight α = 0; reading
 * pixel W−1 instead gives the same value and, since the coordinate gradient is 0 there, the same
 * gradients.
 *
 * Gradients: w.r.t. the input through a scatter-add (ScatterNd), w.r.t. the grid
 * through α and β. Recorded as 'grid_sample' with 4·outNumel MACs (fvcore's bilinear convention).
 * The ONNX exporter keeps these kernels (GatherND on NHWC rows): ONNX Runtime's GridSample on the
 * NCHW view, with the transposes to and from it, measured slower on OffSeg-T.
 */
import * as tf from '@tensorflow/tfjs-core';
import { numel, recordOp } from './trace.ts';

/**
 * Clamp to [0, hi] with PyTorch's border-mode gradient: 1 strictly inside, 0 on or beyond the
 * border (the clamped value is then a constant). Built from GreaterEqual/Select only, the
 * comparison ops that have (zero) gradients in tfjs.
 */
function clampBorder(u: tf.Tensor, hi: number): tf.Tensor {
  const lo = tf.zerosLike(u);
  const top = tf.add(lo, hi);
  const belowTop = tf.where(tf.greaterEqual(u, hi), top, u);
  return tf.where(tf.greaterEqual(0, u), lo, belowTop);
}

/**
 * Row gather with an explicit gradient: d(table) = scatter-add of dy into the rows, d(rows) = 0.
 * - tf.gather's own gradient hands the int32 indices back as their "gradient", which the tape
 *   rejects whenever the indices depend on a differentiated tensor (here: on the grid).
 * - It also uses UnsortedSegmentSum, which the cpu backend runs as one masked sum per segment
 *   (O(rows × updates): minutes for one FreqFusion backward). ScatterNd sums duplicate indices
 *   in a single pass on cpu and wasm.
 * - Forward kernel by backend, measured for 262k rows of 56 floats (OffSeg-T's last FreqFusion
 *   at 512²): wasm GatherV2 630 ms vs GatherNd 56 ms; cpu GatherV2 970 ms vs GatherNd 9 s.
 */
const gatherRows = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [table, rows, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const idx = tf.cast(tf.reshape(rows, [-1, 1]), 'int32'); // (R, 1) exact integers stored as float
  save([idx]);
  const value =
    tf.getBackend() === 'cpu'
      ? tf.gather(table, tf.reshape(idx, [-1])) // (R, C)
      : tf.gatherND(table, idx); // (R, C)
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.scatterND(saved[0], dy, table.shape), // (rows, C), duplicates summed
      tf.zerosLike(rows),
    ],
  };
});

/**
 * input [N, H, W, C]; grid [N, Ho, Wo, 2] with (x, y) normalised to [−1, 1] (values outside
 * are clamped to the border); returns [N, Ho, Wo, C].
 */
export function gridSample(input: tf.Tensor4D, grid: tf.Tensor4D, scope = ''): tf.Tensor4D {
  const [n, h, w, c] = input.shape;
  const [gn, ho, wo, two] = grid.shape;
  if (gn !== n || two !== 2) {
    throw new Error(`gridSample: grid [${grid.shape}] does not fit input [${input.shape}]`);
  }
  recordOp('grid_sample', 4 * numel([n, ho, wo, c]), scope, [input.shape, grid.shape]);
  return tf.tidy(() => {
    const m = n * ho * wo;
    const [gx, gy] = tf.split(grid, 2, 3); // 2 × (N, Ho, Wo, 1)
    // 1–2. unnormalise (align_corners False) and clamp to the border.
    const u = clampBorder(tf.div(tf.sub(tf.mul(tf.add(gx, 1), w), 1), 2), w - 1);
    const v = clampBorder(tf.div(tf.sub(tf.mul(tf.add(gy, 1), h), 1), 2), h - 1);
    // 3. neighbours and weights.
    const x0 = tf.floor(u);
    const y0 = tf.floor(v);
    const x1 = tf.minimum(tf.add(x0, 1), w - 1);
    const y1 = tf.minimum(tf.add(y0, 1), h - 1);
    const a = tf.sub(u, x0); // (N, Ho, Wo, 1) weight of x1
    const bt = tf.sub(v, y0); // weight of y1
    const a0 = tf.sub(1, a);
    const b0 = tf.sub(1, bt);
    // Flat row of (img, y, x) in the [N·H·W, C] table; exact in float32 below 2^24 rows.
    const base = tf.reshape(tf.mul(tf.range(0, n, 1, 'float32'), h * w), [n, 1, 1, 1]); // (N,1,1,1)
    const row = (yy: tf.Tensor, xx: tf.Tensor): tf.Tensor =>
      tf.add(base, tf.add(tf.mul(yy, w), xx)); // (N, Ho, Wo, 1)
    const rows = tf.reshape(tf.stack([row(y0, x0), row(y0, x1), row(y1, x0), row(y1, x1)]), [
      4 * m,
    ]); // (4·M) in order nw, ne, sw, se
    const wts = [tf.mul(a0, b0), tf.mul(a, b0), tf.mul(a0, bt), tf.mul(a, bt)].map((t) =>
      tf.reshape(t, [m, 1]),
    ); // 4 × (M, 1)
    const vals = tf.reshape(gatherRows(tf.reshape(input, [n * h * w, c]), rows), [4, m, c]); // (4, M, C)
    // Blend as 4 products and one addN: 3× faster on wasm than mul + sum over the leading axis.
    const parts = tf.unstack(vals).map((v, i) => tf.mul(v, wts[i])); // 4 × (M, C)
    return tf.reshape(tf.addN(parts), [n, ho, wo, c]); // (N, Ho, Wo, C)
  });
}
