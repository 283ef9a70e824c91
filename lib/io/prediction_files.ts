/**
 * The files `offseg predict` writes per photo, laid out as mmseg's `MMSegInferencer` lays them
 * out: `pred/<name>.png` the label map (palette PNG: pixel values are class ids, viewers show the
 * palette), `vis/<name>.jpg` the colours blended over the photo, and with `--json`
 * `pred/<name>.json` the classes present with their pixel counts and shares.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { writeAtomic as writeFileAtomic } from './atomic_write.ts';
import type { RgbImage } from '../data/image_io.ts';
import { encodePngPalette8 } from '../data/png.ts';
import { classAreas, overlayLabels, type Palette } from '../eval/overlay.ts';

export interface PredictionToWrite {
  photo: RgbImage;
  /** uint8 [height · width] class ids at the photo's size. */
  labels: Uint8Array;
  palette: Palette;
  classes: readonly string[];
  /** Overlay weight of the colours (mmseg image_demo.py --opacity, 0.5). */
  opacity: number;
  /** Written into the JSON as they are (source image, model, timings…). */
  info: Record<string, unknown>;
}

export interface WrittenPrediction {
  labelPng: string;
  overlay: string;
  json?: string;
}

/** Write atomically (./atomic_write.ts), creating the folder first. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, data);
}

/** Write the label map, the overlay and (when `json`) the class areas of one photo under `outDir`. */
export async function writePrediction(
  outDir: string,
  name: string,
  p: PredictionToWrite,
  json: boolean,
): Promise<WrittenPrediction> {
  const { photo, labels } = p;
  const labelPng = join(outDir, 'pred', `${name}.png`);
  writeAtomic(labelPng, encodePngPalette8(labels, photo.width, photo.height, p.palette));
  const blended = overlayLabels({ ...photo, channels: 3 }, labels, p.palette, p.opacity);
  const jpg = await sharp(Buffer.from(blended.data.buffer, 0, blended.data.byteLength), {
    raw: { width: photo.width, height: photo.height, channels: 3 },
    limitInputPixels: false,
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  const overlay = join(outDir, 'vis', `${name}.jpg`);
  writeAtomic(overlay, jpg);
  if (!json) return { labelPng, overlay };
  const path = join(outDir, 'pred', `${name}.json`);
  const areas = classAreas(labels, p.classes).map((a) => ({
    ...a,
    share: Number(a.share.toFixed(6)),
  }));
  const body = { ...p.info, height: photo.height, width: photo.width, classes: areas };
  writeAtomic(path, JSON.stringify(body, null, 1) + '\n');
  return { labelPng, overlay, json: path };
}
