/**
 * Sweeps without training: bad input (unknown grid, malformed run file, unreachable Redis), an
 * idempotent submit against a real Redis, a worker refusing a job from other code, and the proxy
 * path through the queue on a store whose runs are already cached (pretraining first, result
 * JSONs collected byte for byte; a failed pretraining fails the runs that wait for it), and the
 * reproduce hook's seed policy over the queue.
 * Training through workers (2 workers, Redis restart, SIGKILL) is in distributed.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  freePort,
  redisSkip,
  redisTestFixture,
  writeJsonFile as writeJson,
} from '../../test/helpers/redis.ts';
import { backbonePath, pretrainConfig } from '../train/proxy.ts';
import { collectResults, completedRuns } from './collect.ts';
import { parseSeeds, sweepSpecs } from './grids.ts';
import { checkRedisUrl, openQueue, probeRedis, RedisUnreachableError } from './redis.ts';
import { resolveRun, SpecError, type RunSpec } from './spec.ts';
import { loggedIteration, ProgressTracker } from './progress.ts';
import { formatStatus, sweepStatus } from './status.ts';
import { runProxyStudyOnQueue } from './study_queue.ts';
import { submitRuns } from './submit.ts';
import { waitForRuns } from './wait.ts';
import { runWorker, WorkerRefusedError } from './worker.ts';

const skip = redisSkip();
const fx = redisTestFixture('offseg-sweep-');
const tmp = fx.tmp;

/** Assert that `f` throws an error whose message matches `re`; return it. */
function throwsMatching(f: () => unknown, re: RegExp): Error & { fix?: string } {
  let err: (Error & { fix?: string }) | undefined;
  try {
    f();
  } catch (e) {
    err = e as Error & { fix?: string };
  }
  assert.ok(err, `expected an error matching ${re}`);
  assert.match(err.message, re);
  return err;
}

test('bad input: unknown grid, malformed run file entries, bad seeds, unreachable or malformed Redis URL', async () => {
  const e = throwsMatching(
    () => sweepSpecs('tabel6', 'quick'),
    /unknown grid 'tabel6' \(did you mean table6\?\)/,
  );
  assert.ok(e instanceof SpecError && /--grid table6/.test(e.fix ?? ''));
  const file = join(tmp, 'runs.json');
  const runFile = (v: unknown) => {
    writeFileSync(file, typeof v === 'string' ? v : JSON.stringify(v));
    return () => sweepSpecs(file, 'quick');
  };
  throwsMatching(runFile('{"runs": ['), /runs\.json is not valid JSON/);
  throwsMatching(runFile({ runs: [] }), /expected a non-empty list of runs/);
  throwsMatching(
    runFile([{ model: 'offseg-t' }, { model: 'offseg-t-cx' }]),
    /runs\.json: runs\[1\]: "model": "offseg-t-cx" is not a proxy variant \(did you mean 'offseg-t-co'\?\)/,
  );
  throwsMatching(
    runFile([{ model: 'offseg-t', sed: [1] }]),
    /runs\[0\]: unknown key 'sed' \(did you mean 'seeds'\?\)/,
  );
  throwsMatching(
    runFile([{ model: 'offseg-t', seeds: [-1] }]),
    /runs\[0\]: "seeds" must be a non-empty list of non-negative integers/,
  );
  throwsMatching(
    runFile([{ model: 'offseg-t', config: 'x.json' }]),
    /runs\[0\]: give exactly one of "model"/,
  );
  throwsMatching(
    runFile([{ config: 'configs/nope.json' }]),
    /runs\[0\]: config configs\/nope\.json not found in this checkout/,
  );
  const cfg = 'configs/builtin/offseg-t_builtin-128_quick.json';
  throwsMatching(
    runFile([{ config: cfg, overrides: ['iterations'] }]),
    /runs\[0\]: "overrides" must be a list of "key\.path=value" strings/,
  );
  throwsMatching(
    runFile([{ config: cfg }, { config: cfg, overrides: ['schedule.iterashuns=5'] }]),
    /runs\[1\]: .*iterashuns/,
  );
  assert.equal(
    runFile({ runs: [{ config: cfg, seeds: [0, 1] }, { model: 'offseg-t' }] })().length,
    3,
  );
  throwsMatching(() => parseSeeds('0,x,2'), /--seeds: 'x' in '0,x,2' is not a seed/);
  assert.deepEqual(parseSeeds('2,0,2'), [2, 0]);

  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  await assert.rejects(probeRedis(url), (err: Error & { fix?: string }) => {
    assert.ok(err instanceof RedisUnreachableError);
    assert.equal(err.message, `cannot reach Redis at ${url} (ECONNREFUSED)`);
    assert.match(err.fix ?? '', new RegExp(`redis-server --port ${port}`));
    return true;
  });
  throwsMatching(
    () => checkRedisUrl('localhost:6379'),
    /--redis takes a URL like redis:\/\/127\.0\.0\.1:6379, got 'localhost:6379'/,
  );
});

