/**
 * A sweep worker: takes jobs from the queue (BullMQ, with its leases and stalled-job recovery)
 * and trains each in a thread of its own (lib/sweep/job_thread.ts) into the shared store. Per job:
 *   1. same code and config as the submitter, or the job is refused: put back for another worker,
 *      and this worker stops with one line saying which commit to check out;
 *   2. a proxy run waits (delayed, re-checked every few seconds) until its pretraining is done,
 *      and fails at once if the pretraining failed;
 *   3. a run already finished in the store (e.g. by a serial run) completes without training;
 *   4. train in a thread, reporting worker, iteration and ETA as the job's progress;
 *   5. when the lease is lost (this host was cut off longer than the lease) the thread is stopped,
 *      because the stalled-job check has handed the run to another worker, which resumes it from
 *      the last checkpoint in the shared store; on shutdown (SIGINT/SIGTERM) running jobs go back
 *      to the queue at once instead of waiting for their lease to expire.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DelayedError, Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { BackendName } from '../backend/select.ts';
import { JobAborted, JobFailure, runInThread } from './job_thread.ts';
import { loggedIteration, ProgressTracker } from './progress.ts';
import { connectionOptions, DEFAULT_QUEUE, probeRedis } from './redis.ts';
import {
  codeVersion,
  isDone,
  storedOutcome,
  resolveRun,
  type JobData,
  type ResolvedRun,
  type RunOutcome,
} from './spec.ts';

export interface SweepWorkerOptions {
  /** Redis URL, e.g. redis://127.0.0.1:6379. */
  redis: string;
  /** Shared folder of results/, work_dirs/, .cache/ as this host sees it. */
  store: string;
  queue?: string;
  /** Jobs run at once, each in its own thread (default 1). */
  concurrency?: number;
  /** Lease of a running job, s (default 30): a dead worker's job is re-taken within ~3 leases. */
  leaseSeconds?: number;
  /** Backend every job thread selects (default auto). */
  backend?: BackendName | 'auto';
  /** Shown in the status table (default host:pid). */
  name?: string;
  /** Code version to compare with the submitter's (default: this checkout's `codeVersion()`). */
  version?: string;
  /** How often the job's progress is refreshed, s (default 5). */
  progressSeconds?: number;
  /** One line per event (default: stderr). */
  log?: (line: string) => void;
  /** Stop: running jobs go back to the queue, then the worker returns. */
  signal?: AbortSignal;
}

/** The worker refused a job from other code or config; it carries the remedy. */
export class WorkerRefusedError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = 'WorkerRefusedError';
    this.fix = fix;
  }
}

/** How often a run waiting for its pretraining is looked at again (ms). */
const PRETRAIN_POLL_MS = 5000;
/** A job may be re-taken this often after its worker died before it fails. */
const MAX_STALLS = 5;
const SHUTDOWN = 'worker shutting down';
const LEASE_LOST = 'lease lost';

/** Why `run` must not run here (other code, other config), or undefined. */
function mismatch(
  data: JobData,
  run: ResolvedRun,
  version: string,
): WorkerRefusedError | undefined {
  if (data.version !== version)
    return new WorkerRefusedError(
      `refusing job ${run.id}: it was submitted from code version ${data.version}, this worker runs ${version}`,
      `check out ${data.version.replace(/-dirty$/, '')} here (with the same uncommitted changes if it ends in -dirty) and restart the worker, or resubmit the sweep from this version`,
    );
  if (data.configHash !== run.configHash)
    return new WorkerRefusedError(
      `refusing job ${run.id}: its config hashes to ${run.configHash} in this checkout, not ${data.configHash} as submitted`,
      'make the config files (configs/) the same on submitter and workers, then restart the worker',
    );
  return undefined;
}

/** Resolve a job's spec in this checkout and compare it with what the submitter resolved. */
function check(
  job: Job<JobData, RunOutcome>,
  store: string,
  version: string,
): { run?: ResolvedRun; refusal?: WorkerRefusedError } {
  let run: ResolvedRun;
  try {
    run = resolveRun(job.data.spec, store);
  } catch (e) {
    const err = e as Error & { fix?: string };
    return {
      refusal: new WorkerRefusedError(
        `refusing job ${job.id}: this checkout cannot resolve it (${err.message.split('\n')[0]})`,
        err.fix ?? "bring this checkout to the submitter's version and restart the worker",
      ),
    };
  }
  return { run, refusal: mismatch(job.data, run, version) };
}

/** The pretraining a proxy run needs (undefined for other runs). */
function pretrainOf(run: ResolvedRun, store: string): ResolvedRun | undefined {
  return run.spec.kind === 'proxy'
    ? resolveRun({ kind: 'pretrain', mode: run.spec.mode }, store)
    : undefined;
}

/**
 * The store must be a folder this worker can write to.
 * @throws WorkerRefusedError naming it.
 */
function checkStore(store: string): void {
  try {
    if (!statSync(store).isDirectory()) throw new Error('not a folder');
    accessSync(store, constants.W_OK);
  } catch (e) {
    throw new WorkerRefusedError(
      `store ${store} is not a writable folder (${(e as { code?: string }).code ?? (e as Error).message})`,
      'pass --store with the shared folder (mounted on every worker host), and check its permissions',
    );
  }
}

/**
 * Serve the queue until `signal` aborts (resolves with the counts) or a job from other code is
 * met (rejects with WorkerRefusedError once the running jobs are done).
 * @throws RedisUnreachableError when Redis does not answer at start.
 */
