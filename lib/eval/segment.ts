/**
 * mmseg's test-time recipe (whole or sliding-window logits at the network input's size, resized
 * to the original image, argmax) on host arrays with bounded memory: the largest buffer is the
 * input-size logits [h, w, K], set by the test pipeline's keep-ratio scale, never by the photo;
 * the resize to the original size and the argmax run together (./resize_argmax.ts). The network
 * is any `LogitsNet` (tfjs, ONNX Runtime in Node or in the browser), so the same code serves
 * `offseg predict`, `offseg eval` and the browser demo. No tfjs import: it bundles for the web.
 *
 * The arithmetic mirrors the tensor recipe of ./inference.ts op for op (zero padding to the size
 * divisor, resize to the padded size, crop, window sums and counts, float32 at every store), so
 * on the tfjs cpu backend both give the same label map; ./segment.test.ts checks it.
 */
import type { InferenceOptions } from './inference.ts';
import { checkHostSize, flipHost, resizeBilinearHost, type HostLogits } from './host_resize.ts';
import { resizeArgmax } from './resize_argmax.ts';

/** A normalised image on the host: NHWC [height, width, 3] float32. */
export interface HostImage {
  data: Float32Array;
  height: number;
  width: number;
}

/** The network as this recipe sees it. */
export interface LogitsNet {
  readonly numClasses: number;
  readonly sizeDivisor: number;
  /**
   * Logits of one normalised image.
   * @param x NHWC [h, w, 3], h and w multiples of `sizeDivisor`
   * @returns NHWC [h/s, w/s, K]
   */
  logits(x: HostImage): Promise<HostLogits>;
}

function roundUp(v: number, d: number): number {
  return Math.ceil(v / d) * d;
}

/** The `h × w` window at (y1, x1), zero-padded bottom/right to `ph × pw`. */
function windowOf(
  x: HostImage,
  y1: number,
  x1: number,
  h: number,
  w: number,
  ph = h,
  pw = w,
): HostImage {
  if (y1 === 0 && x1 === 0 && h === x.height && w === x.width && ph === h && pw === w) return x;
  const out = new Float32Array(ph * pw * 3);
  for (let y = 0; y < h; y++) {
    const s = ((y1 + y) * x.width + x1) * 3;
    out.set(x.data.subarray(s, s + w * 3), y * pw * 3);
  }
  return { data: out, height: ph, width: pw };
}

/** Logits at the input's own size: pad to the divisor, forward, resize, crop. NHWC [h, w, K]. */
async function atInputSize(net: LogitsNet, x: HostImage): Promise<HostLogits> {
  const { height: h, width: w } = x;
  const ph = roundUp(h, net.sizeDivisor);
  const pw = roundUp(w, net.sizeDivisor);
  const low = await net.logits(windowOf(x, 0, 0, h, w, ph, pw)); // [ph/s, pw/s, K]
  if (low.channels !== net.numClasses) {
    throw new RangeError(`the network gave ${low.channels} classes, expected ${net.numClasses}`);
  }
  return resizeBilinearHost(low, ph, pw, h, w); // mmseg decode_head.predict: resize, then crop
}

/** mmseg `slide_inference`: window logits summed and divided by the per-pixel window count. */
async function slide(
  net: LogitsNet,
  x: HostImage,
  crop: readonly [number, number],
  stride: readonly [number, number],
): Promise<HostLogits> {
  const { height: h, width: w } = x;
  const k = net.numClasses;
  const [hc, wc] = crop;
  const [hs, ws] = stride;
  const hGrids = Math.floor(Math.max(h - hc + hs - 1, 0) / hs) + 1;
  const wGrids = Math.floor(Math.max(w - wc + ws - 1, 0) / ws) + 1;
  checkHostSize(h, w, k, 'sliding-window logits');
  const sum = new Float32Array(h * w * k);
  const count = new Float32Array(h * w);
  for (let hi = 0; hi < hGrids; hi++) {
    for (let wi = 0; wi < wGrids; wi++) {
      const y2 = Math.min(hi * hs + hc, h);
      const x2 = Math.min(wi * ws + wc, w);
      const y1 = Math.max(y2 - hc, 0);
      const x1 = Math.max(x2 - wc, 0);
      const l = await atInputSize(net, windowOf(x, y1, x1, y2 - y1, x2 - x1)); // [y2−y1, x2−x1, K]
      for (let y = y1; y < y2; y++) {
        for (let xx = x1; xx < x2; xx++) {
          const o = (y * w + xx) * k;
          const s = ((y - y1) * (x2 - x1) + (xx - x1)) * k;
          for (let c = 0; c < k; c++) sum[o + c] += l.data[s + c]; // float32 store: tf.add
          count[y * w + xx] += 1;
        }
      }
    }
  }
  for (let p = 0; p < h * w; p++) {
    const n = count[p];
    for (let c = p * k; c < (p + 1) * k; c++) sum[c] /= n; // tf.div(sum, count)
  }
  return { data: sum, height: h, width: w, channels: k };
}

/**
 * Logits at the input size for one configuration (whole or slide).
 * @param x NHWC [h, w, 3] normalised
 * @returns NHWC [h, w, K]
 * @throws Error for slide without crop and stride; RangeError when [h, w, K] is too large
 */
export function inputSizeLogits(
  net: LogitsNet,
  x: HostImage,
  opts: InferenceOptions,
): Promise<HostLogits> {
  if (opts.mode === 'slide') {
    if (!opts.crop || !opts.stride) throw new Error("slide inference needs 'crop' and 'stride'");
    return slide(net, x, opts.crop, opts.stride);
  }
  checkHostSize(x.height, x.width, net.numClasses, 'input-size logits');
  return atInputSize(net, x);
}

/**
 * The label map at `origSize` (the image before the test Resize): logits of every test-time
 * scale and flip at the input size, their mean resized to `origSize`, argmax — without any
 * [origH, origW, K] buffer.
 * @param x NHWC [h, w, 3] normalised, after the keep-ratio Resize
 * @returns uint8 [origH · origW] class ids
 */
export async function predictLabels(
  net: LogitsNet,
  x: HostImage,
  origSize: readonly [number, number],
  opts: InferenceOptions,
): Promise<Uint8Array> {
  const scales = opts.scales ?? [1];
  const flips = opts.flip ? [false, true] : [false];
  const sources: HostLogits[] = [];
  for (const s of scales) {
    for (const f of flips) {
      const size = [Math.round(x.height * s), Math.round(x.width * s)] as const;
      let xi = x;
      if (s !== 1) {
        const r = resizeBilinearHost({ ...x, channels: 3 }, size[0], size[1]);
        xi = { data: r.data, height: r.height, width: r.width };
      }
      if (f) xi = { ...flipHost({ ...xi, channels: 3 }) };
      const l = await inputSizeLogits(net, xi, opts);
      sources.push(f ? flipHost(l) : l);
    }
  }
  return resizeArgmax(sources, origSize[0], origSize[1]);
}
