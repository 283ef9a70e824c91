/**
 * WASM backend setup for Node: points tfjs at the `.wasm` files inside the npm package,
 * registers the training kernels the stock backend lacks (./wasm_kernels.ts) and, when more
 * than one thread is asked for, starts the multi-threaded SIMD build through the Node
 * pthread shim (./wasm_threads.ts; docs/backends.md).
 *
 * Threads: `opts.threads`, else OFFSEG_THREADS, else `os.availableParallelism()`. Anything that
 * goes wrong on the threaded path (no SIMD, no SharedArrayBuffer, a worker that fails to load,
 * an init that does not finish in time) falls back to one thread, with the reason returned.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import {
  installThreadShim,
  terminateWorkers,
  withCoreCount,
  workerErrors,
} from './wasm_threads.ts';
import { envPositiveInt } from '../env.ts';

const require = createRequire(import.meta.url);

export interface WasmSetup {
  threads: number;
  simd: boolean;
  /** Why fewer threads than requested run (absent when the request was met). */
  threadsNote?: string;
}

export interface WasmOptions {
  /** Threads for XNNPACK (default OFFSEG_THREADS, else os.availableParallelism()). */
  threads?: number;
  /** Give up on the threaded init after this long and fall back (default 60 s). */
  initTimeoutMs?: number;
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

let done: WasmSetup | undefined;

function requestedThreads(opts: WasmOptions): number {
  const n = opts.threads ?? envPositiveInt('OFFSEG_THREADS') ?? os.availableParallelism();
  return Math.max(1, Math.floor(n));
}

function threadPrerequisite(simd: boolean): string | undefined {
  if (!simd) return 'the threaded build needs WASM SIMD, which is not available';
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    return 'SharedArrayBuffer/Atomics are not available';
  }
  return undefined;
}

/** Resolve `p`, or reject after `ms` or as soon as a pthread worker reports an error. */
function guarded<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (e: Error): void => {
      stop();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`threaded init timed out after ${ms} ms`)), ms);
    const poll = setInterval(() => {
      const errs = workerErrors();
      if (errs.length) fail(new Error(`pthread worker failed: ${errs[0]}`));
    }, 50);
    // Both timers are cleared on every outcome: a live interval would keep the process open.
    function stop(): void {
      clearTimeout(timer);
      clearInterval(poll);
    }
    p.then(
      (v) => {
        stop();
        resolve(v);
      },
      (e: unknown) => fail(e instanceof Error ? e : new Error(String(e))),
    );
  });
}

async function tryThreaded(wasm: WasmModule, n: number, timeoutMs: number): Promise<number> {
  const bundle = require.resolve('@tensorflow/tfjs-backend-wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(n);
  const uninstall = installThreadShim(bundle);
  try {
    const ok = await withCoreCount(2 * n, () => guarded(tf.setBackend('wasm'), timeoutMs));
    if (!ok) throw new Error('setBackend(wasm) returned false');
  } finally {
    uninstall();
  }
  return wasm.getThreadsCount();
}

/** Put a fresh 'wasm' factory back after a failed threaded init (drops the pending one). */
function resetWasmFactory(): void {
  const factory = tf.findBackendFactory('wasm');
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, 2);
}

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
const PROCESS_EVENTS: ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];

/**
 * The Emscripten runtime adds process listeners that rethrow every uncaught exception and
 * unhandled rejection from inside its one-line factory (Node then prints the whole factory
 * source as the "error line") and keeps them until the backend is disposed. Drop the ones it
 * added so errors surface as usual.
 */
async function withoutRuntimeListeners<T>(fn: () => Promise<T>): Promise<T> {
  const before = new Map(PROCESS_EVENTS.map((e) => [e, new Set(process.listeners(e))]));
  try {
    return await fn();
  } finally {
    for (const e of PROCESS_EVENTS) {
      for (const l of process.listeners(e)) {
        if (!before.get(e)?.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
      }
    }
  }
}

export async function setupWasm(opts: WasmOptions = {}): Promise<WasmSetup> {
  return withoutRuntimeListeners(() => start(opts));
}

async function start(opts: WasmOptions): Promise<WasmSetup> {
  if (done) {
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
    return done;
  }
  const wasm: WasmModule = await import('@tensorflow/tfjs-backend-wasm');
  // Loaded here, not at import: it pulls tfjs' gradient table (`@tensorflow/tfjs`, ~0.5 s),
  // which a process that only imports lib/backend (or runs on CPU) need not pay for.
  const { registerWasmTrainingKernels } = await import('./wasm_kernels.ts');
  wasm.setWasmPaths(
    join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/',
  );
  registerWasmTrainingKernels();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const want = requestedThreads(opts);
  let note: string | undefined;
  let threads = 1;
  if (want > 1) {
    note = threadPrerequisite(simd);
    if (!note) {
      try {
        threads = await tryThreaded(wasm, want, opts.initTimeoutMs ?? 60_000);
        if (threads < want) note = `the backend started ${threads} of ${want} threads`;
      } catch (e) {
        note = `threads disabled: ${(e as Error).message}`;
        threads = 1;
        await terminateWorkers();
        resetWasmFactory();
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      }
    }
  }
  if (threads === 1) {
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
  }
  await tf.ready();
  done = { threads, simd, ...(note ? { threadsNote: note } : {}) };
  return done;
}
