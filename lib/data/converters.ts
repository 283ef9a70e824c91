/**
 * Label converters that produce the files mmseg's loaders read (mmseg's `tools/dataset_converters/{cityscapes,coco_stuff164k}.py`):
 * - Cityscapes `*_gtFine_labelIds.png` → `*_gtFine_labelTrainIds.png` (cityscapesScripts
 *   labels.py id → trainId; everything not evaluated → 255). mmseg's own converter renders the
 *   polygons JSON with `json2labelImg(…, 'trainIds')`; mapping the released labelIds PNGs is the
 *   pixel-identical shortcut cityscapesScripts also offers.
 * - COCO-Stuff-164K raw stuffthingmaps `<id>.png` (0-based COCO ids, 255 unlabeled) →
 *   `<id>_labelTrainIds.png` (0..170) with mmseg's `clsID_to_trID`; ids not in the map → 255.
 * Outputs are written to a temporary name and renamed, so an interrupted run leaves no half file.
 */
import { existsSync } from 'node:fs';
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from './errors.ts';
import { decodeLabel } from './image_io.ts';
import { applyLut } from './label.ts';
import { cityscapesLabelIdLut, cocoStuffClsIdLut } from './metainfo.ts';
import { encodePngGray8 } from './png.ts';

export interface ConvertOptions {
  /** Re-convert files whose output already exists (default false). */
  overwrite?: boolean;
  /** Called after each file. */
  onFile?: (done: number, total: number, file: string) => void;
}

export interface ConvertReport {
  converted: number;
  skipped: number;
  outputs: string[];
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function convertFiles(
  pairs: [string, string][],
  lut: Uint8Array,
  opts: ConvertOptions,
): Promise<ConvertReport> {
  const report: ConvertReport = { converted: 0, skipped: 0, outputs: [] };
  let done = 0;
  for (const [src, dst] of pairs) {
    if (!opts.overwrite && existsSync(dst)) {
      report.skipped++;
    } else {
      const label = await decodeLabel(src);
      applyLut(label.data, lut);
      const tmp = `${dst}.tmp-${process.pid}`;
      await writeFile(tmp, encodePngGray8(label.data, label.width, label.height));
      await rename(tmp, dst);
      report.converted++;
      report.outputs.push(dst);
    }
    opts.onFile?.(++done, pairs.length, src);
  }
  return report;
}

/** Converts every `*_gtFine_labelIds.png` under `<root>/gtFine` (all splits). */
export async function convertCityscapes(
  root: string,
  opts: ConvertOptions = {},
): Promise<ConvertReport> {
  const gt = join(root, 'gtFine');
  if (!existsSync(gt)) {
    throw new DatasetError(
      'missing-folder',
      `Cityscapes: ${gt} not found (expected gtFine/{train,val}/<city>/*_gtFine_labelIds.png)`,
      'point the converter at the cityscapes root that holds leftImg8bit/ and gtFine/',
      gt,
    );
  }
  const srcs = (await walk(gt)).filter((f) => f.endsWith('_gtFine_labelIds.png')).sort();
  if (srcs.length === 0) {
    throw new DatasetError(
      'empty',
      `Cityscapes: no *_gtFine_labelIds.png under ${gt}`,
      'unpack gtFine_trainvaltest.zip into the cityscapes root',
      gt,
    );
  }
  const pairs = srcs.map((s): [string, string] => [
    s,
    s.slice(0, -'_gtFine_labelIds.png'.length) + '_gtFine_labelTrainIds.png',
  ]);
  return convertFiles(pairs, cityscapesLabelIdLut(), opts);
}

/** Converts raw `annotations/{train2017,val2017}/<id>.png` to `<id>_labelTrainIds.png` beside them. */
export async function convertCocoStuff164k(
  root: string,
  opts: ConvertOptions = {},
): Promise<ConvertReport> {
  const pairs: [string, string][] = [];
  for (const split of ['train2017', 'val2017']) {
    const dir = join(root, 'annotations', split);
    if (!existsSync(dir)) continue;
    for (const f of (await readdir(dir)).sort()) {
      if (/^\d+\.png$/.test(f))
        pairs.push([join(dir, f), join(dir, f.replace(/\.png$/, '_labelTrainIds.png'))]);
    }
  }
  if (pairs.length === 0) {
    throw new DatasetError(
      'empty',
      `COCO-Stuff-164K: no raw stuffthingmaps <id>.png under ${join(root, 'annotations', '{train2017,val2017}')}`,
      'unzip stuffthingmaps_trainval2017.zip into <root>/annotations/ (mmseg dataset_prepare layout)',
      join(root, 'annotations'),
    );
  }
  return convertFiles(pairs, cocoStuffClsIdLut(), opts);
}
