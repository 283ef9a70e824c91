/**
 * The loop on a tiny model and a tiny ADE-layout dataset: loss goes down, checkpoints are
 * atomic, and a run stopped after a checkpoint and resumed ends with exactly the weights of an
 * uninterrupted run. A NaN loss stops training naming the iteration and the last checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { useBackend } from '../../test/helpers/parity.ts';
import { Module } from '../models/core/module.ts';
import { withInitSeed } from '../models/core/init.ts';
import { Conv2d } from '../models/layers/conv.ts';
import { BatchNorm2d } from '../models/layers/norm.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { tempDir, writeImage, writeLabel, twoValueLabel } from '../data/testing.ts';
import { buildDataset } from '../data/datasets.ts';
import { validateConfig } from '../config/compose.ts';
import { readLastCheckpoint } from './checkpoint.ts';
import { train, TrainingDivergedError, type TrainDeps } from './loop.ts';
import { trainPipeline, testPipeline } from './build.ts';

await useBackend(process.env.OFFSEG_BACKEND ? undefined : 'cpu');

class Tiny extends Module implements Segmentor {
  readonly numClasses = 150;
  readonly outputStride = 4;
  readonly sizeDivisor = 4;
  readonly c1: Conv2d;
  readonly bn: BatchNorm2d;
  readonly head: Conv2d;
  poison = false;
  constructor() {
    super();
    this.c1 = this.child('backbone.conv', new Conv2d(3, 8, { kernel: 3, stride: 4, padding: 1 }));
    this.bn = this.child('backbone.bn', new BatchNorm2d(8));
    this.head = this.child('decode_head.conv_seg', new Conv2d(8, 150, { kernel: 1 }));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.head.forward(tf.relu(this.bn.forward(this.c1.forward(x))));
      return this.poison ? (tf.mul(y, NaN) as tf.Tensor4D) : y;
    });
  }
}

async function fixture(): Promise<string> {
  const root = join(tempDir('offseg-loop-'), 'ADEChallengeData2016');
  for (const [split, prefix, n] of [
    ['training', 'ADE_train_', 6],
    ['validation', 'ADE_val_', 2],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const name = `${prefix}${String(i + 1).padStart(8, '0')}`;
      await writeImage(join(root, 'images', split, `${name}.jpg`), 40, 32, i + 1);
      writeLabel(
        join(root, 'annotations', split, `${name}.png`),
        twoValueLabel(40, 32, 1 + (i % 3), 1 + ((i + 1) % 3)),
        40,
        32,
      );
    }
  }
  return root;
}

function config(root: string, iterations: number) {
  return validateConfig(
    {
      model: { name: 'tiny', numClasses: 150 },
      data: {
        dataset: { type: 'ade20k', dataRoot: root },
        train: { scale: [64, 32], crop: [32, 32] },
        test: { scale: [64, 32], mode: 'whole' },
        batchSize: 4,
        accumulate: 2,
      },
      optimizer: {
        type: 'AdamW',
        lr: 0.01,
        weightDecay: 0.01,
        customKeys: { head: { lrMult: 10 }, bn: { decayMult: 0 } },
      },
      schedule: { iterations, warmupIters: 2 },
      runtime: {
        seed: 3,
        logInterval: 1,
        evalInterval: 100,
        checkpointInterval: 3,
        keepCheckpoints: 0,
      },
    },
    'test.json',
  );
}

async function deps(root: string, model: Tiny, extra: Partial<TrainDeps> = {}): Promise<TrainDeps> {
  const cfg = config(root, 1);
  return {
    model,
    trainSet: await buildDataset({ type: 'ade20k', dataRoot: root, split: 'train' }),
    valSet: await buildDataset({ type: 'ade20k', dataRoot: root, split: 'val' }),
    trainPipeline: trainPipeline(cfg),
    testPipeline: testPipeline(cfg),
    ...extra,
  };
}

const weights = (m: Module) =>
  m
    .namedParameters()
    .concat(m.namedBuffers())
    .map((e) => Array.from(e.variable.dataSync()));

test('resume after a stop gives exactly the weights of an uninterrupted run', async () => {
  const root = await fixture();
  const cfg = config(root, 6);
  const dirA = tempDir('runA-');
  const a = withInitSeed(1, () => new Tiny());
  const losses: number[] = [];
  const ra = await train(
    cfg,
    'h',
    dirA,
    await deps(root, a, { onIteration: (e) => losses.push(e.loss) }),
  );
  assert.equal(ra.iteration, 6);
  assert.ok(existsSync(join(dirA, 'iter_3.ckpt')) && existsSync(join(dirA, 'iter_6.ckpt')));
  assert.ok(ra.lastEval && ra.lastEval.numImages === 2);
  assert.equal(
    readFileSync(join(dirA, 'log.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"train"')).length,
    6,
  );

  const dirB = tempDir('runB-');
  mkdirSync(dirB, { recursive: true });
  const b1 = withInitSeed(1, () => new Tiny());
  const stopped = await train(cfg, 'h', dirB, await deps(root, b1, { stopAfter: 4 }));
  assert.equal(stopped.iteration, 4);
  assert.deepEqual(
    readdirSync(dirB).filter((f) => f.endsWith('.ckpt')),
    ['iter_3.ckpt'],
  );
  const b2 = withInitSeed(99, () => new Tiny()); // different init: everything must come from the checkpoint
  await train(cfg, 'h', dirB, await deps(root, b2), readLastCheckpoint(dirB));
  assert.deepEqual(weights(b2), weights(a));
});

test('a NaN loss stops training naming the iteration and the last good checkpoint', async () => {
  const root = await fixture();
  const cfg = config(root, 6);
  const dir = tempDir('runN-');
  const m = withInitSeed(1, () => new Tiny());
  let n = 0;
  await assert.rejects(
    train(
      cfg,
      'h',
      dir,
      await deps(root, m, {
        onIteration: () => {
          if (++n === 4) m.poison = true;
        },
      }),
    ),
    (e: Error) =>
      e instanceof TrainingDivergedError &&
      /iteration 5/.test(e.message) &&
      /iter_3\.ckpt/.test(e.message),
  );
});

test('an abort (Ctrl-C) before the first checkpoint saves one there; resuming gives the uninterrupted weights', async () => {
  const root = await fixture();
  const cfg = config(root, 4);
  const a = withInitSeed(1, () => new Tiny());
  await train(cfg, 'h', tempDir('runI0-'), await deps(root, a));

  const dir = tempDir('runI-');
  mkdirSync(dir, { recursive: true });
  const ctl = new AbortController();
  const b1 = withInitSeed(1, () => new Tiny());
  const stopped = await train(
    cfg,
    'h',
    dir,
    await deps(root, b1, {
      signal: ctl.signal,
      onIteration: (e) => {
        if (e.iteration === 2) ctl.abort('SIGINT');
      },
    }),
  );
  assert.deepEqual(
    [stopped.iteration, stopped.interrupted, stopped.lastCheckpoint],
    [2, 'SIGINT', join(dir, 'iter_2.ckpt')],
  );
  assert.equal(readLastCheckpoint(dir), join(dir, 'iter_2.ckpt'));
  const last = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').pop()!;
  assert.deepEqual(
    (({ event, reason, iteration }) => ({ event, reason, iteration }))(JSON.parse(last)),
    { event: 'interrupted', reason: 'SIGINT', iteration: 2 },
  );

  const b2 = withInitSeed(99, () => new Tiny());
  const resumed: unknown[] = [];
  await train(
    cfg,
    'h',
    dir,
    await deps(root, b2, { onResume: (e) => resumed.push(e) }),
    readLastCheckpoint(dir),
  );
  assert.deepEqual(resumed, [
    { from: join(dir, 'iter_2.ckpt'), iteration: 2, total: 4, bestMIoU: null },
  ]);
  assert.deepEqual(weights(b2), weights(a));
  assert.deepEqual(
    readdirSync(dir)
      .filter((f) => f.endsWith('.ckpt'))
      .sort(),
    ['iter_3.ckpt', 'iter_4.ckpt'],
    'the interrupt checkpoint goes once an interval one exists',
  );

  // Aborted before any step: nothing to save.
  const early = new AbortController();
  early.abort('SIGTERM');
  const dir0 = tempDir('runI2-');
  mkdirSync(dir0, { recursive: true });
  const r0 = await train(
    cfg,
    'h',
    dir0,
    await deps(
      root,
      withInitSeed(1, () => new Tiny()),
      { signal: early.signal },
    ),
  );
  assert.deepEqual([r0.iteration, r0.interrupted, r0.lastCheckpoint], [0, 'SIGTERM', undefined]);
  assert.deepEqual(
    readdirSync(dir0).filter((f) => f.endsWith('.ckpt')),
    [],
  );
});
