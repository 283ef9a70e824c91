/**
 * mmseg 1.x `IoUMetric` (mmseg/evaluation/metrics/iou_metric.py), host side.
 *
 * Semantics (also in docs/data_and_metrics.md):
 * - per image: pixels whose label equals `ignoreIndex` are dropped from both prediction and label;
 *   four per-class histograms (bins = C over [0, C−1]) are taken of the intersection, the
 *   prediction and the label; predictions (or labels) outside 0..C−1 fall out of the histograms;
 * - the histograms are summed over the whole dataset (not a per-image mean);
 * - aAcc = ΣI / ΣG, IoU_c = I_c / U_c, Acc_c = I_c / G_c; mIoU / mAcc = nanmean;
 * - 0/0 stays NaN (absent class, excluded from the mean); a false-positive-only class has IoU 0
 *   and Acc NaN;
 * - reported values are `np.round(x * 100, 2)` (round half to even), raw values are kept too.
 *
 * DEVIATION: counts accumulate in Float64Array (exact). mmseg sums float32 `torch.histc`
 * outputs, which round per-class counts above 2^24 pixels; the relative effect is < 1e-7.
 */

/** Which summary metrics to derive (mmseg `iou_metrics`). */
export type IoUMetricName = 'mIoU' | 'mDice' | 'mFscore';

export interface IoUAccumulatorOptions {
  numClasses: number;
  /** Label value excluded from scoring (mmseg default 255). */
  ignoreIndex?: number;
  /** Class names for tables; defaults to '0'..'C−1'. */
  classNames?: readonly string[];
  /** Summary metrics (default ['mIoU']). */
  metrics?: readonly IoUMetricName[];
  /** F-score β (mmseg default 1). */
  beta?: number;
}

/** The four per-class area vectors mmseg accumulates. */
export interface ClassAreas {
  intersect: Float64Array;
  union: Float64Array;
  predArea: Float64Array;
  labelArea: Float64Array;
}

/** Metric values in [0, 1] (raw) or in percent rounded to 2 decimals (reported). */
export interface IoUValues {
  aAcc: number;
  mIoU: number;
  mAcc: number;
  mDice?: number;
  mFscore?: number;
  mPrecision?: number;
  mRecall?: number;
  /** Per class; NaN where mmseg gives NaN. */
  IoU: number[];
  Acc: number[];
  Dice?: number[];
  Fscore?: number[];
  Precision?: number[];
  Recall?: number[];
}

export interface IoUResult {
  /** As mmseg reports them: percent, `np.round(·, 2)`. */
  reported: IoUValues;
  /** Unrounded fractions in [0, 1]. */
  raw: IoUValues;
  classNames: string[];
  /** Number of images accumulated. */
  numImages: number;
  areas: ClassAreas;
}

type LabelArray = Int32Array | Uint8Array | Uint16Array | Int16Array | Float32Array | number[];

/** numpy `np.round(x, 2)` on x·100: multiply, round half to even, divide. NaN passes through. */
export function roundPercent(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = x * 100 * 100;
  const f = Math.floor(y);
  const d = y - f;
  let r: number;
  if (d > 0.5) r = f + 1;
  else if (d < 0.5) r = f;
  else r = f % 2 === 0 ? f : f + 1;
  return r / 100;
}

/** numpy nanmean: the mean of the non-NaN entries, NaN when there are none. */
export function nanmean(v: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isNaN(v[i])) {
      s += v[i];
      n++;
    }
  }
  return n === 0 ? NaN : s / n;
}

