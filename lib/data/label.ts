/**
 * mmseg 1.x `LoadAnnotations` value handling (docs/data_and_metrics.md): reduce_zero_label first, then
 * the optional label_map (mmseg 0.x had the opposite order), then a range check.
 */
import { DatasetError } from './errors.ts';

/** 0 → 255, k → k−1, 255 stays 255 (`gt[gt==0]=255; gt=gt-1; gt[gt==254]=255`). In place. */
export function reduceZeroLabel(gt: Uint8Array): Uint8Array {
  for (let i = 0; i < gt.length; i++) {
    const v = gt[i];
    gt[i] = v === 0 || v === 255 ? 255 : v - 1;
  }
  return gt;
}

/** Applies a 256-entry lookup table in place (mmseg label_map; unknown ids → 255 by the LUT). */
export function applyLut(gt: Uint8Array, lut: Uint8Array): Uint8Array {
  if (lut.length !== 256) throw new Error('label map LUT must have 256 entries');
  for (let i = 0; i < gt.length; i++) gt[i] = lut[gt[i]];
  return gt;
}

/** Builds a LUT from a `{old: new}` label map (mmseg semantics: unlisted ids keep their value). */
export function lutFromLabelMap(map: Readonly<Record<number, number>>): Uint8Array {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i;
  for (const [k, v] of Object.entries(map)) lut[Number(k)] = v;
  return lut;
}

/** The sorted distinct values of `gt` outside [0, K) ∪ {ignore}. */
export function invalidLabelValues(
  gt: Uint8Array,
  numClasses: number,
  ignoreIndex = 255,
): number[] {
  const seen = new Uint8Array(256);
  for (let i = 0; i < gt.length; i++) seen[gt[i]] = 1;
  const bad: number[] = [];
  for (let v = numClasses; v < 256; v++) if (seen[v] && v !== ignoreIndex) bad.push(v);
  return bad;
}

/** Throws a DatasetError naming the file and the offending values. */
export function checkLabelValues(
  gt: Uint8Array,
  numClasses: number,
  file: string,
  reduceZero: boolean,
  ignoreIndex = 255,
): void {
  const bad = invalidLabelValues(gt, numClasses, ignoreIndex);
  if (bad.length === 0) return;
  const raw = reduceZero ? bad.map((v) => v + 1) : bad;
  throw new DatasetError(
    'bad-label-values',
    `label ${file} has values ${bad.slice(0, 12).join(', ')}${bad.length > 12 ? ', …' : ''} after ` +
      `${reduceZero ? 'reduce_zero_label' : 'loading'}; expected 0..${numClasses - 1} or ${ignoreIndex}` +
      (reduceZero ? ` (raw PNG values ${raw.slice(0, 12).join(', ')})` : ''),
    reduceZero
      ? `this dataset expects raw ids 0..${numClasses} (0 = ignored); check the dataset type, or convert the labels`
      : `this dataset expects train ids 0..${numClasses - 1} and 255; run the label converter (e.g. labelIds → labelTrainIds) or fix the file`,
    file,
  );
}
