/**
 * mmseg inference (datasets.md §3.0 "Test"): whole-image or sliding-window logits, resized
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
import type { Segmentor } from '../models/offseg.ts';
import { resizeBilinear } from '../ops/resize.ts';

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

/** Model logits at the input's own size: pad to the divisor, forward, resize, crop. */
function logitsAtInputSize(model: Segmentor, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const d = model.sizeDivisor;
    const ph = roundUp(h, d);
    const pw = roundUp(w, d);
    const xp =
      ph === h && pw === w
        ? x
        : tf.pad(x, [
            [0, 0],
            [0, ph - h],
            [0, pw - w],
            [0, 0],
          ]);
    const logits = model.forward(xp); // [B, ph/s, pw/s, K]
    const up = resizeBilinear(logits, [ph, pw]); // mmseg decode_head.predict resizes to img_shape
    return ph === h && pw === w ? up : tf.slice(up, [0, 0, 0, 0], [-1, h, w, -1]);
  });
}

export function slideLogits(
  model: Segmentor,
  x: tf.Tensor4D,
  crop: [number, number],
  stride: [number, number],
): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const [hc, wc] = crop;
  const [hs, ws] = stride;
  const hGrids = Math.floor(Math.max(h - hc + hs - 1, 0) / hs) + 1;
  const wGrids = Math.floor(Math.max(w - wc + ws - 1, 0) / ws) + 1;
  const k = model.numClasses;
  let sum = tf.zeros([b, h, w, k]) as tf.Tensor4D;
  const count = new Float32Array(h * w);
  for (let hi = 0; hi < hGrids; hi++) {
    for (let wi = 0; wi < wGrids; wi++) {
      let y1 = hi * hs;
      let x1 = wi * ws;
      const y2 = Math.min(y1 + hc, h);
      const x2 = Math.min(x1 + wc, w);
      y1 = Math.max(y2 - hc, 0);
      x1 = Math.max(x2 - wc, 0);
      const next = tf.tidy(() => {
        const win = tf.slice(x, [0, y1, x1, 0], [b, y2 - y1, x2 - x1, 3]);
        const l = logitsAtInputSize(model, win); // [B, y2−y1, x2−x1, K]
        const padded = tf.pad(l, [
          [0, 0],
          [y1, h - y2],
          [x1, w - x2],
          [0, 0],
        ]);
        return tf.add(sum, padded) as tf.Tensor4D;
      });
      sum.dispose();
      sum = next;
      for (let yy = y1; yy < y2; yy++) for (let xx = x1; xx < x2; xx++) count[yy * w + xx] += 1;
    }
  }
  const out = tf.tidy(() => tf.div(sum, tf.tensor(count, [1, h, w, 1])) as tf.Tensor4D);
  sum.dispose();
  return out;
}

/** Logits at the input size for one configuration (whole or slide). */
export function inferLogits(model: Segmentor, x: tf.Tensor4D, opts: InferenceOptions): tf.Tensor4D {
  if (opts.mode === 'slide') {
    if (!opts.crop || !opts.stride) throw new Error("slide inference needs 'crop' and 'stride'");
    return slideLogits(model, x, opts.crop, opts.stride);
  }
  return logitsAtInputSize(model, x);
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
  const scales = opts.scales ?? [1];
  const flips = opts.flip ? [false, true] : [false];
  let acc: tf.Tensor4D | undefined;
  for (const s of scales) {
    for (const f of flips) {
      const l = tf.tidy(() => {
        const [, h, w] = x.shape;
        const size: [number, number] = [Math.round(h * s), Math.round(w * s)];
        let xi = s === 1 ? x : resizeBilinear(x, size);
        if (f) xi = tf.reverse(xi, 2) as tf.Tensor4D;
        let li = inferLogits(model, xi, opts);
        if (f) li = tf.reverse(li, 2) as tf.Tensor4D;
        return resizeBilinear(li, origSize);
      });
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

/** argmax over classes → Int32 [H, W] label map of the first image. */
export async function argmaxLabels(logits: tf.Tensor4D): Promise<Int32Array> {
  const am = tf.argMax(logits, 3);
  const data = (await am.data()) as Int32Array;
  am.dispose();
  return data;
}
