// IoUMetric tests: the semantics listed in docs/data_and_metrics.md, hand-computed cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IoUAccumulator,
  formatClassTable,
  formatSummaryTable,
  iouFromAreas,
  nanmean,
  pyFloat,
  roundPercent,
} from './iou_metric.ts';
import { reduceZeroLabel } from '../data/label.ts';

const close = (a: number, b: number, msg?: string): void =>
  assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);

test('hand-computed 3-class case: areas, aAcc, IoU, Acc, rounding', () => {
  const acc = new IoUAccumulator({ numClasses: 3, classNames: ['a', 'b', 'c'] });
  acc.update(Int32Array.from([0, 1, 1, 1, 0, 2]), Uint8Array.from([0, 0, 1, 1, 2, 255]));
  const r = acc.compute();
  assert.deepEqual([...r.areas.intersect], [1, 2, 0]);
  assert.deepEqual([...r.areas.predArea], [2, 3, 0]);
  assert.deepEqual([...r.areas.labelArea], [2, 2, 1]);
  assert.deepEqual([...r.areas.union], [3, 3, 1]);
  close(r.raw.aAcc, 3 / 5);
  close(r.raw.mIoU, (1 / 3 + 2 / 3 + 0) / 3);
  close(r.raw.mAcc, (0.5 + 1 + 0) / 3);
  assert.equal(r.reported.aAcc, 60);
  assert.equal(r.reported.mIoU, 33.33);
  assert.equal(r.reported.mAcc, 50);
  assert.deepEqual(r.reported.IoU, [33.33, 66.67, 0]);
  assert.equal(r.numImages, 1);
});

test('(a) GT 255 pixels are ignored in the prediction too', () => {
  const acc = new IoUAccumulator({ numClasses: 2 });
  // every pixel the model calls class 1 is void in the GT
  acc.update(Uint8Array.from([0, 0, 1, 1]), Uint8Array.from([0, 0, 255, 255]));
  const r = acc.compute();
  assert.deepEqual([...r.areas.predArea], [2, 0]);
  assert.ok(Number.isNaN(r.raw.IoU[1]), 'class 1 absent after masking → NaN');
  assert.equal(r.raw.mIoU, 1);
  assert.equal(r.raw.aAcc, 1);
});

test('(b) class absent from pred and GT → NaN, mIoU averages the rest', () => {
  const acc = new IoUAccumulator({ numClasses: 4 });
  acc.update(Int32Array.from([0, 1, 1, 1, 0, 2]), Int32Array.from([0, 0, 1, 1, 2, 255]));
  const r = acc.compute();
  assert.ok(Number.isNaN(r.raw.IoU[3]) && Number.isNaN(r.raw.Acc[3]));
  assert.ok(Number.isNaN(r.reported.IoU[3]));
  close(r.raw.mIoU, (1 / 3 + 2 / 3 + 0) / 3);
  assert.equal(r.reported.mIoU, 33.33);
});

test('(c) false-positive-only class → IoU 0 (counted), Acc NaN (excluded)', () => {
  const acc = new IoUAccumulator({ numClasses: 2 });
  acc.update(Uint8Array.from([0, 1]), Uint8Array.from([0, 0]));
  const r = acc.compute();
  assert.equal(r.raw.IoU[1], 0);
  assert.ok(Number.isNaN(r.raw.Acc[1]));
  close(r.raw.mIoU, 0.25);
  close(r.raw.mAcc, 0.5);
});

test('(d) reduce_zero_label on [0,1,150,255] → [255,0,149,255]', () => {
  assert.deepEqual([...reduceZeroLabel(Uint8Array.from([0, 1, 150, 255]))], [255, 0, 149, 255]);
});

test('(e) dataset accumulation differs from averaging per-image mIoU', () => {
  const acc = new IoUAccumulator({ numClasses: 2 });
  const imgs: [number[], number[]][] = [
    [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ],
    [
      [0, 0],
      [1, 1],
    ],
  ];
  const perImage: number[] = [];
  for (const [p, g] of imgs) {
    const one = new IoUAccumulator({ numClasses: 2 });
    one.update(p, g);
    perImage.push(one.compute().raw.mIoU);
    acc.update(p, g);
  }
  assert.deepEqual(perImage, [1, 0]);
  const r = acc.compute();
  close(r.raw.mIoU, (4 / 6 + 0) / 2);
  assert.notEqual(r.raw.mIoU, nanmean(perImage));
  assert.equal(r.numImages, 2);
});

