/**
 * The mmseg train and test pipelines as plain typed options (fillable from a JSON config) and the
 * functions that run them on one decoded sample. See docs/data_and_metrics.md.
 *
 * Train: RandomResize → RandomCrop(cat_max_ratio) → RandomFlip → PhotoMetricDistortion →
 *   (data preprocessor) normalise in RGB, then pad bottom/right to the crop with 0 (image, i.e.
 *   after normalisation, as mmseg's SegDataPreProcessor pads) and 255 (label).
 * Test: keep-ratio Resize of the image only; the label stays at the original size.
 */
import type { Rng } from '../../rng.ts';
import type { RawSample } from '../dataset.ts';
import type { RgbImage } from '../image_io.ts';
import {
  randomCrop,
  randomFlip,
  randomResize,
  rescaleSize,
  resizeBilinearRgb,
} from './geometric.ts';
import {
  PHOTOMETRIC_DEFAULTS,
  type PhotoMetricOptions,
  photoMetricDistortion,
} from './photometric.ts';

export type Rgb3 = [number, number, number];

/** ImageNet mean/std in RGB order (mmseg's SegDataPreProcessor). */
export const IMAGENET_MEAN: Rgb3 = [123.675, 116.28, 103.53];
export const IMAGENET_STD: Rgb3 = [58.395, 57.12, 57.375];

export interface TrainPipelineConfig {
  /** RandomResize base scale (long, short), e.g. [2048, 512]. */
  scale: [number, number];
  /** RandomResize ratio range, mmseg [0.5, 2.0]. */
  ratioRange: [number, number];
  /** RandomCrop size [h, w]; batches are padded to it. */
  cropSize: [number, number];
  /** RandomCrop cat_max_ratio (0.75); 1 disables the re-draws. */
  catMaxRatio: number;
  /** RandomFlip probability (0.5). */
  flipProb: number;
  /** PhotoMetricDistortion options; null disables it. */
  photometric: PhotoMetricOptions | null;
  mean: Rgb3;
  std: Rgb3;
  ignoreIndex: number;
}

export interface TestPipelineConfig {
  /** Keep-ratio Resize scale (long, short), e.g. [2048, 512]; null keeps the original size. */
  scale: [number, number] | null;
  mean: Rgb3;
  std: Rgb3;
}

export interface PipelinePreset {
  train: TrainPipelineConfig;
  test: TestPipelineConfig;
}

function preset(scale: [number, number], crop: number): PipelinePreset {
  return {
    train: {
      scale,
      ratioRange: [0.5, 2.0],
      cropSize: [crop, crop],
      catMaxRatio: 0.75,
      flipProb: 0.5,
      photometric: { ...PHOTOMETRIC_DEFAULTS },
      mean: [...IMAGENET_MEAN],
      std: [...IMAGENET_STD],
      ignoreIndex: 255,
    },
    test: { scale, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] },
  };
}

/** The OffSeg configs' pipelines and the built-in dataset's quick one. */
export const PIPELINE_PRESETS = {
  ade20k: preset([2048, 512], 512),
  'coco-stuff164k': preset([2048, 512], 512),
  cityscapes: preset([2048, 1024], 1024),
  'pascal-context59': preset([520, 520], 480),
  /** Built-in 128² images: same recipe scaled by 1/4 (short side 128, crop 128). */
  builtin: preset([512, 128], 128),
} as const satisfies Record<string, PipelinePreset>;

/** A training sample ready for batching: padded to the crop, normalised, NHWC. */
export interface TrainSample {
  /** [cropH, cropW, 3] float32, normalised; padding = 0. */
  image: Float32Array;
  /** [cropH, cropW] uint8 training ids; padding = ignoreIndex. */
  label: Uint8Array;
  height: number;
  width: number;
  index: number;
}

/** 256-entry per-channel float32 tables of (v − mean) / std, as the preprocessor computes. */
function normLuts(mean: Rgb3, std: Rgb3): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    for (let v = 0; v < 256; v++) t[v] = Math.fround(v - m) / s;
    return t;
  });
}

/** Normalises into a [H, W, 3] float32 buffer of size `outH × outW` (pad 0 bottom/right). */
export function normalizeInto(
  img: RgbImage,
  mean: Rgb3,
  std: Rgb3,
  outH = img.height,
  outW = img.width,
): Float32Array {
  const luts = normLuts(mean, std);
  const out = new Float32Array(outH * outW * 3);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      const d = (y * outW + x) * 3;
      out[d] = luts[0][img.data[s]];
      out[d + 1] = luts[1][img.data[s + 1]];
      out[d + 2] = luts[2][img.data[s + 2]];
    }
  }
  return out;
}

/** Copies a label into an `outH × outW` map padded with `pad`. */
export function padLabel(
  label: { data: Uint8Array; height: number; width: number },
  outH: number,
  outW: number,
  pad: number,
): Uint8Array {
  const out = new Uint8Array(outH * outW).fill(pad);
  for (let y = 0; y < label.height; y++) {
    out.set(label.data.subarray(y * label.width, (y + 1) * label.width), y * outW);
  }
  return out;
}

/** Runs the train pipeline on one decoded sample with its own generator. */
export function applyTrainPipeline(
  raw: RawSample,
  cfg: TrainPipelineConfig,
  rng: Rng,
): TrainSample {
  let s = { img: raw.img, label: raw.label };
  s = randomResize(s, rng, cfg.scale, cfg.ratioRange);
  s = randomCrop(s, rng, cfg.cropSize, cfg.catMaxRatio, cfg.ignoreIndex);
  s = randomFlip(s, rng, cfg.flipProb);
  if (cfg.photometric) photoMetricDistortion(s.img, rng, cfg.photometric);
  const [H, W] = cfg.cropSize;
  return {
    image: normalizeInto(s.img, cfg.mean, cfg.std, H, W),
    label: padLabel(s.label, H, W, cfg.ignoreIndex),
    height: H,
    width: W,
    index: raw.index,
  };
}

/** A test sample: the resized normalised image and the original-size label. */
export interface TestSample {
  /** [height, width, 3] float32, normalised, after the keep-ratio resize. */
  image: Float32Array;
  height: number;
  width: number;
  /** Original-resolution training ids (scores are computed here). */
  label: Uint8Array;
  oriHeight: number;
  oriWidth: number;
  index: number;
  imgPath: string;
}

export function applyTestPipeline(raw: RawSample, cfg: TestPipelineConfig): TestSample {
  let img = raw.img;
  if (cfg.scale) {
    const [w, h] = rescaleSize(img.width, img.height, cfg.scale);
    img = resizeBilinearRgb(img, w, h);
  }
  return {
    image: normalizeInto(img, cfg.mean, cfg.std),
    height: img.height,
    width: img.width,
    label: raw.label.data,
    oriHeight: raw.label.height,
    oriWidth: raw.label.width,
    index: raw.index,
    imgPath: raw.ref.imgPath,
  };
}
