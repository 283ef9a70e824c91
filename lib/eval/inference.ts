/**
 * mmseg inference (`mmseg/models/segmentors/encoder_decoder.py` whole/slide inference): whole-image or sliding-window logits, resized
 * bilinearly back to the original image size, then argmax. NHWC throughout.
 *
 * Slide mode follows mmseg's `slide_inference`: grid counts max(H − crop + stride − 1, 0)//stride + 1,
 * windows clamped to the image, per-window logits resized to the window size, summed and divided
 * by the per-pixel window count. DEVIATION (documented): our models need sizes divisible by
 * their `sizeDivisor`; a window or whole image that is not is zero-padded bottom/right before the
 * forward pass and its logits are cropped back — mmseg pads test images the same way when its
 * data preprocessor has a size_divisor.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Segmentor } from '../models/segmentor.ts';
import { resizeBilinear } from '../ops/resize.ts';
import type { SegmentationEngine } from '../engine/engine.ts';

export interface InferenceOptions {
  mode: 'whole' | 'slide';
  crop?: [number, number];
  stride?: [number, number];
  /** Extra test-time scales (ratios of the input) — 1.0 alone = single scale. */
  scales?: number[];
  /** Also average the horizontally flipped prediction. */
  flip?: boolean;
}

function roundUp(v: number, d: number): number {
  return Math.ceil(v / d) * d;
}

/**
 * The inference recipes below are written once, as generators that yield each network input
 * ([B,h,w,3]) and receive its logits ([B,h/s,w/s,K], which they dispose), so the same code runs
 * a synchronous tfjs forward (`predictLogits`, …) and an asynchronous engine such as ONNX
 * Runtime (`predictLogitsWith`). Tensor lifetimes are explicit: a generator cannot hold a tidy
 * scope across a yield.
 */
type Steps<T> = Generator<tf.Tensor4D, T, tf.Tensor4D>;

/** What the recipes need to know about the network. */
interface NetInfo {
  numClasses: number;
  sizeDivisor: number;
}

function runSync<T>(steps: Steps<T>, forward: (x: tf.Tensor4D) => tf.Tensor4D): T {
  let r = steps.next();
  while (!r.done) {
    const x = r.value;
    r = steps.next(tf.tidy(() => forward(x)));
  }
  return r.value;
}

async function runAsync<T>(
  steps: Steps<T>,
  forward: (x: tf.Tensor4D) => Promise<tf.Tensor4D>,
): Promise<T> {
  let r = steps.next();
  while (!r.done) r = steps.next(await forward(r.value));
  return r.value;
}

/** Model logits at the input's own size: pad to the divisor, forward, resize, crop. */
function* logitsAtInputSize(net: NetInfo, x: tf.Tensor4D): Steps<tf.Tensor4D> {
  const [, h, w] = x.shape;
  const d = net.sizeDivisor;
  const ph = roundUp(h, d);
  const pw = roundUp(w, d);
  const padded = ph !== h || pw !== w;
  const xp = padded
    ? tf.pad(x, [
        [0, 0],
        [0, ph - h],
        [0, pw - w],
        [0, 0],
      ])
    : x;
  const logits = yield xp; // [B, ph/s, pw/s, K]
  if (padded) xp.dispose();
  const out = tf.tidy(() => {
    const up = resizeBilinear(logits, [ph, pw]); // mmseg decode_head.predict resizes to img_shape
    return padded ? tf.slice(up, [0, 0, 0, 0], [-1, h, w, -1]) : up;
  });
  logits.dispose();
  return out;
}

function* slideSteps(
  net: NetInfo,
  x: tf.Tensor4D,
  crop: [number, number],
  stride: [number, number],
): Steps<tf.Tensor4D> {
  const [b, h, w] = x.shape;
  const [hc, wc] = crop;
  const [hs, ws] = stride;
  const hGrids = Math.floor(Math.max(h - hc + hs - 1, 0) / hs) + 1;
  const wGrids = Math.floor(Math.max(w - wc + ws - 1, 0) / ws) + 1;
  let sum = tf.zeros([b, h, w, net.numClasses]) as tf.Tensor4D;
  const count = new Float32Array(h * w);
  for (let hi = 0; hi < hGrids; hi++) {
    for (let wi = 0; wi < wGrids; wi++) {
      let y1 = hi * hs;
      let x1 = wi * ws;
      const y2 = Math.min(y1 + hc, h);
      const x2 = Math.min(x1 + wc, w);
      y1 = Math.max(y2 - hc, 0);
      x1 = Math.max(x2 - wc, 0);
      const win = tf.slice(x, [0, y1, x1, 0], [b, y2 - y1, x2 - x1, 3]);
      const l = yield* logitsAtInputSize(net, win); // [B, y2−y1, x2−x1, K]
      win.dispose();
      const next = tf.tidy(() => {
        const padded = tf.pad(l, [
          [0, 0],
          [y1, h - y2],
          [x1, w - x2],
          [0, 0],
        ]);
        return tf.add(sum, padded) as tf.Tensor4D;
      });
      l.dispose();
      sum.dispose();
      sum = next;
      for (let yy = y1; yy < y2; yy++) for (let xx = x1; xx < x2; xx++) count[yy * w + xx] += 1;
    }
  }
  const out = tf.tidy(() => tf.div(sum, tf.tensor(count, [1, h, w, 1])) as tf.Tensor4D);
  sum.dispose();
  return out;
}