/** Per-image histograms (mmseg `intersect_and_union`) added into `into`. */
export function accumulateAreas(
  pred: LabelArray,
  label: LabelArray,
  numClasses: number,
  ignoreIndex: number,
  into: ClassAreas,
): void {
  if (pred.length !== label.length) {
    throw new Error(
      `IoU: prediction has ${pred.length} pixels but label has ${label.length}; ` +
        'resize the logits to the label size before the argmax (mmseg resizes to the original image size)',
    );
  }
  const C = numClasses;
  const { intersect, predArea, labelArea } = into;
  for (let i = 0; i < label.length; i++) {
    const g = label[i];
    if (g === ignoreIndex) continue;
    const p = pred[i];
    // Integer values only land in a histc bin when inside [0, C−1]; others fall out.
    const gIn = g >= 0 && g < C && Number.isInteger(g);
    const pIn = p >= 0 && p < C && Number.isInteger(p);
    if (gIn) labelArea[g]++;
    if (pIn) predArea[p]++;
    if (gIn && p === g) intersect[g]++;
  }
  for (let c = 0; c < C; c++)
    into.union[c] = into.predArea[c] + into.labelArea[c] - into.intersect[c];
}

function zeroAreas(C: number): ClassAreas {
  return {
    intersect: new Float64Array(C),
    union: new Float64Array(C),
    predArea: new Float64Array(C),
    labelArea: new Float64Array(C),
  };
}

/** Pure: metrics from dataset-level areas (mmseg `total_area_to_metrics`), values in [0, 1]. */
export function iouFromAreas(
  areas: ClassAreas,
  metrics: readonly IoUMetricName[] = ['mIoU'],
  beta = 1,
): IoUValues {
  const { intersect, union, predArea, labelArea } = areas;
  const C = intersect.length;
  let sumI = 0;
  let sumG = 0;
  for (let c = 0; c < C; c++) {
    sumI += intersect[c];
    sumG += labelArea[c];
  }
  const div = (a: number, b: number): number => a / b; // 0/0 → NaN, x/0 → Inf as in torch
  const IoU = Array.from({ length: C }, (_, c) => div(intersect[c], union[c]));
  const Acc = Array.from({ length: C }, (_, c) => div(intersect[c], labelArea[c]));
  const out: IoUValues = { aAcc: sumI / sumG, mIoU: nanmean(IoU), mAcc: nanmean(Acc), IoU, Acc };
  if (metrics.includes('mDice')) {
    out.Dice = Array.from({ length: C }, (_, c) =>
      div(2 * intersect[c], predArea[c] + labelArea[c]),
    );
    out.mDice = nanmean(out.Dice);
  }
  if (metrics.includes('mFscore')) {
    const P = Array.from({ length: C }, (_, c) => div(intersect[c], predArea[c]));
    const R = Acc.slice();
    const b2 = beta * beta;
    out.Precision = P;
    out.Recall = R;
    out.Fscore = P.map((p, c) => ((1 + b2) * p * R[c]) / (b2 * p + R[c]));
    out.mFscore = nanmean(out.Fscore);
    out.mPrecision = nanmean(P);
    out.mRecall = nanmean(R);
  }
  return out;
}

function roundValues(v: IoUValues): IoUValues {
  const r = (a: number[] | undefined): number[] | undefined => a?.map(roundPercent);
  const out: IoUValues = {
    aAcc: roundPercent(v.aAcc),
    mIoU: roundPercent(v.mIoU),
    mAcc: roundPercent(v.mAcc),
    IoU: v.IoU.map(roundPercent),
    Acc: v.Acc.map(roundPercent),
  };
  for (const k of ['mDice', 'mFscore', 'mPrecision', 'mRecall'] as const) {
    const x = v[k];
    if (x !== undefined) out[k] = roundPercent(x);
  }
  for (const k of ['Dice', 'Fscore', 'Precision', 'Recall'] as const) {
    if (v[k] !== undefined) out[k] = r(v[k]);
  }
  return out;
}

/** Stateful dataset-level accumulator: `update` per image, `compute` once, `reset` to reuse. */
export class IoUAccumulator {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly classNames: string[];
  readonly metrics: readonly IoUMetricName[];
  readonly beta: number;
  private areas: ClassAreas;
  private images = 0;

