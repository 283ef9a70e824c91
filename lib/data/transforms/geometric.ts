/**
 * Geometric transforms of the mmseg train/test pipelines on host uint8 buffers (HWC RGB images,
 * HW label maps): keep-ratio rescale (mmcv `rescale_size`), RandomResize, RandomCrop with
 * cat_max_ratio, horizontal flip. `mmseg/datasets/transforms/transforms.py`; docs/data_and_metrics.md.
 */
import type { Rng } from '../../rng.ts';
import type { LabelMap, RgbImage } from '../image_io.ts';
import { randint } from '../seed.ts';

/** An image with its label map (same height and width). */
export interface ImageLabel {
  img: RgbImage;
  label: LabelMap;
}

/**
 * mmcv `rescale_size((w, h), scale)` with a (long, short) tuple: factor =
 * min(max(scale)/max(h, w), min(scale)/min(h, w)); new size = int(x·factor + 0.5).
 * Returns [newW, newH].
 */
export function rescaleSize(
  w: number,
  h: number,
  scale: readonly [number, number],
): [number, number] {
  const longMax = Math.max(scale[0], scale[1]);
  const shortMax = Math.min(scale[0], scale[1]);
  const f = Math.min(longMax / Math.max(h, w), shortMax / Math.min(h, w));
  return [Math.trunc(w * f + 0.5), Math.trunc(h * f + 0.5)];
}

/** Source index and weight per output coordinate, half-pixel centres clamped at the border. */
function linearTaps(
  src: number,
  dst: number,
): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w1 = new Float64Array(dst);
  const scale = src / dst;
  for (let d = 0; d < dst; d++) {
    let s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    let a = Math.floor(s);
    if (a >= src - 1) {
      a = src - 1;
      s = a;
    }
    i0[d] = a;
    i1[d] = Math.min(a + 1, src - 1);
    w1[d] = s - a;
  }
  return { i0, i1, w1 };
}

/**
 * Bilinear resize of an RGB uint8 image with cv2 INTER_LINEAR geometry (half-pixel centres, no
 * antialiasing), rounded to uint8. DEVIATION: float arithmetic; cv2 uses 11-bit fixed-point
 * weights, so single values can differ by 1.
 */
export function resizeBilinearRgb(img: RgbImage, outW: number, outH: number): RgbImage {
  if (outW === img.width && outH === img.height) return { ...img, data: img.data.slice() };
  const { width: W, data: src } = img;
  const xs = linearTaps(W, outW);
  const ys = linearTaps(img.height, outH);
  const out = new Uint8Array(outW * outH * 3);
  const row0 = new Float64Array(outW * 3);
  const row1 = new Float64Array(outW * 3);
  const hrow = (y: number, into: Float64Array): void => {
    const base = y * W * 3;
    for (let x = 0; x < outW; x++) {
      const a = base + xs.i0[x] * 3;
      const b = base + xs.i1[x] * 3;
      const w = xs.w1[x];
      into[x * 3] = src[a] + (src[b] - src[a]) * w;
      into[x * 3 + 1] = src[a + 1] + (src[b + 1] - src[a + 1]) * w;
      into[x * 3 + 2] = src[a + 2] + (src[b + 2] - src[a + 2]) * w;
    }
  };
  let c0 = -1;
  let c1 = -1;
  for (let y = 0; y < outH; y++) {
    const y0 = ys.i0[y];
    const y1 = ys.i1[y];
    if (c0 !== y0) {
      if (c1 === y0) row0.set(row1);
      else hrow(y0, row0);
      c0 = y0;
    }
    if (c1 !== y1) {
      hrow(y1, row1);
      c1 = y1;
    }
    const wy = ys.w1[y];
    const o = y * outW * 3;
    for (let k = 0; k < outW * 3; k++) {
      const v = row0[k] + (row1[k] - row0[k]) * wy + 0.5;
      out[o + k] = v <= 0 ? 0 : v >= 255 ? 255 : v; // Uint8Array store truncates: round half up
    }
  }
  return { data: out, width: outW, height: outH };
}

/** cv2 INTER_NEAREST: src = min(floor(dst · in/out), in−1) (no half-pixel centres). */
export function resizeNearestLabel(label: LabelMap, outW: number, outH: number): LabelMap {
  if (outW === label.width && outH === label.height) return { ...label, data: label.data.slice() };
  const xi = new Int32Array(outW);
  const sx = label.width / outW;
  for (let x = 0; x < outW; x++) xi[x] = Math.min(Math.floor(x * sx), label.width - 1);
  const sy = label.height / outH;
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const r = Math.min(Math.floor(y * sy), label.height - 1) * label.width;
    const o = y * outW;
    for (let x = 0; x < outW; x++) out[o + x] = label.data[r + xi[x]];
  }
  return { data: out, width: outW, height: outH };
}

