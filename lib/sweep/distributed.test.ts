/**
 * Sweeps across worker processes (`offseg worker`) on a real Redis, with tiny config runs
 * (SegFormer-B0, built-in data at 32², 3 iterations, a checkpoint every iteration):
 *   - two workers, Redis restarted while both train: both reconnect, keep their jobs, and the
 *     result JSONs and final weights equal the serial path's (the same runs trained in-process);
 *   - a worker killed with SIGKILL mid-run: another takes the job once its lease expires, resumes
 *     from the last checkpoint in the shared store, and ends with byte-identical final weights.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../test/helpers/parity.ts';
import { redisSkip, startRedis, type TestRedis } from '../../test/helpers/redis.ts';
import { repoRoot } from '../paths.ts';
import { runConfigRun } from './config_run.ts';
import { openQueue } from './redis.ts';
import { codeVersion, resolveRun, type ConfigSpec } from './spec.ts';
import { sweepStatus } from './status.ts';
import { submitRuns } from './submit.ts';
import { waitForRuns } from './wait.ts';

const skip = redisSkip();
const tmp = mkdtempSync(join(tmpdir(), 'offseg-distributed-'));
let redis: TestRedis;
const workers: ChildProcess[] = [];
before(async () => {
  if (skip) return;
  await useBackend('wasm');
  redis = await startRedis();
});
after(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const CONFIG = join(tmp, 'sweep-tiny.json');
writeFileSync(
  CONFIG,
  JSON.stringify({
    name: 'sweep-tiny',
    model: { name: 'segformer-b0', numClasses: 22 },
    data: {
      dataset: {
        type: 'builtin',
        builtin: { seed: 0, height: 32, width: 32, numTrain: 8, numVal: 2, glyphs: 'mnist' },
      },
      train: { scale: [32, 32], ratioRange: [1, 1], crop: [32, 32], photometric: false },
      test: { scale: [32, 32], mode: 'whole' },
      batchSize: 2,
      accumulate: 1,
    },
    optimizer: { type: 'AdamW', lr: 1e-3, betas: [0.9, 0.999], weightDecay: 0.01, customKeys: {} },
    schedule: { iterations: 3, warmupIters: 1 },
    runtime: {
      seed: 0,
      logInterval: 1,
      evalInterval: 100,
      checkpointInterval: 1,
      keepCheckpoints: 0,
    },
  }),
);
const spec = (seed: number): ConfigSpec => ({
  kind: 'config',
  config: CONFIG,
  overrides: [],
  seed,
});

/** The serial path: the same runs trained one after the other in this process (computed once). */
let serial: Promise<string> | undefined;
function serialStore(): Promise<string> {
  serial ??= (async () => {
    const store = join(tmp, 'serial');
    for (const seed of [0, 1]) await runConfigRun(spec(seed), store);
    return store;
  })();
  return serial;
}

/**
 * A result JSON without what differs between any two runs of it: wall time, finish time, and the
 * commit (provenance: other commits may land in the checkout while the test runs).
 */
function resultOf(store: string, seed: number): Record<string, unknown> {
  const run = resolveRun(spec(seed), store);
  const r = JSON.parse(readFileSync(join(store, run.result), 'utf8')) as Record<string, unknown>;
  delete r.seconds;
  delete r.finished;
  delete r.gitCommit;
  return r;
}

function finalWeights(store: string, seed: number): Buffer {
  return readFileSync(join(store, resolveRun(spec(seed), store).workDir, 'final.pth'));
}

interface WorkerProc {
  proc: ChildProcess;
  name: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(store: string, queue: string, lease: number): WorkerProc {
  const proc = spawn(
    process.execPath,
    [
      join(repoRoot(), 'bin/offseg.mjs'),
      'worker',
      '--redis',
      redis.url,
      '--store',
      store,
      '--queue',
      queue,
      '--lease',
      String(lease),
      '--backend',
      'wasm',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  workers.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d));
  proc.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, name: `${hostname()}:${proc.pid}`, output: () => out, exited };
}

