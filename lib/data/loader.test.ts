// SegDataLoader: seeded determinism, prefetch-independence, exact resume from a saved state,
// InfiniteSampler-style epochs, tensor shapes; iterateTest order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { buildDataset } from './datasets.ts';
import type { SegDataset } from './dataset.ts';
import { type LoaderState, SegDataLoader, iterateTest } from './loader.ts';
import { PIPELINE_PRESETS, type TrainPipelineConfig } from './transforms/pipeline.ts';
import { tempDir, writeImage, writeLabel } from './testing.ts';

await useBackend('cpu');

const N = 5;
let cached: SegDataset | undefined;
async function dataset(): Promise<SegDataset> {
  if (cached) return cached;
  const root = join(tempDir(), 'ADEChallengeData2016');
  for (let i = 1; i <= N; i++) {
    const name = `ADE_train_${String(i).padStart(8, '0')}`;
    const w = 40 + i;
    const h = 30;
    await writeImage(join(root, 'images/training', `${name}.jpg`), w, h, i);
    const lab = Uint8Array.from(
      { length: w * h },
      (_, p) => 1 + ((Math.floor((p % w) / 8) + i) % 4),
    );
    writeLabel(join(root, 'annotations/training', `${name}.png`), lab, w, h);
  }
  cached = await buildDataset({ type: 'ade20k', dataRoot: root, split: 'train' });
  return cached;
}

const pipeline: TrainPipelineConfig = {
  ...PIPELINE_PRESETS.builtin.train,
  scale: [80, 30],
  cropSize: [24, 24],
};

async function take(
  loader: SegDataLoader,
  n: number,
): Promise<{ images: Float32Array; labels: Int32Array; indices: number[] }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const b = await loader.nextHost();
    out.push({ images: b.images, labels: b.labels, indices: b.indices });
  }
  return out;
}

test('same seed ⇒ identical batches; another seed ⇒ different ones', async () => {
  const ds = await dataset();
  const a = await take(new SegDataLoader(ds, { batchSize: 2, seed: 7, pipeline }), 3);
  const b = await take(new SegDataLoader(ds, { batchSize: 2, seed: 7, pipeline }), 3);
  const c = await take(new SegDataLoader(ds, { batchSize: 2, seed: 8, pipeline }), 3);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0].images, c[0].images);
});

test('prefetch does not change the stream', async () => {
  const ds = await dataset();
  const a = await take(
    new SegDataLoader(ds, { batchSize: 3, seed: 1, pipeline, prefetch: true }),
    3,
  );
  const b = await take(
    new SegDataLoader(ds, { batchSize: 3, seed: 1, pipeline, prefetch: false }),
    3,
  );
  assert.deepEqual(a, b);
});

test('resume from a saved (JSON) state replays the uninterrupted stream exactly', async () => {
  const ds = await dataset();
  const full = await take(new SegDataLoader(ds, { batchSize: 2, seed: 3, pipeline }), 5);
  const first = new SegDataLoader(ds, { batchSize: 2, seed: 3, pipeline });
  await take(first, 3);
  const saved = JSON.parse(JSON.stringify(first.getState())) as LoaderState;
  assert.equal(saved.position, 6);
  assert.equal(saved.epoch, 1);
  const resumed = new SegDataLoader(ds, { batchSize: 2, seed: 3, pipeline }, saved);
  assert.deepEqual(await take(resumed, 2), full.slice(3));
  assert.throws(() => new SegDataLoader(ds, { batchSize: 2, seed: 4, pipeline }, saved), /seed 3/);
  assert.throws(
    () => new SegDataLoader(ds, { batchSize: 2, seed: 3, pipeline }, { ...saved, numSamples: 9 }),
    /same dataset/,
  );
});

test('infinite stream: each epoch is a permutation; batches straddle epochs', async () => {
  const ds = await dataset();
  const loader = new SegDataLoader(ds, { batchSize: 2, seed: 11, pipeline });
  const idx = Array.from({ length: 3 * N }, (_, k) => loader.indexAt(k));
  for (let e = 0; e < 3; e++)
    assert.deepEqual(idx.slice(e * N, (e + 1) * N).sort(), [0, 1, 2, 3, 4]);
  assert.notDeepEqual(idx.slice(0, N), idx.slice(N, 2 * N));
  const batches = await take(loader, 3); // positions 0..5: the third batch spans epochs 0 and 1
  assert.deepEqual(batches[2].indices, [idx[4], idx[5]]);
  const ordered = new SegDataLoader(ds, { batchSize: 2, seed: 11, pipeline, shuffle: false });
  assert.deepEqual(
    Array.from({ length: 7 }, (_, k) => ordered.indexAt(k)),
    [0, 1, 2, 3, 4, 0, 1],
  );
});

test('next() gives NHWC float32 images and int32 labels with 255 ignore', async () => {
  const ds = await dataset();
  const loader = new SegDataLoader(ds, { batchSize: 2, seed: 0, pipeline });
  const before = tf.memory().numTensors;
  const b = await loader.next();
  assert.deepEqual(b.images.shape, [2, 24, 24, 3]);
  assert.equal(b.images.dtype, 'float32');
  assert.deepEqual(b.labels.shape, [2, 24, 24]);
  assert.equal(b.labels.dtype, 'int32');
  const vals = new Set(b.labels.dataSync());
  for (const v of vals) assert.ok((v >= 0 && v < 150) || v === 255, `label ${v}`);
  tf.dispose([b.images, b.labels]);
  assert.equal(tf.memory().numTensors, before);
});

test('iterateTest visits every sample once in order, labels at original size', async () => {
  const ds = await dataset();
  const seen: number[] = [];
  for await (const s of iterateTest(ds, PIPELINE_PRESETS.builtin.test)) {
    seen.push(s.index);
    assert.equal(s.label.length, s.oriWidth * s.oriHeight);
    assert.equal(s.height, 128); // short side resized to 128
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
});
