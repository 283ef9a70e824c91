/**
 * Bilinear resizing of host-side logits (plain typed arrays, no tfjs), bit-for-bit the
 * arithmetic of tfjs `resizeBilinear(x, size, alignCorners=false, halfPixelCenters=true)` on the
 * cpu backend (PyTorch `F.interpolate(mode='bilinear', align_corners=False)`): per output pixel,
 * `top = tl + (tr − tl)·fx`, `bottom = bl + (br − bl)·fx`, `v = top + (bottom − top)·fy` in
 * doubles, stored as float32. Used by the bounded-memory inference path (./segment.ts,
 * ./resize_argmax.ts), which also runs in the browser demo.
 */

/** Logits of one image on the host: row-major NHWC without the batch, [height, width, channels]. */
export interface HostLogits {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** Source taps of one axis: output index o reads i0[o] and i1[o] with weight frac[o] on i1. */
export interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  frac: Float64Array;
}

/**
 * Half-pixel-centre taps for `count` outputs (default all `outSize`) of an axis resized from
 * `inSize` to `outSize`: src = (o + 0.5)·in/out − 0.5, clamped as the tfjs cpu kernel clamps.
 */
export function axisTaps(inSize: number, outSize: number, count = outSize): AxisTaps {
  const ratio = inSize / outSize;
  const i0 = new Int32Array(count);
  const i1 = new Int32Array(count);
  const frac = new Float64Array(count);
  for (let o = 0; o < count; o++) {
    const src = ratio * (o + 0.5) - 0.5;
    const lo = Math.max(0, Math.floor(src));
    i0[o] = lo;
    i1[o] = Math.min(inSize - 1, Math.ceil(src));
    frac[o] = src - lo;
  }
  return { i0, i1, frac };
}

/**
 * The `k` channels of one output pixel from its four source pixels (offsets of their channel 0
 * in `data`: top-left, top-right, bottom-left, bottom-right): `t = tl + (tr − tl)·fx`,
 * `b = bl + (br − bl)·fx`, `t + (b − t)·fy` in doubles, stored as float32 into `out` at `o`.
 */
export function bilinearPixel(
  data: Float32Array,
  tl: number,
  tr: number,
  bl: number,
  br: number,
  fx: number,
  fy: number,
  k: number,
  out: Float32Array,
  o: number,
): void {
  for (let c = 0; c < k; c++) {
    const t = data[tl + c] + (data[tr + c] - data[tl + c]) * fx;
    const b = data[bl + c] + (data[br + c] - data[bl + c]) * fx;
    out[o + c] = t + (b - t) * fy;
  }
}

/** Largest float32 buffer the host path allocates (4 GiB): bounded by the test scale, not the photo. */
export const MAX_HOST_ELEMENTS = 2 ** 30;

/** Throws a RangeError naming the buffer when float32 [h, w, k] is over MAX_HOST_ELEMENTS. */
export function checkHostSize(h: number, w: number, k: number, what: string): void {
  const n = h * w * k;
  if (n > MAX_HOST_ELEMENTS) {
    throw new RangeError(
      `${what} [${h}, ${w}, ${k}] would need ${((n * 4) / 2 ** 30).toFixed(1)} GiB of float32, ` +
        `over the ${(MAX_HOST_ELEMENTS * 4) / 2 ** 30} GiB limit of one buffer; lower the test scale (data.test.scale)`,
    );
  }
}

/**
 * Resize `src` to `outH × outW` and keep the top-left `cropH × cropW` (default: all), as mmseg
 * resizes logits to the padded input and crops the padding off.
 * @returns NHWC [cropH, cropW, channels], float32
 */
export function resizeBilinearHost(
  src: HostLogits,
  outH: number,
  outW: number,
  cropH = outH,
  cropW = outW,
): HostLogits {
  const { data, height: h, width: w, channels: k } = src;
  checkHostSize(cropH, cropW, k, 'resized logits');
  const out = new Float32Array(cropH * cropW * k);
  if (h === outH && w === outW) {
    // tfjs (lib/ops/resize.ts) returns a copy for an unchanged size; taps would give the same.
    for (let y = 0; y < cropH; y++)
      out.set(data.subarray(y * w * k, (y * w + cropW) * k), y * cropW * k);
    return { data: out, height: cropH, width: cropW, channels: k };
  }
  const ys = axisTaps(h, outH, cropH);
  const xs = axisTaps(w, outW, cropW);
  let o = 0;
  for (let y = 0; y < cropH; y++) {
    const top = ys.i0[y] * w * k;
    const bot = ys.i1[y] * w * k;
    const fy = ys.frac[y];
    for (let x = 0; x < cropW; x++) {
      const l = xs.i0[x] * k;
      const r = xs.i1[x] * k;
      bilinearPixel(data, top + l, top + r, bot + l, bot + r, xs.frac[x], fy, k, out, o);
      o += k;
    }
  }
  return { data: out, height: cropH, width: cropW, channels: k };
}

/** Mirror left-right (what `tf.reverse(x, 2)` does to [1, H, W, C]). */
export function flipHost(src: HostLogits): HostLogits {
  const { data, height: h, width: w, channels: k } = src;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      out.set(data.subarray((y * w + x) * k, (y * w + x + 1) * k), (y * w + (w - 1 - x)) * k);
  return { data: out, height: h, width: w, channels: k };
}
