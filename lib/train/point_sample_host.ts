/**
 * mmcv's `point_sample` (bilinear, align_corners=False, zero padding) on plain arrays, for the
 * samples of the Mask2Former loss that carry no gradient: the matching costs, the targets and the
 * uncertainty candidates. Done here rather than with tensors so that nothing of it is recorded
 * on the gradient tape (at 12,544 points × 100 queries per image and prediction, the taped
 * version filled the 4 GiB WASM heap).
 */

/**
 * maps [N, h, w] (row-major) sampled at points (x, y) ∈ [0, 1] → [N, P]. `points` is either
 * P·2 values (the same points for every map) or N·P·2 (points per map). A point's pixel
 * coordinates are (x·w − 0.5, y·h − 0.5); taps outside the map read 0.
 * @throws Error when the points fit neither layout.
 */
export function pointSampleHost(
  maps: ArrayLike<number>,
  n: number,
  h: number,
  w: number,
  points: ArrayLike<number>,
  p: number,
): Float32Array {
  const shared = points.length === 2 * p;
  if (!shared && points.length !== 2 * n * p)
    throw new Error(
      `point_sample_host: ${points.length} coordinates fit neither ${p} shared points nor ${p} per map for ${n} maps`,
    );
  const out = new Float32Array(n * p);
  const at = (base: number, y: number, x: number) =>
    y >= 0 && y < h && x >= 0 && x < w ? maps[base + y * w + x] : 0;
  for (let m = 0; m < n; m++) {
    const base = m * h * w;
    const pb = shared ? 0 : m * p * 2;
    for (let i = 0; i < p; i++) {
      const u = points[pb + 2 * i] * w - 0.5;
      const v = points[pb + 2 * i + 1] * h - 0.5;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const fx = u - x0;
      const fy = v - y0;
      out[m * p + i] =
        (1 - fx) * (1 - fy) * at(base, y0, x0) +
        fx * (1 - fy) * at(base, y0, x0 + 1) +
        (1 - fx) * fy * at(base, y0 + 1, x0) +
        fx * fy * at(base, y0 + 1, x0 + 1);
    }
  }
  return out;
}
