/** Small statistics for benchmark timings. */

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Images per second of a step over `batch` images that took `ms`. */
export function imagesPerSecond(batch: number, ms: number): number {
  return batch / (ms / 1000);
}

/** Achieved GFLOP/s of a step of `gflops` that took `ms` (null when the count is unknown). */
export function gflopsPerSecond(gflops: number | null, ms: number): number | null {
  return gflops === null ? null : gflops / (ms / 1000);
}
