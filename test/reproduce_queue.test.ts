/**
 * `npm run reproduce -- --redis URL [--store DIR]`: the flags (scripts/reproduce_args.ts), and the
 * proxy study of the quick protocol trained on a real Redis queue by a worker, against the serial
 * path (the same run trained in this process, as the notebooks do without --redis): the result
 * JSON collected into the checkout and the run's final checkpoint are the serial path's.
 *
 * To keep the test to minutes on two cores, one run really trains on each path — OffSeg-T, seed 0,
 * the quick fine-tuning (10 iterations at 64², the variant both tables share) — from the same
 * backbone file: an untrained EfficientFormerV2-S1 exported where the quick pretraining would
 * write its backbone (the real quick pretraining takes about 14 minutes here). The other variants
 * are already finished in the store, as after an earlier sweep, and are only collected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { UserError } from '../lib/cli/errors.ts';
import type { RunConfig } from '../lib/config/schema.ts';
import { exportPth } from '../lib/io/checkpoint.ts';
import { createModel } from '../lib/models/registry.ts';
import type { OffSeg } from '../lib/models/offseg.ts';
import { gridModels } from '../lib/sweep/grids.ts';
import { resolveRun } from '../lib/sweep/spec.ts';
import { runProxyStudyOnQueue } from '../lib/sweep/study_queue.ts';
import { runWorker } from '../lib/sweep/worker.ts';
import { loadCheckpoint } from '../lib/train/checkpoint.ts';
import type { CheckpointMeta } from '../lib/train/loop.ts';
import { backbonePath, pretrainConfig, runProxy, type ProxyResult } from '../lib/train/proxy.ts';
import { parseReproduceArgs, shownCommand } from '../scripts/reproduce_args.ts';
import { useBackend } from './helpers/parity.ts';
import { redisSkip, redisTestFixture, writeJsonFile as writeJson } from './helpers/redis.ts';

test('reproduce flags: none changes nothing; --redis URL --store DIR; bad combinations named', () => {
  assert.deepEqual(parseReproduceArgs([]), {
    help: false,
    quick: false,
    skipTrain: false,
    yes: false,
    only: undefined,
    redis: undefined,
    store: undefined,
  });
  const a = parseReproduceArgs([
    '--quick',
    '--redis',
    'redis://10.0.0.5:6380',
    '--store',
    'shared',
  ]);
  assert.equal(a.redis, 'redis://10.0.0.5:6380');
  assert.equal(a.store, join(process.cwd(), 'shared'));
  assert.equal(a.quick, true);
  assert.deepEqual(parseReproduceArgs(['--only=04,demo', '-y']).only, ['04', 'demo']);
  const bad: [string[], RegExp][] = [
    [['--store', '/mnt/x'], /--store .* goes with --redis URL/],
    [
      ['--redis', 'localhost:6379'],
      /--redis takes a URL like redis:\/\/127\.0\.0\.1:6379, got 'localhost:6379'/,
    ],
    [['--redis', 'redis://h:1', '--skip-train'], /--skip-train trains nothing: choose one/],
    [['--only', '4,6'], /--only takes notebook numbers and\/or demo.*got '4,6'/],
    [['--reddis', 'redis://h:1'], /reddis/],
  ];
  for (const [argv, re] of bad)
    assert.throws(
      () => parseReproduceArgs(argv),
      (e: Error) => e instanceof UserError && re.test(e.message),
      argv.join(' '),
    );
  assert.equal(
    shownCommand(['--redis', 'redis://user:s3cret@q:6379', '--quick']),
    'npm run reproduce -- --redis redis://user:***@q:6379 --quick',
  );
});

const skip = redisSkip();
const fx = redisTestFixture('offseg-reproduce-queue-', () => useBackend('wasm'));
const tmp = fx.tmp;

/** The quick pretraining's backbone and record in `root` (a copy of `from` when given). */
function standInBackbone(root: string, from?: string): string {
  const path = backbonePath(true, root);
  mkdirSync(dirname(path), { recursive: true });
  const { config, hash } = pretrainConfig(true);
  if (from) copyFileSync(from, path);
  else {
    const m = createModel(config.model.name, {
      numClasses: config.model.numClasses,
      seed: config.runtime.seed,
    }) as OffSeg;
    exportPth(m.backbone, path, { config: JSON.stringify(config), configHash: hash });
    m.dispose();
  }
  writeJson(join(root, 'results/proxy/runs/pretrain-quick.json'), {
    mode: 'quick',
    configHash: hash,
    path: relative(root, path),
    mIoU: 0,
    iterations: 0,
    seconds: 0,
    backend: 'wasm',
    threads: 1,
  });
  return path;
}