test(
  'a duplicate submit queues nothing; a run already in the store is not queued',
  { skip, timeout: 120_000 },
  async () => {
    const store = join(tmp, 'dup');
    const queue = openQueue(fx.redis().url, 'dup');
    try {
      const opts = { store, version: 'v1', sweep: 'table6' };
      const first = await submitRuns(queue, sweepSpecs('table6', 'quick'), opts);
      const pre = resolveRun({ kind: 'pretrain', mode: 'quick' }, store).id;
      assert.equal(first.queued.length, 6); // 5 variants × seed 0, and their pretraining
      assert.equal(first.queued[0], pre);
      const again = await submitRuns(queue, sweepSpecs('table6', 'quick'), opts);
      assert.deepEqual(again.queued, []);
      assert.equal(again.alreadyQueued.length, 6);
      // Table 7 shares offseg-t-pp (C = 256) and offseg-t with Table 6: only the widths are new.
      const t7 = await submitRuns(queue, sweepSpecs('table7', 'quick'), {
        ...opts,
        sweep: 'table7',
      });
      assert.equal(t7.queued.length, 6);
      assert.ok(t7.alreadyQueued.some((id) => id.startsWith('proxy-offseg-t-s0-quick-')));
      const counts = await queue.getJobCounts();
      assert.equal(counts.waiting + counts.prioritized, 12);

      // A finished result in the store (same config hash) counts as done on another queue.
      const run = resolveRun({ kind: 'proxy', model: 'offseg-t', seed: 0, mode: 'quick' }, store);
      writeJson(join(store, run.result), { mIoU: 1, configHash: run.configHash });
      const q2 = openQueue(fx.redis().url, 'dup-stored');
      try {
        const r = await submitRuns(q2, [run.spec], opts);
        assert.deepEqual(r.done, [run.id]);
        assert.deepEqual(r.queued, [pre]); // its pretraining is not in the store
        assert.equal(await q2.getJob(run.id), undefined);
      } finally {
        await q2.close();
      }
    } finally {
      await queue.close();
    }
  },
);

test(
  'a worker refuses a job submitted from other code or config: the job goes back, nothing runs',
  { skip, timeout: 120_000 },
  async () => {
    const store = join(tmp, 'refuse');
    mkdirSync(store, { recursive: true });
    const spec: RunSpec = {
      kind: 'config',
      config: 'configs/builtin/offseg-t_builtin-128_quick.json',
      overrides: [],
    };
    const run = resolveRun(spec, store);
    for (const [name, data, re] of [
      [
        'refuse-version',
        { version: 'abc123' },
        /refusing job config-.*: it was submitted from code version abc123, this worker runs def456/,
      ],
      [
        'refuse-config',
        { version: 'def456', configHash: '0123456789ab' },
        /its config hashes to [0-9a-f]{12} in this checkout, not 0123456789ab as submitted/,
      ],
    ] as const) {
      const queue = openQueue(fx.redis().url, name);
      try {
        const job = { spec, configHash: run.configHash, sweep: 'x', submitted: '', ...data };
        await queue.add('config', job, { jobId: run.id });
        const lines: string[] = [];
        await assert.rejects(
          runWorker({
            redis: fx.redis().url,
            store,
            queue: name,
            version: 'def456',
            log: (l) => lines.push(l),
          }),
          (e: Error & { fix?: string }) => {
            assert.ok(e instanceof WorkerRefusedError);
            assert.match(e.message, re);
            if (name === 'refuse-version') assert.match(e.fix ?? '', /check out abc123/);
            return true;
          },
        );
        const state = await (await queue.getJob(run.id))!.getState();
        assert.ok(state === 'waiting' || state === 'prioritized', `job left ${state}`);
        assert.equal(existsSync(join(store, run.workDir)), false);
      } finally {
        await queue.close();
      }
    }
  },
);

