/**
 * mmseg `PhotoMetricDistortion` on RGB uint8 HWC, in place (`mmseg/datasets/transforms/transforms.py`):
 *   brightness (p 0.5, β ~ U(−32, 32)) → mode ~ {0, 1};
 *   mode 1: contrast (p 0.5, α ~ U(0.5, 1.5)) → saturation (p 0.5, S·U(0.5, 1.5) in HSV) →
 *   hue (p 0.5, H + randint(−18, 18) mod 180) → mode 0: contrast.
 * Each step is mmseg's `convert`: float32 x·α + β, clip to [0, 255], truncate to uint8; saturation
 * and hue each make their own uint8 RGB→HSV→RGB round trip with OpenCV's 8-bit HSV (H in [0, 180)).
 * The draws follow mmseg's order; the generator is ours (lib/rng.ts), so values
 * differ from numpy's stream while the distribution is the same.
 */
import type { Rng } from '../../rng.ts';
import type { RgbImage } from '../image_io.ts';
import { randint, uniform } from '../seed.ts';

export interface PhotoMetricOptions {
  brightnessDelta: number;
  contrastRange: [number, number];
  saturationRange: [number, number];
  hueDelta: number;
}

export const PHOTOMETRIC_DEFAULTS: PhotoMetricOptions = {
  brightnessDelta: 32,
  contrastRange: [0.5, 1.5],
  saturationRange: [0.5, 1.5],
  hueDelta: 18,
};

/** 256-entry table of mmseg `convert(v, alpha, beta)` in float32, clipped and truncated. */
function convertLut(alpha: number, beta: number): Uint8Array {
  const a = Math.fround(alpha);
  const b = Math.fround(beta);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    const x = Math.fround(Math.fround(v * a) + b);
    lut[v] = x <= 0 ? 0 : x >= 255 ? 255 : Math.trunc(x);
  }
  return lut;
}

function applyLut3(data: Uint8Array, lut: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] = lut[data[i]];
}

// OpenCV 8-bit HSV tables (hsv_shift = 12), color_hsv.simd.hpp RGB2HSV_b.
const HSV_SHIFT = 12;
const SDIV = new Int32Array(256);
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = Math.round((255 << HSV_SHIFT) / i);
  HDIV[i] = Math.round((180 << HSV_SHIFT) / (6 * i));
}

/** RGB uint8 → OpenCV HSV uint8 (H 0..179, S and V 0..255), into `hsv`. */
export function rgbToHsv(rgb: Uint8Array, hsv: Uint8Array): void {
  const half = 1 << (HSV_SHIFT - 1);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i];
    const g = rgb[i + 1];
    const b = rgb[i + 2];
    const v = Math.max(r, g, b);
    const diff = v - Math.min(r, g, b);
    const s = (diff * SDIV[v] + half) >> HSV_SHIFT;
    let h: number;
    if (v === r) h = g - b;
    else if (v === g) h = b - r + 2 * diff;
    else h = r - g + 4 * diff;
    h = (h * HDIV[diff] + half) >> HSV_SHIFT;
    if (h < 0) h += 180;
    hsv[i] = h;
    hsv[i + 1] = s;
    hsv[i + 2] = v;
  }
}

// OpenCV HSV2RGB sector table: which of (v, p, q, t) is b, g, r.
const SECTORS = [
  [1, 3, 0],
  [1, 0, 2],
  [3, 0, 1],
  [0, 2, 1],
  [0, 1, 3],
  [2, 1, 0],
];

/** OpenCV HSV uint8 → RGB uint8 (float sector formula, rounded), into `rgb`. */
export function hsvToRgb(hsv: Uint8Array, rgb: Uint8Array): void {
  const tab = new Float64Array(4);
  for (let i = 0; i < hsv.length; i += 3) {
    const s = hsv[i + 1] / 255;
    const v = hsv[i + 2] / 255;
    let r: number;
    let g: number;
    let b: number;
    if (s === 0) {
      r = g = b = v;
    } else {
      let h = (hsv[i] * 6) / 180;
      while (h >= 6) h -= 6;
      const sector = Math.floor(h);
      h -= sector;
      tab[0] = v;
      tab[1] = v * (1 - s);
      tab[2] = v * (1 - s * h);
      tab[3] = v * (1 - s * (1 - h));
      const sec = SECTORS[sector];
      b = tab[sec[0]];
      g = tab[sec[1]];
      r = tab[sec[2]];
    }
    rgb[i] = Math.min(255, Math.round(r * 255));
    rgb[i + 1] = Math.min(255, Math.round(g * 255));
    rgb[i + 2] = Math.min(255, Math.round(b * 255));
  }
}

function brightness(img: RgbImage, rng: Rng, o: PhotoMetricOptions): void {
  if (randint(rng, 0, 2)) {
    applyLut3(img.data, convertLut(1, uniform(rng, -o.brightnessDelta, o.brightnessDelta)));
  }
}

function contrast(img: RgbImage, rng: Rng, o: PhotoMetricOptions): void {
  if (randint(rng, 0, 2)) {
    applyLut3(img.data, convertLut(uniform(rng, o.contrastRange[0], o.contrastRange[1]), 0));
  }
}

function saturation(img: RgbImage, rng: Rng, o: PhotoMetricOptions): void {
  if (!randint(rng, 0, 2)) return;
  const lut = convertLut(uniform(rng, o.saturationRange[0], o.saturationRange[1]), 0);
  const hsv = new Uint8Array(img.data.length);
  rgbToHsv(img.data, hsv);
  for (let i = 1; i < hsv.length; i += 3) hsv[i] = lut[hsv[i]];
  hsvToRgb(hsv, img.data);
}

function hue(img: RgbImage, rng: Rng, o: PhotoMetricOptions): void {
  if (!randint(rng, 0, 2)) return;
  const delta = randint(rng, -o.hueDelta, o.hueDelta); // numpy randint: high exclusive
  const hsv = new Uint8Array(img.data.length);
  rgbToHsv(img.data, hsv);
  for (let i = 0; i < hsv.length; i += 3) hsv[i] = (((hsv[i] + delta) % 180) + 180) % 180;
  hsvToRgb(hsv, img.data);
}

/** Applies the distortion in place and returns the image. */
export function photoMetricDistortion(
  img: RgbImage,
  rng: Rng,
  opts: PhotoMetricOptions = PHOTOMETRIC_DEFAULTS,
): RgbImage {
  brightness(img, rng, opts);
  const mode = randint(rng, 0, 2);
  if (mode === 1) contrast(img, rng, opts);
  saturation(img, rng, opts);
  hue(img, rng, opts);
  if (mode === 0) contrast(img, rng, opts);
  return img;
}