/** A run config without where its root keeps the backbone file. */
function withoutInit(c: RunConfig): unknown {
  return { ...c, model: { ...c.model, init: { ...c.model.init, checkpoint: undefined } } };
}

/** A result JSON without what differs between two runs of it: wall time and finish time. */
function comparable(path: string): Record<string, unknown> {
  const r = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  delete r.seconds;
  delete r.finished;
  return r;
}

test(
  'reproduce --quick --redis --store: the proxy study trains on the queue and gives the serial path’s result JSON and checkpoint',
  { skip, timeout: 900_000 },
  async () => {
    const store = join(tmp, 'store');
    const out = join(tmp, 'checkout');
    const serial = join(tmp, 'serial');
    const backbone = standInBackbone(store);
    standInBackbone(serial, backbone);
    const trained = 'offseg-t';
    const models = [...new Set([...gridModels('table6'), ...gridModels('table7')])];
    for (const model of models.filter((m) => m !== trained)) {
      const run = resolveRun({ kind: 'proxy', model, seed: 0, mode: 'quick' }, store);
      writeJson(join(store, run.result), { model, seed: 0, mIoU: 1, configHash: run.configHash });
    }

    const args = parseReproduceArgs(['--quick', '--redis', fx.redis().url, '--store', store]);
    const stop = new AbortController();
    const lines: string[] = [];
    const worker = runWorker({
      redis: fx.redis().url,
      store,
      queue: 'reproduce',
      backend: 'wasm',
      signal: stop.signal,
      log: () => {},
    });
    try {
      const report = await runProxyStudyOnQueue({
        redis: args.redis!,
        quick: args.quick,
        store: args.store,
        out,
        queue: 'reproduce',
        pollMs: 500,
        log: (l) => lines.push(l),
      });
      assert.equal(report.runs, models.length + 1, lines.join('\n')); // + the pretraining
      assert.deepEqual(report.extended, { table6: [], table7: [] }); // quick mode: base seeds only
    } finally {
      stop.abort();
      await worker;
    }
    assert.match(lines.join('\n'), /collected \d+ files/);
    for (const model of models)
      assert.ok(existsSync(join(out, `results/proxy/runs/${model}-s0-quick.json`)), model);

    // The serial path: the same run in this process, as notebook 04 trains it without --redis.
    const r = (await runProxy({ model: trained, seed: 0, quick: true, root: serial }))!;
    const file = `results/proxy/runs/${trained}-s0-quick.json`;
    const queued = comparable(join(out, file));
    assert.deepEqual(queued, comparable(join(serial, file)));
    assert.equal((queued as unknown as ProxyResult).iterations, 10);
    // The checkpoint: every tensor (weights, optimiser moments) byte for byte, and the training
    // state; its config differs only in where each root keeps the backbone file.
    const a = loadCheckpoint<CheckpointMeta>(join(out, r.checkpoint));
    const b = loadCheckpoint<CheckpointMeta>(join(serial, r.checkpoint));
    assert.deepEqual([...a.tensors.keys()], [...b.tensors.keys()]);
    assert.ok(a.tensors.size > 100, `${a.tensors.size} tensors`);
    for (const [k, t] of a.tensors) {
      const u = b.tensors.get(k)!;
      assert.ok(
        Buffer.from((await t.data()).buffer).equals(Buffer.from((await u.data()).buffer)),
        `${k} differs between the queue and the serial path`,
      );
    }
    for (const t of [...a.tensors.values(), ...b.tensors.values()]) t.dispose();
    const { config: ca, ...ma } = a.meta;
    const { config: cb, ...mb } = b.meta;
    assert.deepEqual(ma, mb);
    assert.deepEqual(withoutInit(ca), withoutInit(cb));
    assert.equal(ca.model.init?.checkpoint, backbonePath(true, store));
    assert.equal(cb.model.init?.checkpoint, backbonePath(true, serial));
  },
);