function* inferSteps(net: NetInfo, x: tf.Tensor4D, opts: InferenceOptions): Steps<tf.Tensor4D> {
  if (opts.mode === 'slide') {
    if (!opts.crop || !opts.stride) throw new Error("slide inference needs 'crop' and 'stride'");
    return yield* slideSteps(net, x, opts.crop, opts.stride);
  }
  return yield* logitsAtInputSize(net, x);
}

function* predictSteps(
  net: NetInfo,
  x: tf.Tensor4D,
  origSize: [number, number],
  opts: InferenceOptions,
): Steps<tf.Tensor4D> {
  const scales = opts.scales ?? [1];
  const flips = opts.flip ? [false, true] : [false];
  let acc: tf.Tensor4D | undefined;
  for (const s of scales) {
    for (const f of flips) {
      const [, h, w] = x.shape;
      const size: [number, number] = [Math.round(h * s), Math.round(w * s)];
      const xi = tf.tidy(() => {
        const r = s === 1 ? x : resizeBilinear(x, size);
        return f ? (tf.reverse(r, 2) as tf.Tensor4D) : r;
      });
      const li = yield* inferSteps(net, xi, opts);
      if (xi !== x) xi.dispose();
      const l = tf.tidy(() =>
        resizeBilinear(f ? (tf.reverse(li, 2) as tf.Tensor4D) : li, origSize),
      );
      li.dispose();
      if (acc) {
        const next = tf.add(acc, l) as tf.Tensor4D;
        acc.dispose();
        l.dispose();
        acc = next;
      } else acc = l;
    }
  }
  const n = scales.length * flips.length;
  if (n === 1) return acc!;
  const out = tf.div(acc!, n) as tf.Tensor4D;
  acc!.dispose();
  return out;
}

export function slideLogits(
  model: Segmentor,
  x: tf.Tensor4D,
  crop: [number, number],
  stride: [number, number],
): tf.Tensor4D {
  return runSync(slideSteps(model, x, crop, stride), (xi) => model.forward(xi));
}

/** Logits at the input size for one configuration (whole or slide). */
export function inferLogits(model: Segmentor, x: tf.Tensor4D, opts: InferenceOptions): tf.Tensor4D {
  return runSync(inferSteps(model, x, opts), (xi) => model.forward(xi));
}

/**
 * Logits resized to `origSize` (the image before the test Resize), averaged over test-time
 * scales and flips when asked (mmseg's TTA averages logits).
 */
export function predictLogits(
  model: Segmentor,
  x: tf.Tensor4D,
  origSize: [number, number],
  opts: InferenceOptions,
): tf.Tensor4D {
  return runSync(predictSteps(model, x, origSize, opts), (xi) => model.forward(xi));
}

/**
 * `predictLogits` with the network run by an inference engine (tfjs or ONNX Runtime,
 * lib/engine/engine.ts). x: NHWC [B,H,W,3]; returns NHWC logits [B, origH, origW, K].
 */
export function predictLogitsWith(
  engine: SegmentationEngine,
  x: tf.Tensor4D,
  origSize: [number, number],
  opts: InferenceOptions,
): Promise<tf.Tensor4D> {
  return runAsync(predictSteps(engine, x, origSize, opts), (xi) => engine.logits(xi));
}

/** argmax over classes → Int32 [H, W] label map of the first image. */
export async function argmaxLabels(logits: tf.Tensor4D): Promise<Int32Array> {
  const am = tf.argMax(logits, 3);
  const data = (await am.data()) as Int32Array;
  am.dispose();
  return data;
}