test('predictions outside [0, C) fall out of the histograms; labels outside too', () => {
  const acc = new IoUAccumulator({ numClasses: 2 });
  acc.update(Int32Array.from([5, -1, 1, 1]), Int32Array.from([0, 0, 1, 7]));
  const r = acc.compute();
  assert.deepEqual([...r.areas.predArea], [0, 2]);
  assert.deepEqual([...r.areas.labelArea], [2, 1]);
  assert.deepEqual([...r.areas.intersect], [0, 1]);
});

test('size mismatch is an error that says how to fix it', () => {
  const acc = new IoUAccumulator({ numClasses: 2 });
  assert.throws(() => acc.update(new Uint8Array(3), new Uint8Array(4)), /resize the logits/);
});

test('reset, merge and Dice / F-score', () => {
  const a = new IoUAccumulator({ numClasses: 2, metrics: ['mIoU', 'mDice', 'mFscore'] });
  a.update([0, 1, 1, 0], [0, 1, 0, 0]);
  const r = a.compute();
  // I=[2,1] P=[2,2] G=[3,1]
  close(r.raw.Dice![0], 4 / 5);
  close(r.raw.Dice![1], 2 / 3);
  close(r.raw.Precision![0], 1);
  close(r.raw.Recall![0], 2 / 3);
  close(r.raw.Fscore![0], (2 * 1 * (2 / 3)) / (1 + 2 / 3));
  const b = new IoUAccumulator({ numClasses: 2 });
  b.merge(r.areas);
  b.merge(r.areas);
  assert.deepEqual([...b.compute().areas.intersect], [4, 2]);
  b.reset();
  assert.deepEqual([...b.compute().areas.intersect], [0, 0]);
  assert.ok(Number.isNaN(b.compute().raw.aAcc));
});

test('iouFromAreas is pure and matches the accumulator', () => {
  const areas = {
    intersect: Float64Array.from([1, 2, 0]),
    union: Float64Array.from([3, 2, 1]),
    predArea: Float64Array.from([2, 2, 0]),
    labelArea: Float64Array.from([2, 2, 1]),
  };
  const v = iouFromAreas(areas);
  close(v.aAcc, 0.6);
  close(v.IoU[0], 1 / 3);
  assert.deepEqual([...areas.intersect], [1, 2, 0]);
});

test('rounding follows numpy np.round(x*100, 2) (half to even)', () => {
  // values checked against numpy 2.4: np.round(0.0625, 2) → 0.06, np.round(0.125, 2) → 0.12
  assert.equal(roundPercent(0.000625), 0.06);
  assert.equal(roundPercent(0.00125), 0.12);
  assert.equal(roundPercent(0.33335), 33.34);
  assert.equal(roundPercent(1 / 3), 33.33);
  assert.equal(roundPercent(0.0625), 6.25);
  assert.ok(Number.isNaN(roundPercent(NaN)));
  assert.equal(pyFloat(100), '100.0');
  assert.equal(pyFloat(85.1), '85.1');
  assert.equal(pyFloat(NaN), 'nan');
});

test('per-class table looks like mmseg (PrettyTable, centred, nan)', () => {
  const acc = new IoUAccumulator({ numClasses: 3, classNames: ['wall', 'bed ', 'sky'] });
  acc.update([0, 0, 1], [0, 1, 1]);
  const t = formatClassTable(acc.compute());
  const expected = [
    '+-------+------+-------+',
    '| Class | IoU  |  Acc  |',
    '+-------+------+-------+',
    '|  wall | 50.0 | 100.0 |',
    '|  bed  | 50.0 |  50.0 |',
    '|  sky  | nan  |  nan  |',
    '+-------+------+-------+',
  ].join('\n');
  assert.equal(t, expected);
  assert.match(formatSummaryTable(acc.compute()), /\| {2}aAcc \| mIoU \| mAcc \|/);
});