test(
  'proxy runs through the queue: pretraining first, cached runs collected byte for byte; a failed pretraining fails its runs',
  { skip, timeout: 120_000 },
  async () => {
    const store = join(tmp, 'proxy-store');
    const out = join(tmp, 'proxy-out');
    const queue = openQueue(fx.redis().url, 'proxy');
    const stop = new AbortController();
    try {
      const specs = sweepSpecs('table6', 'quick').slice(1, 2);
      const sub = await submitRuns(queue, specs, { store, version: 'v1', sweep: 'table6' });
      assert.equal(sub.queued.length, 2);
      // Stand-ins (training takes minutes): the pretraining's backbone and record, and each run's
      // result JSON with its config hash, so the engine reuses them as it would a finished run.
      mkdirSync(dirname(backbonePath(true, store)), { recursive: true });
      writeFileSync(backbonePath(true, store), 'stand-in backbone');
      writeJson(join(store, 'results/proxy/runs/pretrain-quick.json'), {
        mode: 'quick',
        configHash: pretrainConfig(true).hash,
        path: backbonePath(true, store).slice(store.length + 1),
        mIoU: 7,
        iterations: 20,
        seconds: 1,
        backend: 'wasm',
        threads: 1,
      });
      for (const [i, s] of specs.entries()) {
        const run = resolveRun(s, store);
        writeJson(join(store, run.workDir, 'iter_10.ckpt'), { standIn: i });
        writeJson(join(store, run.result), {
          model: run.name,
          mIoU: 11 + i,
          iterations: 10,
          seconds: 1,
          configHash: run.configHash,
          checkpoint: `${run.workDir}/iter_10.ckpt`,
        });
      }
      const worker = runWorker({
        redis: fx.redis().url,
        store,
        queue: 'proxy',
        version: 'v1',
        signal: stop.signal,
        log: () => {},
      });
      await waitForRuns(
        queue,
        sub.runs.map((r) => r.id),
        { pollMs: 200 },
      );
      const [pre, proxy] = await Promise.all(sub.runs.map((r) => queue.getJob(r.id)));
      assert.equal(pre!.data.spec.kind, 'pretrain');
      assert.ok(
        pre!.finishedOn! <= proxy!.processedOn!,
        'the run started before its pretraining ended',
      );
      const rows = await sweepStatus(queue);
      assert.deepEqual(
        rows.map((r) => r.state),
        ['done', 'done'],
      );
      assert.match(
        formatStatus(rows),
        /proxy-offseg-t-pp-s0-quick-[0-9a-f]{12}\s+done\s+\S+\s+mIoU 11/,
      );
      const c = collectResults(await completedRuns(queue, store), { store, out });
      for (const r of sub.runs)
        assert.ok(
          readFileSync(join(out, r.result)).equals(readFileSync(join(store, r.result))),
          r.result,
        );
      assert.ok(c.written.some((f) => f.endsWith('iter_10.ckpt')));
      assert.equal(
        collectResults(await completedRuns(queue, store), { store, out }).written.length,
        0,
      );
      stop.abort();
      await worker;

      // Full mode, nothing cached, OFFSEG_SKIP_TRAIN on the worker: the pretraining fails, and so
      // do the runs waiting for it, saying why.
      const q2 = openQueue(fx.redis().url, 'proxy-fail');
      const stop2 = new AbortController();
      const prev = process.env.OFFSEG_SKIP_TRAIN;
      process.env.OFFSEG_SKIP_TRAIN = '1';
      try {
        const sub2 = await submitRuns(
          q2,
          [{ kind: 'proxy', model: 'offseg-t', seed: 0, mode: 'full' }],
          { store, version: 'v1', sweep: 'x' },
        );
        const w2 = runWorker({
          redis: fx.redis().url,
          store,
          queue: 'proxy-fail',
          version: 'v1',
          signal: stop2.signal,
          log: () => {},
        });
        await assert.rejects(
          waitForRuns(
            q2,
            sub2.runs.map((r) => r.id),
            { pollMs: 200 },
          ),
          (e: Error) => {
            assert.match(
              e.message,
              /pretrain-full-[0-9a-f]{12}: OFFSEG_SKIP_TRAIN=1 is set on this worker/,
            );
            assert.match(
              e.message,
              /proxy-offseg-t-s0-full-[0-9a-f]{12}: its pretraining pretrain-full-[0-9a-f]{12} failed/,
            );
            return true;
          },
        );
        stop2.abort();
        await w2;
      } finally {
        if (prev === undefined) delete process.env.OFFSEG_SKIP_TRAIN;
        else process.env.OFFSEG_SKIP_TRAIN = prev;
        await q2.close();
      }
    } finally {
      stop.abort();
      await queue.close();
    }
  },
);

