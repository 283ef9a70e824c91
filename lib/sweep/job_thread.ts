/**
 * Each job trains in a worker thread of its own, so the worker's main thread stays free for the
 * queue: lease renewal, progress reports and reconnecting to Redis go on while tfjs computes, and
 * a thread can be stopped at once when its lease is lost or the worker shuts down (the run loses
 * at most the steps since its last checkpoint). Killing the process kills its threads with it.
 * A thread per job also returns all of a run's memory (the WASM heap never shrinks) when it ends.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../backend/select.ts';
import type { RunOutcome, RunSpec } from './spec.ts';

/** What the thread is given (as workerData). */
export interface ThreadInput {
  spec: RunSpec;
  store: string;
  backend: BackendName | 'auto';
}

/** What the thread posts back once. */
export type ThreadReply =
  | { ok: true; outcome: RunOutcome }
  | { ok: false; name: string; message: string; fix?: string; stack?: string };

/** A run that failed inside its thread: the original error's name, message and remedy. */
export class JobFailure extends Error {
  readonly fix: string | undefined;
  constructor(name: string, message: string, fix?: string, stack?: string) {
    super(message);
    this.name = name;
    this.fix = fix;
    if (stack) this.stack = stack;
  }
}

/** Thrown when `signal` stopped the thread; `reason` is the signal's. */
export class JobAborted extends Error {
  constructor(readonly reason: string) {
    super(`job stopped: ${reason}`);
    this.name = 'JobAborted';
  }
}

/**
 * The thread's entry. Run through tsx (a .ts file), a thread does not inherit the loader hooks of
 * the main thread, so it registers tsx itself before importing the entry; the compiled .js runs
 * directly.
 */
function startThread(input: ThreadInput): Worker {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./job_thread_main${ext}`, import.meta.url).href;
  if (ext !== '.ts') return new Worker(new URL(entry), { workerData: input });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: input });
}

/**
 * Run `input.spec` in a new thread and wait for its outcome.
 * @throws JobFailure with the run's own error, JobAborted when `signal` fired.
 */
export function runInThread(input: ThreadInput, signal?: AbortSignal): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new JobAborted(String(signal.reason)));
    const thread = startThread(input);
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => {
      settle(() => reject(new JobAborted(String(signal?.reason ?? 'aborted'))));
      void thread.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    thread.once('message', (r: ThreadReply) =>
      settle(() =>
        r.ok ? resolve(r.outcome) : reject(new JobFailure(r.name, r.message, r.fix, r.stack)),
      ),
    );
    thread.once('error', (e) => settle(() => reject(e)));
    thread.once('exit', (code) =>
      settle(() => reject(new Error(`job thread exited with code ${code} before reporting`))),
    );
  });
}
