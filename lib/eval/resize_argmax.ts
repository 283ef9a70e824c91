/**
 * argmax over classes of logits bilinearly resized to any output size, without ever holding the
 * output-size [H, W, K] logits: the label map of mmseg's `predict` (resize the logits to the
 * original image, argmax) at O(K) extra memory, so a 8000×6000 photo costs its 48 MB label map
 * and nothing K-times larger.
 *
 * Exactness: the result equals `argMax(resizeBilinear(x, [H, W]), -1)` on the tfjs cpu backend
 * bit for bit (same half-pixel taps, same double arithmetic stored as float32, first index on
 * ties; ./host_resize.ts). The single-source path visits each cell of 2×2 source pixels once and
 * keeps only the classes that can still win there: every resized value lies between the minimum
 * and the maximum of its class at the four corners (a convex combination, and float32 rounding
 * cannot leave that interval because both ends are float32 values), so a class whose corner
 * maximum is below the best corner minimum of any class loses at every pixel of the cell. Where
 * the prediction is smooth most cells keep a single class and cost no arithmetic at all.
 */
import { axisTaps, bilinearPixel, type AxisTaps, type HostLogits } from './host_resize.ts';

/** Output columns grouped into runs that read the same two source columns. */
function runsOf(t: AxisTaps): { start: number[]; end: number[] } {
  const start: number[] = [];
  const end: number[] = [];
  for (let o = 0; o < t.i0.length; o++) {
    if (o > 0 && t.i0[o] === t.i0[o - 1] && t.i1[o] === t.i1[o - 1]) end[end.length - 1] = o + 1;
    else {
      start.push(o);
      end.push(o + 1);
    }
  }
  return { start, end };
}

function checkClasses(k: number): void {
  if (k > 256) throw new RangeError(`label maps hold at most 256 classes (uint8), got ${k}`);
}

/** Longest run of output columns that read the same two source columns. */
function longestRun(runs: { start: number[]; end: number[] }): number {
  let m = 0;
  for (let i = 0; i < runs.start.length; i++) m = Math.max(m, runs.end[i] - runs.start[i]);
  return m;
}

/**
 * One source: per cell of 2×2 source pixels, the classes that can win there; a cell with one
 * candidate is filled without arithmetic, otherwise the horizontal lerps (`top`, `bottom`, which
 * depend on the column only) are computed once per column and the vertical lerp per pixel.
 */
function argmaxOne(src: HostLogits, outH: number, outW: number): Uint8Array {
  const { data, height: h, width: w, channels: k } = src;
  const ys = axisTaps(h, outH);
  const xs = axisTaps(w, outW);
  const cols = runsOf(xs);
  const rows = runsOf(ys);
  const labels = new Uint8Array(outH * outW);
  const cand = new Int32Array(k);
  const span = longestRun(cols);
  const tops = new Float64Array(span * k);
  const bots = new Float64Array(span * k);
  for (let band = 0; band < rows.start.length; band++) {
    const y0 = rows.start[band];
    const y1 = rows.end[band];
    const top = ys.i0[y0] * w * k;
    const bot = ys.i1[y0] * w * k;
    for (let run = 0; run < cols.start.length; run++) {
      const x0 = cols.start[run];
      const x1 = cols.end[run];
      const l = xs.i0[x0] * k;
      const r = xs.i1[x0] * k;
      // T = max over classes of the corner minimum: the winner at any pixel of the cell is ≥ T.
      let best = -Infinity;
      for (let c = 0; c < k; c++) {
        const m = Math.min(
          data[top + l + c],
          data[top + r + c],
          data[bot + l + c],
          data[bot + r + c],
        );
        if (m > best) best = m;
      }
      let n = 0;
      for (let c = 0; c < k; c++) {
        const m = Math.max(
          data[top + l + c],
          data[top + r + c],
          data[bot + l + c],
          data[bot + r + c],
        );
        if (m >= best) cand[n++] = c;
      }
      if (n <= 1) {
        const id = n ? cand[0] : 0;
        for (let y = y0; y < y1; y++) labels.fill(id, y * outW + x0, y * outW + x1);
        continue;
      }
      for (let x = x0; x < x1; x++) {
        const fx = xs.frac[x];
        const o = (x - x0) * n;
        for (let j = 0; j < n; j++) {
          const c = cand[j];
          const tl = data[top + l + c];
          const bl = data[bot + l + c];
          tops[o + j] = tl + (data[top + r + c] - tl) * fx;
          bots[o + j] = bl + (data[bot + r + c] - bl) * fx;
        }
      }
      for (let y = y0; y < y1; y++) {
        const fy = ys.frac[y];
        for (let x = x0; x < x1; x++) {
          const o = (x - x0) * n;
          let bestV = -Infinity;
          let bestC = cand[0];
          for (let j = 0; j < n; j++) {
            const t = tops[o + j];
            const v = Math.fround(t + (bots[o + j] - t) * fy);
            if (v > bestV) {
              bestV = v;
              bestC = cand[j];
            }
          }
          labels[y * outW + x] = bestC;
        }
      }
    }
  }
  return labels;
}

/** Several sources (test-time scales and flips): their mean, evaluated per pixel. */
function argmaxMean(sources: readonly HostLogits[], outH: number, outW: number): Uint8Array {
  const k = sources[0].channels;
  const taps = sources.map((s) => ({ ys: axisTaps(s.height, outH), xs: axisTaps(s.width, outW) }));
  const labels = new Uint8Array(outH * outW);
  const acc = new Float32Array(k);
  const px = new Float32Array(k);
  const n = sources.length;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let i = 0; i < n; i++) {
        const { data, width: w } = sources[i];
        const { ys, xs } = taps[i];
        const top = ys.i0[y] * w * k;
        const bot = ys.i1[y] * w * k;
        const l = xs.i0[x] * k;
        const r = xs.i1[x] * k;
        bilinearPixel(data, top + l, top + r, bot + l, bot + r, xs.frac[x], ys.frac[y], k, px, 0);
        // float32 stores: the resized logits, then tf.add of them
        for (let c = 0; c < k; c++) acc[c] = i === 0 ? px[c] : acc[c] + px[c];
      }
      let bestV = -Infinity;
      let bestC = 0;
      for (let c = 0; c < k; c++) {
        const v = Math.fround(acc[c] / n); // tf.div(acc, n)
        if (v > bestV) {
          bestV = v;
          bestC = c;
        }
      }
      labels[y * outW + x] = bestC;
    }
  }
  return labels;
}

/**
 * Labels of the mean of `sources` (each NHWC [h_i, w_i, K], e.g. input-size logits of one
 * test-time scale/flip) resized bilinearly to `outH × outW`.
 * @returns uint8 [outH · outW] class ids, row-major
 * @throws RangeError for more than 256 classes, sources with different class counts, or none
 */
export function resizeArgmax(
  sources: readonly HostLogits[],
  outH: number,
  outW: number,
): Uint8Array {
  if (sources.length === 0) throw new RangeError('resizeArgmax needs at least one source');
  const k = sources[0].channels;
  checkClasses(k);
  if (sources.some((s) => s.channels !== k))
    throw new RangeError(`sources disagree on the class count: ${sources.map((s) => s.channels)}`);
  return sources.length === 1 ? argmaxOne(sources[0], outH, outW) : argmaxMean(sources, outH, outW);
}