test(
  'reproduce --redis: the proxy study runs on the queue, extra seeds go to close claims per table, results land in the checkout',
  { skip, timeout: 120_000 },
  async () => {
    const store = join(tmp, 'study-store');
    const out = join(tmp, 'study-out');
    mkdirSync(store, { recursive: true });
    // Proxy mIoU per variant: seeds at mean − 0.1, mean, mean + 0.1. Two pairs are within two
    // standard deviations: feature vs class offset (Table 6), OffSeg-T vs C = 1024 (Table 7).
    const means: Record<string, number> = {
      'offseg-t-conv-pp': 30,
      'offseg-t-pp': 40,
      'offseg-t-co': 50,
      'offseg-t-fo': 50.1,
      'offseg-t': 60,
      'offseg-t-pp-c64': 10,
      'offseg-t-pp-c128': 15,
      'offseg-t-pp-c512': 20,
      'offseg-t-pp-c768': 25,
      'offseg-t-pp-c1024': 60.05,
      'offseg-t-pp-c2048': 35,
    };
    const queue = openQueue(fx.redis().url, 'study');
    const stop = new AbortController();
    try {
      const study = runProxyStudyOnQueue({
        redis: fx.redis().url,
        quick: false,
        store,
        out,
        queue: 'study',
        pollMs: 100,
        log: () => {},
      });
      // Once the base seeds are queued, the runs "finish" elsewhere: stand-in results in the store.
      for (let t = Date.now(); (await queue.getJobCounts()).prioritized < 33;)
        if (Date.now() - t > 30_000) throw new Error('the base seeds were not queued');
        else await new Promise((r) => setTimeout(r, 50));
      mkdirSync(dirname(backbonePath(false, store)), { recursive: true });
      writeFileSync(backbonePath(false, store), 'stand-in backbone');
      writeJson(join(store, 'results/proxy/runs/pretrain-full.json'), {
        mode: 'full',
        configHash: pretrainConfig(false).hash,
        path: backbonePath(false, store).slice(store.length + 1),
        mIoU: 70,
        iterations: 1600,
        seconds: 1,
        backend: 'wasm',
        threads: 1,
      });
      for (const [model, mean] of Object.entries(means))
        for (const seed of [0, 1, 2, 3, 4]) {
          const run = resolveRun({ kind: 'proxy', model, seed, mode: 'full' }, store);
          const mIoU = mean + (Math.min(seed, 2) - 1) * 0.1;
          writeJson(join(store, run.result), { model, seed, mIoU, configHash: run.configHash });
        }
      const worker = runWorker({
        redis: fx.redis().url,
        store,
        queue: 'study',
        signal: stop.signal,
        log: () => {},
      });
      const report = await study;
      assert.deepEqual(report.extended, {
        table6: ['offseg-t-co', 'offseg-t-fo'],
        table7: ['offseg-t', 'offseg-t-pp-c1024'],
      });
      const extended = [...report.extended.table6, ...report.extended.table7];
      for (const model of Object.keys(means))
        for (const seed of [0, 1, 2, 3, 4])
          assert.equal(
            existsSync(join(out, `results/proxy/runs/${model}-s${seed}-full.json`)),
            seed < 3 || extended.includes(model),
            `${model} seed ${seed}`,
          );
      assert.ok(existsSync(join(out, 'results/proxy/runs/pretrain-full.json')));
      stop.abort();
      await worker;
    } finally {
      stop.abort();
      await queue.close();
    }
  },
);

test('progress: iteration from the run log (a torn last line ignored), rate and ETA over this attempt, the status row', () => {
  const dir = join(tmp, 'progress');
  mkdirSync(dir, { recursive: true });
  const lines = [10, 20, 30].map((it) => JSON.stringify({ event: 'train', iteration: it }));
  writeFileSync(join(dir, 'log.jsonl'), `${lines.join('\n')}\n{"event":"train","iteration":4`);
  assert.equal(loggedIteration(dir), 30);
  assert.equal(loggedIteration(join(tmp, 'no-such-run')), 0);

  let now = 1_000_000;
  const tracker = new ProgressTracker('hostA:42', 100, () => now);
  assert.equal(tracker.update(30).etaSeconds, null); // one reading: no rate yet
  now += 20_000;
  const p = tracker.update(50);
  assert.equal(p.itPerSec, 1); // 20 iterations in 20 s
  assert.equal(p.etaSeconds, 50);
  assert.equal(p.resumedFrom, 30);
  const row = {
    id: 'config-x-s0-abc',
    state: 'running' as const,
    sweep: 'x',
    worker: p.worker,
    progress: p,
    attempts: 2,
    submitted: 0,
  };
  const text = formatStatus([row], now + 1000);
  assert.match(
    text,
    /config-x-s0-abc\s+running\s+hostA:42\s+50\/100\s+0:50\s+attempt 2, resumed at iteration 30/,
  );
  assert.match(text, /1 runs: 1 running, 0 queued/);
  assert.match(formatStatus([row], now + 120_000), /\(no report for 2:00\)/);
});