/** mmcv `Resize(scale, keep_ratio=True)` on the image (bilinear) and label (nearest). */
export function keepRatioResize(s: ImageLabel, scale: readonly [number, number]): ImageLabel {
  const [w, h] = rescaleSize(s.img.width, s.img.height, scale);
  return { img: resizeBilinearRgb(s.img, w, h), label: resizeNearestLabel(s.label, w, h) };
}

/**
 * mmcv `RandomResize(scale, ratio_range, keep_ratio=True)`: r ~ U[lo, hi), target scale =
 * (int(scale0·r), int(scale1·r)), then the keep-ratio rescale. One draw.
 */
export function randomResize(
  s: ImageLabel,
  rng: Rng,
  scale: readonly [number, number],
  ratioRange: readonly [number, number],
): ImageLabel {
  const r = rng.next() * (ratioRange[1] - ratioRange[0]) + ratioRange[0];
  return keepRatioResize(s, [Math.trunc(scale[0] * r), Math.trunc(scale[1] * r)]);
}

export interface CropBox {
  y1: number;
  y2: number;
  x1: number;
  x2: number;
}

function randomBox(rng: Rng, h: number, w: number, cropH: number, cropW: number): CropBox {
  const y1 = randint(rng, 0, Math.max(h - cropH, 0) + 1);
  const x1 = randint(rng, 0, Math.max(w - cropW, 0) + 1);
  return { y1, y2: Math.min(y1 + cropH, h), x1, x2: Math.min(x1 + cropW, w) };
}

function cropLabel(label: LabelMap, b: CropBox): LabelMap {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const s = (b.y1 + y) * label.width + b.x1;
    out.set(label.data.subarray(s, s + w), y * w);
  }
  return { data: out, width: w, height: h };
}

function cropImage(img: RgbImage, b: CropBox): RgbImage {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const s = ((b.y1 + y) * img.width + b.x1) * 3;
    out.set(img.data.subarray(s, s + w * 3), y * w * 3);
  }
  return { data: out, width: w, height: h };
}

/** True when the crop passes cat_max_ratio: > 1 non-ignore class and the largest < ratio. */
export function cropPasses(label: LabelMap, catMaxRatio: number, ignoreIndex: number): boolean {
  const hist = new Uint32Array(256);
  for (let i = 0; i < label.data.length; i++) hist[label.data[i]]++;
  let classes = 0;
  let max = 0;
  let sum = 0;
  for (let v = 0; v < 256; v++) {
    if (v === ignoreIndex || hist[v] === 0) continue;
    classes++;
    sum += hist[v];
    if (hist[v] > max) max = hist[v];
  }
  return classes > 1 && max / sum < catMaxRatio;
}

/**
 * mmseg `RandomCrop(crop_size=(h, w), cat_max_ratio)`: draw a box; while cat_max_ratio < 1, up to
 * 10 times re-draw when the crop fails the ratio test; the box drawn last is used unchecked.
 * A side smaller than the crop is kept whole (padding happens after normalisation).
 */
export function randomCrop(
  s: ImageLabel,
  rng: Rng,
  cropSize: readonly [number, number],
  catMaxRatio: number,
  ignoreIndex = 255,
): ImageLabel {
  const { height: h, width: w } = s.img;
  let box = randomBox(rng, h, w, cropSize[0], cropSize[1]);
  if (catMaxRatio < 1) {
    for (let t = 0; t < 10; t++) {
      if (cropPasses(cropLabel(s.label, box), catMaxRatio, ignoreIndex)) break;
      box = randomBox(rng, h, w, cropSize[0], cropSize[1]);
    }
  }
  return { img: cropImage(s.img, box), label: cropLabel(s.label, box) };
}

/** Horizontal flip of image and label, in place. */
export function flipHorizontal(s: ImageLabel): ImageLabel {
  const { img, label } = s;
  for (let y = 0; y < img.height; y++) {
    for (let a = 0, b = img.width - 1; a < b; a++, b--) {
      const ra = (y * img.width + a) * 3;
      const rb = (y * img.width + b) * 3;
      for (let c = 0; c < 3; c++) {
        const t = img.data[ra + c];
        img.data[ra + c] = img.data[rb + c];
        img.data[rb + c] = t;
      }
      const la = y * label.width + a;
      const lb = y * label.width + b;
      const t = label.data[la];
      label.data[la] = label.data[lb];
      label.data[lb] = t;
    }
  }
  return s;
}

/** mmcv `RandomFlip(prob)` (horizontal): one draw. */
export function randomFlip(s: ImageLabel, rng: Rng, prob: number): ImageLabel {
  return rng.next() < prob ? flipHorizontal(s) : s;
}