/** True while every worker runs; throws with their output once one has exited. */
function alive(ws: readonly WorkerProc[]): true {
  const dead = ws.find((w) => w.proc.exitCode !== null || w.proc.signalCode !== null);
  if (dead) throw new Error(`worker ${dead.name} exited early:\n${dead.output()}`);
  return true;
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  context: () => string,
  ms = 180_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  "two workers, Redis restarted mid-sweep: the serial path's result JSONs and weights",
  { skip, timeout: 600_000 },
  async () => {
    const ref = await serialStore();
    const store = join(tmp, 'two');
    mkdirSync(store, { recursive: true });
    const queue = openQueue(redis.url, 'two');
    try {
      const version = codeVersion();
      const sub = await submitRuns(queue, [spec(0), spec(1)], { store, version, sweep: 'tiny' });
      assert.equal(sub.queued.length, 2);
      const w = [startWorker(store, 'two', 10), startWorker(store, 'two', 10)];
      const running = await until(
        'both jobs running',
        async () => {
          alive(w);
          const rows = await sweepStatus(queue);
          return rows.filter((r) => r.state === 'running').length === 2 ? rows : undefined;
        },
        () => w.map((x) => x.output()).join('\n'),
      );
      assert.equal(running.length, 2);
      await redis.restart();
      const jobs = await waitForRuns(
        queue,
        sub.runs.map((r) => r.id),
        { pollMs: 200 },
      );
      // Each worker kept its job across the restart (no re-take), and both worked.
      assert.deepEqual(
        jobs.map((j) => j.attemptsStarted),
        [1, 1],
      );
      assert.equal(
        new Set(jobs.map((j) => j.processedBy)).size,
        2,
        w.map((x) => x.output()).join('\n'),
      );
      for (const seed of [0, 1]) {
        assert.deepEqual(resultOf(store, seed), resultOf(ref, seed));
        assert.ok(
          finalWeights(store, seed).equals(finalWeights(ref, seed)),
          `final.pth of seed ${seed}`,
        );
      }
      for (const x of w) x.proc.kill('SIGTERM');
      for (const x of w) assert.equal((await x.exited).code, 143, x.output());
    } finally {
      await queue.close();
    }
  },
);

test(
  'a worker killed with SIGKILL mid-run: the job is retaken after the lease and resumes to byte-identical weights',
  { skip, timeout: 600_000 },
  async () => {
    const ref = await serialStore();
    const store = join(tmp, 'kill');
    mkdirSync(store, { recursive: true });
    const queue = openQueue(redis.url, 'kill');
    try {
      const sub = await submitRuns(queue, [spec(0)], {
        store,
        version: codeVersion(),
        sweep: 'tiny',
      });
      const run = sub.runs[0];
      const dir = join(store, run.workDir);
      const a = startWorker(store, 'kill', 2);
      await until(
        'the first checkpoint',
        () => alive([a]) && (existsSync(join(dir, 'last_checkpoint')) || undefined),
        a.output,
      );
      a.proc.kill('SIGKILL');
      assert.equal((await a.exited).signal, 'SIGKILL');
      assert.equal(existsSync(join(dir, 'iter_3.ckpt')), false, 'the run ended before the kill');
      const [row] = await sweepStatus(queue);
      assert.equal(row.state, 'running'); // until its lease expires
      assert.equal(row.worker, a.name);

      const b = startWorker(store, 'kill', 2);
      const [job] = await waitForRuns(queue, [run.id], { pollMs: 200 });
      assert.equal(job.attemptsStarted, 2, b.output());
      assert.equal(job.processedBy, b.name);
      const resumed = readFileSync(join(dir, 'log.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"event":"resume"'))
        .map((l) => (JSON.parse(l) as { iteration: number }).iteration);
      assert.equal(resumed.length, 1);
      assert.ok(resumed[0] >= 1 && resumed[0] < 3, `resumed at ${resumed[0]}`);
      assert.ok(
        finalWeights(store, 0).equals(finalWeights(ref, 0)),
        'final.pth differs from the uninterrupted run',
      );
      assert.deepEqual(resultOf(store, 0), resultOf(ref, 0));
      b.proc.kill('SIGTERM');
      await b.exited;
    } finally {
      await queue.close();
    }
  },
);
