// Each loader on a tiny fixture in its exact on-disk layout (docs/data_and_metrics.md), the label
// converters, and every bad-input message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDataset } from './datasets.ts';
import { convertCityscapes, convertCocoStuff164k } from './converters.ts';
import { DatasetError } from './errors.ts';
import { decodeLabel } from './image_io.ts';
import { tempDir, twoValueLabel, writeImage, writeLabel } from './testing.ts';

const W = 8;
const H = 6;

function isDatasetError(kind: DatasetError['kind'], ...patterns: RegExp[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof DatasetError, `expected DatasetError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    for (const p of patterns) assert.match(e.message, p);
    assert.ok(e.fix.length > 0);
    return true;
  };
}

async function adeFixture(): Promise<string> {
  const root = join(tempDir(), 'ADEChallengeData2016');
  // written out of order: the listing must be sorted by image path
  for (const [i, a, b] of [
    [2, 0, 150],
    [1, 1, 255],
  ]) {
    const name = `ADE_train_${String(i).padStart(8, '0')}`;
    await writeImage(join(root, 'images/training', `${name}.jpg`), W, H, i);
    writeLabel(join(root, 'annotations/training', `${name}.png`), twoValueLabel(W, H, a, b), W, H);
  }
  await writeImage(join(root, 'images/validation/ADE_val_00000001.jpg'), W, H, 9);
  writeLabel(
    join(root, 'annotations/validation/ADE_val_00000001.png'),
    twoValueLabel(W, H, 3, 4),
    W,
    H,
  );
  return root;
}

test('ADE20K: sorted scan, pairing, reduce_zero_label, metainfo', async () => {
  const root = await adeFixture();
  const ds = await buildDataset({ type: 'ade20k', dataRoot: root, split: 'train' });
  assert.equal(ds.length, 2);
  assert.equal(ds.numClasses, 150);
  assert.equal(ds.classes[7], 'bed ');
  assert.deepEqual(ds.palette[0], [120, 120, 120]);
  assert.match(ds.samples[0].imgPath, /ADE_train_00000001\.jpg$/);
  assert.match(ds.samples[0].segPath, /annotations\/training\/ADE_train_00000001\.png$/);
  const s0 = await ds.load(0);
  assert.equal(s0.img.width, W);
  assert.equal(s0.img.data.length, W * H * 3);
  // raw 1 | 255 → 0 | 255 ; raw 0 | 150 → 255 | 149
  assert.deepEqual([s0.label.data[0], s0.label.data[W - 1]], [0, 255]);
  const s1 = await ds.load(1);
  assert.deepEqual([s1.label.data[0], s1.label.data[W - 1]], [255, 149]);
  const val = await buildDataset({ type: 'ade20k', dataRoot: root, split: 'val' });
  assert.equal(val.length, 1);
  assert.deepEqual([...new Set((await val.load(0)).label.data)], [2, 3]);
});

test('label_map is applied after reduce_zero_label (mmseg 1.x order)', async () => {
  const root = await adeFixture();
  const ds = await buildDataset({
    type: 'ade20k',
    dataRoot: root,
    split: 'train',
    labelMap: [[0, 5]],
  });
  const s0 = await ds.load(0); // raw 1 → reduce 0 → map 5
  assert.equal(s0.label.data[0], 5);
});

test('Cityscapes: labelIds → labelTrainIds converter, then the loader', async () => {
  const root = join(tempDir(), 'cityscapes');
  const base = (split: string, city: string, n: number): string =>
    `${split}/${city}/${city}_000000_${String(n).padStart(6, '0')}`;
  const ids = [7, 26, 0, 33, 24, 9]; // road, car, unlabeled, bicycle, person, parking
  for (const [split, city, n] of [
    ['train', 'bochum', 19],
    ['train', 'aachen', 19],
    ['val', 'lindau', 1],
  ] as const) {
    const b = base(split, city, n);
    await writeImage(join(root, 'leftImg8bit', `${b}_leftImg8bit.png`), W, H, n);
    writeLabel(
      join(root, 'gtFine', `${b}_gtFine_labelIds.png`),
      Array.from({ length: W * H }, (_, i) => ids[i % ids.length]),
      W,
      H,
    );
    writeFileSync(join(root, 'gtFine', `${b}_gtFine_polygons.json`), '{}');
  }
  await assert.rejects(
    buildDataset({ type: 'cityscapes', dataRoot: root, split: 'train' }),
    isDatasetError('missing-label', /aachen_000000_000019_leftImg8bit\.png/, /labelTrainIds/),
  );
  await assert.rejects(
    buildDataset({ type: 'cityscapes', dataRoot: root, split: 'train' }),
    (e: unknown) => /convert_cli\.ts cityscapes/.test((e as DatasetError).fix),
  );
  const rep = await convertCityscapes(root);
  assert.equal(rep.converted, 3);
  assert.equal((await convertCityscapes(root)).skipped, 3);
  const ds = await buildDataset({ type: 'cityscapes', dataRoot: root, split: 'train' });
  assert.equal(ds.numClasses, 19);
  assert.match(ds.samples[0].imgPath, /aachen/); // sorted: aachen before bochum
  const s = await ds.load(0);
  assert.deepEqual([...s.label.data.slice(0, 6)], [0, 13, 255, 18, 11, 255]);
});

test('COCO-Stuff-164K: stuffthingmaps ids → labelTrainIds, raw maps beside them are ignored', async () => {
  const root = join(tempDir(), 'coco_stuff164k');
  const raw = [0, 11, 12, 91, 181, 255]; // person, unused id → 255, stop sign → 11, banner → 80, wood → 170
  for (const split of ['train2017', 'val2017']) {
    await writeImage(join(root, 'images', split, '000000000139.jpg'), W, H, 3);
    writeLabel(
      join(root, 'annotations', split, '000000000139.png'),
      Array.from({ length: W * H }, (_, i) => raw[i % 6]),
      W,
      H,
    );
  }
  await assert.rejects(
    buildDataset({ type: 'coco-stuff164k', dataRoot: root, split: 'val' }),
    isDatasetError('missing-label', /000000000139_labelTrainIds\.png/),
  );
  assert.equal((await convertCocoStuff164k(root)).converted, 2);
  const ds = await buildDataset({ type: 'coco-stuff164k', dataRoot: root, split: 'val' });
  assert.equal(ds.numClasses, 171);
  assert.equal(ds.reduceZeroLabel, false);
  const s = await ds.load(0);
  assert.deepEqual([...s.label.data.slice(0, 6)], [0, 255, 11, 80, 170, 255]);
});

test('Pascal Context-59: split-file order, reduce_zero_label', async () => {
  const root = join(tempDir(), 'VOC2010');
  for (const [name, a, b] of [
    ['2008_000002', 0, 59],
    ['2008_000008', 1, 30],
    ['2008_000009', 2, 3],
  ] as const) {
    await writeImage(join(root, 'JPEGImages', `${name}.jpg`), W, H, 5);
    writeLabel(
      join(root, 'SegmentationClassContext', `${name}.png`),
      twoValueLabel(W, H, a, b),
      W,
      H,
    );
  }
  mkdirSync(join(root, 'ImageSets/SegmentationContext'), { recursive: true });
  writeFileSync(
    join(root, 'ImageSets/SegmentationContext/train.txt'),
    '2008_000008\n2008_000002\n',
  );
  const ds = await buildDataset({ type: 'pascal-context59', dataRoot: root, split: 'train' });
  assert.equal(ds.length, 2);
  assert.equal(ds.numClasses, 59);
  assert.match(ds.samples[0].imgPath, /2008_000008/); // file order, not sorted
  const s = await ds.load(1);
  assert.deepEqual([s.label.data[0], s.label.data[W - 1]], [255, 58]);
  await assert.rejects(
    buildDataset({ type: 'pascal-context59', dataRoot: root, split: 'val' }),
    isDatasetError('missing-folder', /SegmentationContext\/val\.txt/),
  );
  writeFileSync(join(root, 'ImageSets/SegmentationContext/val.txt'), '2008_000009\n2010_999999\n');
  await assert.rejects(
    buildDataset({ type: 'pascal-context59', dataRoot: root, split: 'val' }),
    isDatasetError('missing-image', /2010_999999\.jpg/),
  );
});

test('missing dataset folder: names the path and shows the layout', async () => {
  const root = join(tempDir(), 'nope', 'ADEChallengeData2016');
  await assert.rejects(
    buildDataset({ type: 'ade20k', dataRoot: root, split: 'train' }),
    isDatasetError(
      'missing-folder',
      /nope\/ADEChallengeData2016/,
      /annotations\/\{training,validation\}/,
    ),
  );
  const partial = await adeFixture();
  rmSync(join(partial, 'annotations'), { recursive: true });
  await assert.rejects(
    buildDataset({ type: 'ade20k', dataRoot: partial, split: 'train' }),
    isDatasetError('missing-folder', /label folder not found: .*annotations\/training/),
  );
});

test('image without label and label without image name the file', async () => {
  const root = await adeFixture();
  await writeImage(join(root, 'images/training/ADE_train_00000003.jpg'), W, H, 3);
  await assert.rejects(
    buildDataset({ type: 'ade20k', dataRoot: root, split: 'train' }),
    isDatasetError(
      'missing-label',
      /ADE_train_00000003\.jpg \(expected .*annotations\/training\/ADE_train_00000003\.png\)/,
    ),
  );
  rmSync(join(root, 'images/training/ADE_train_00000003.jpg'));
  writeLabel(
    join(root, 'annotations/training/ADE_train_00000007.png'),
    new Uint8Array(W * H),
    W,
    H,
  );
  await assert.rejects(
    buildDataset({ type: 'ade20k', dataRoot: root, split: 'train' }),
    isDatasetError(
      'missing-image',
      /ADE_train_00000007\.png/,
      /images\/training\/ADE_train_00000007\.jpg/,
    ),
  );
});

test('corrupt image, corrupt label, bad label values and size mismatch name the file', async () => {
  const root = await adeFixture();
  const img1 = join(root, 'images/training/ADE_train_00000001.jpg');
  writeFileSync(img1, Buffer.from('this is not a jpeg'));
  const ds = await buildDataset({ type: 'ade20k', dataRoot: root, split: 'train' });
  await assert.rejects(ds.load(0), isDatasetError('corrupt-image', /ADE_train_00000001\.jpg/));
  const img2 = join(root, 'images/training/ADE_train_00000002.jpg');
  const bytes = readFileSync(img2);
  writeFileSync(img2, bytes.subarray(0, bytes.length >> 1)); // truncated JPEG
  await assert.rejects(
    ds.load(1),
    isDatasetError('corrupt-image', /ADE_train_00000002\.jpg.*premature end/),
  );
  await writeImage(img2, W, H, 2);
  const lab2 = join(root, 'annotations/training/ADE_train_00000002.png');
  writeLabel(lab2, twoValueLabel(W, H, 200, 7), W, H);
  await assert.rejects(
    ds.load(1),
    isDatasetError(
      'bad-label-values',
      /ADE_train_00000002\.png has values 199 /,
      /expected 0\.\.149 or 255/,
      /raw PNG values 200/,
    ),
  );
  writeLabel(lab2, new Uint8Array(4 * 4), 4, 4);
  await assert.rejects(
    ds.load(1),
    isDatasetError('size-mismatch', /8×6 but its label .*ADE_train_00000002\.png is 4×4/),
  );
  writeFileSync(lab2, Buffer.from('garbage'));
  await assert.rejects(
    ds.load(1),
    isDatasetError('corrupt-label', /ADE_train_00000002\.png: not a PNG/),
  );
});

test('Cityscapes trainIds ≥ 19 are rejected with the converter hint', async () => {
  const root = join(tempDir(), 'cityscapes');
  const b = 'val/lindau/lindau_000000_000001';
  await writeImage(join(root, 'leftImg8bit', `${b}_leftImg8bit.png`), W, H, 1);
  writeLabel(
    join(root, 'gtFine', `${b}_gtFine_labelTrainIds.png`),
    twoValueLabel(W, H, 26, 3),
    W,
    H,
  );
  const ds = await buildDataset({ type: 'cityscapes', dataRoot: root, split: 'val' });
  await assert.rejects(ds.load(0), (e: unknown) => {
    isDatasetError(
      'bad-label-values',
      /lindau_000000_000001_gtFine_labelTrainIds\.png has values 26/,
    )(e);
    return /labelTrainIds/.test((e as DatasetError).fix);
  });
});

test('config errors: unknown type, bad split', async () => {
  await assert.rejects(
    buildDataset({ type: 'ade21k' as 'ade20k', split: 'train' }),
    isDatasetError(
      'bad-config',
      /one of ade20k, cityscapes, coco-stuff164k, pascal-context59, builtin, but got 'ade21k'/,
    ),
  );
  await assert.rejects(
    buildDataset({ type: 'ade20k', split: 'test' as 'val' }),
    isDatasetError('bad-config', /'train' or 'val'/),
  );
});

test('decodeLabel reads a converter output unchanged', async () => {
  const dir = tempDir();
  const p = join(dir, 'x.png');
  writeLabel(p, [0, 1, 2, 255], 2, 2);
  assert.ok(existsSync(p));
  assert.deepEqual([...(await decodeLabel(p)).data], [0, 1, 2, 255]);
});