  constructor(opts: IoUAccumulatorOptions) {
    if (!Number.isInteger(opts.numClasses) || opts.numClasses < 1) {
      throw new Error(`IoU: numClasses must be a positive integer, but got ${opts.numClasses}`);
    }
    this.numClasses = opts.numClasses;
    this.ignoreIndex = opts.ignoreIndex ?? 255;
    this.metrics = opts.metrics ?? ['mIoU'];
    this.beta = opts.beta ?? 1;
    const names = opts.classNames ?? Array.from({ length: opts.numClasses }, (_, i) => String(i));
    if (names.length !== opts.numClasses) {
      throw new Error(`IoU: ${names.length} class names for ${opts.numClasses} classes`);
    }
    this.classNames = [...names];
    this.areas = zeroAreas(this.numClasses);
  }

  /** Adds one image: `pred` (argmax ids) and `label` (ids, `ignoreIndex` = void), same size. */
  update(pred: LabelArray, label: LabelArray): void {
    accumulateAreas(pred, label, this.numClasses, this.ignoreIndex, this.areas);
    this.images++;
  }

  /** Adds areas computed elsewhere (e.g. another worker's accumulator). */
  merge(other: ClassAreas): void {
    for (const k of ['intersect', 'union', 'predArea', 'labelArea'] as const) {
      if (other[k].length !== this.numClasses) throw new Error('IoU: merge with a different C');
      for (let c = 0; c < this.numClasses; c++) this.areas[k][c] += other[k][c];
    }
  }

  compute(): IoUResult {
    const raw = iouFromAreas(this.areas, this.metrics, this.beta);
    const copy = (a: Float64Array): Float64Array => Float64Array.from(a);
    return {
      raw,
      reported: roundValues(raw),
      classNames: [...this.classNames],
      numImages: this.images,
      areas: {
        intersect: copy(this.areas.intersect),
        union: copy(this.areas.union),
        predArea: copy(this.areas.predArea),
        labelArea: copy(this.areas.labelArea),
      },
    };
  }

  reset(): void {
    this.areas = zeroAreas(this.numClasses);
    this.images = 0;
  }
}

// ---- text tables (PrettyTable look, as mmseg prints "per class results:") ----

/** Python `str(float)` for the rounded values mmseg prints: 85.1, 100.0, nan. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** PrettyTable centre justification (odd excess: extra space right for odd-length text). */
function centre(text: string, width: number): string {
  const excess = width - text.length;
  const half = Math.floor(excess / 2);
  if (excess % 2 === 0) return ' '.repeat(half) + text + ' '.repeat(half);
  return text.length % 2 === 1
    ? ' '.repeat(half) + text + ' '.repeat(half + 1)
    : ' '.repeat(half + 1) + text + ' '.repeat(half);
}

/** A PrettyTable-style grid with centred cells. */
export function formatTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (cells: readonly string[]): string =>
    '|' + cells.map((c, j) => ' ' + centre(c, widths[j]) + ' ').join('|') + '|';
  return [rule, line(header), rule, ...rows.map(line), rule].join('\n');
}

/** The per-class table (Class | IoU | Acc [| Dice | Fscore | Precision | Recall]). */
export function formatClassTable(result: IoUResult): string {
  const r = result.reported;
  const cols: [string, number[]][] = [
    ['IoU', r.IoU],
    ['Acc', r.Acc],
  ];
  for (const k of ['Dice', 'Fscore', 'Precision', 'Recall'] as const) {
    const v = r[k];
    if (v) cols.push([k, v]);
  }
  const rows = result.classNames.map((name, c) => [name, ...cols.map(([, v]) => pyFloat(v[c]))]);
  return formatTable(['Class', ...cols.map(([k]) => k)], rows);
}

/** The summary line table (aAcc | mIoU | mAcc [...]). */
export function formatSummaryTable(result: IoUResult): string {
  const r = result.reported;
  const keys = (
    ['aAcc', 'mIoU', 'mAcc', 'mDice', 'mFscore', 'mPrecision', 'mRecall'] as const
  ).filter((k) => r[k] !== undefined);
  return formatTable([...keys], [keys.map((k) => pyFloat(r[k] as number))]);
}