export async function runWorker(
  opts: SweepWorkerOptions,
): Promise<{ completed: number; failed: number }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  checkStore(opts.store);
  await probeRedis(opts.redis);
  const version = opts.version ?? codeVersion();
  const name = opts.name ?? `${hostname()}:${process.pid}`;
  const lease = (opts.leaseSeconds ?? 30) * 1000;
  const queueName = opts.queue ?? DEFAULT_QUEUE;
  const connection = connectionOptions(opts.redis);
  const queue = new Queue<JobData, RunOutcome>(queueName, { connection });
  const counts = { completed: 0, failed: 0 };
  let refusal: WorkerRefusedError | undefined;
  const say = (l: string) => log(`[worker ${name}] ${l}`);

  const processor = async (job: Job<JobData, RunOutcome>, token?: string, signal?: AbortSignal) => {
    // 1. same code and config as the submitter, else put the job back and stop taking jobs
    const checked = check(job, opts.store, version);
    refusal ??= checked.refusal;
    if (refusal || !checked.run) {
      void worker.close(); // take nothing more; jobs already running finish
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const run = checked.run;

    // 2. a proxy run starts only once its pretraining is in the store
    const pretrain = pretrainOf(run, opts.store);
    if (pretrain && !isDone(opts.store, pretrain)) {
      const dep = await queue.getJob(pretrain.id);
      const state = dep ? await dep.getState() : 'unknown';
      if (state === 'failed')
        throw new UnrecoverableError(`its pretraining ${pretrain.id} failed: ${dep?.failedReason}`);
      if (state === 'completed')
        throw new UnrecoverableError(
          `its pretraining ${pretrain.id} finished, but its backbone is not in this worker's store ${opts.store}: give every worker the shared folder as --store`,
        );
      if (state === 'unknown')
        throw new UnrecoverableError(
          `its pretraining job ${pretrain.id} is not in the queue and the backbone is not in the store: submit the sweep again (it queues the pretraining)`,
        );
      await job.moveToDelayed(Date.now() + PRETRAIN_POLL_MS, token);
      throw new DelayedError();
    }

    // 3. a run whose result is already in the store (finished by another path) needs no thread;
    //    the pretraining always goes through the engine, which applies its gate to a cached one
    const stored = run.spec.kind === 'pretrain' ? undefined : storedOutcome(opts.store, run);
    if (stored) {
      counts.completed++;
      say(`done ${run.id}: its result was already in the store`);
      return stored;
    }

    // 4. train in a thread, reporting progress from the run folder
    const workDir = join(opts.store, run.workDir);
    const tracker = new ProgressTracker(name, run.iterations);
    const report = () =>
      job.updateProgress(tracker.update(loggedIteration(workDir))).catch(() => {});
    await report();
    const from = loggedIteration(workDir);
    say(
      `took ${run.id} (attempt ${job.attemptsStarted}${from ? `; the run folder is at iteration ${from}` : ''})`,
    );
    const timer = setInterval(report, (opts.progressSeconds ?? 5) * 1000);
    try {
      const outcome = await runInThread(
        { spec: job.data.spec, store: opts.store, backend: opts.backend ?? 'auto' },
        signal,
      );
      await report();
      counts.completed++;
      say(
        `done ${run.id}: mIoU ${outcome.mIoU} after ${outcome.iterations} iterations (${outcome.seconds} s)`,
      );
      return outcome;
    } catch (e) {
      if (e instanceof JobAborted) {
        say(`stopped ${run.id}: ${e.reason}`);
        if (e.reason === SHUTDOWN) {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        throw new Error(`stopped on ${name}: ${e.reason}`);
      }
      counts.failed++;
      const err = e as Error & { fix?: string };
      const msg = `${err.message.split('\n')[0]}${err.fix ? ` (fix: ${err.fix})` : ''}`;
      say(`failed ${run.id}: ${msg}`);
      // The run's own error (config, gate, divergence): retrying the same code will not help.
      throw e instanceof JobFailure ? new UnrecoverableError(msg) : e;
    } finally {
      clearInterval(timer);
    }
  };

  const worker = new Worker<JobData, RunOutcome>(queueName, processor, {
    connection,
    name,
    concurrency: opts.concurrency ?? 1,
    lockDuration: lease,
    stalledInterval: lease,
    maxStalledCount: MAX_STALLS,
  });
  // A lost lease means the job is (or will be) re-taken elsewhere: stop training it here.
  worker.on('lockRenewalFailed', (ids: string[]) => {
    for (const id of ids) worker.cancelJob(id, LEASE_LOST);
  });
  const lastError = new Map<string, number>();
  worker.on('error', (e: Error) => {
    const key = e.message.split('\n')[0];
    const t = Date.now();
    if (t - (lastError.get(key) ?? 0) < 10_000) return; // one line per kind of error per 10 s
    lastError.set(key, t);
    say(`queue error (retrying): ${key}`);
  });
  queue.on('error', () => {}); // the worker reports connection trouble once

  say(
    `serving queue '${queueName}' on ${opts.redis}; store ${opts.store}; code ${version}; lease ${lease / 1000} s; ${opts.concurrency ?? 1} at a time`,
  );
  if (version.endsWith('-dirty'))
    say('this checkout has uncommitted changes: jobs are matched on the commit and that flag only');

  const stop = async (): Promise<void> => {
    const closing = worker.close();
    worker.cancelAllJobs(SHUTDOWN);
    await closing;
  };
  if (opts.signal?.aborted) void stop();
  else opts.signal?.addEventListener('abort', () => void stop(), { once: true });
  await new Promise<void>((resolve) => worker.once('closed', () => resolve()));
  await queue.close();
  if (refusal) throw refusal;
  return counts;
}
