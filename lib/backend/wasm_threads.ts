/**
 * Node shim that lets the multi-threaded WASM build of tfjs start its Emscripten pthreads.
 *
 * Why (docs/backends.md): tfjs turns threads off in Node because the
 * Emscripten runtime hands its pthread workers Blob URLs (`URL.createObjectURL(blob)` for the
 * worker script, and a Blob holding the module factory as the "main script"), which Node's
 * `worker_threads` cannot load. This shim, installed only around the backend's initialisation:
 *
 * 1. records the text of Blobs built from strings (the worker script and the factory source),
 * 2. writes them to files in a per-content temporary folder and hands out file paths instead of
 *    blob: URLs (the worker reads the "main script" with `fs.readFileSync` + global eval),
 * 3. prepends to the factory source the bundler-local names it refers to (`require$$N`,
 *    `commonjsGlobal`, a few TypeScript helpers) which do not exist in the worker's scope,
 * 4. serves `globalThis.Worker` (which the runtime overwrites with `worker_threads.Worker`) as
 *    a subclass that is `unref()`ed and ignores `ref()`, so idle or spinning pthreads never keep
 *    a finished process alive, and that swaps the Blob in the "load" message for the file path.
 *
 * The caller also raises the core count the runtime reads (`os.cpus().length`), because the
 * backend caps its thread pool at half the logical cores, i.e. 1 on a 2-core machine.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';

/** Helpers the compiled factory calls that the bundle defines at its top (our own versions). */
const HELPERS_PRELUDE = `
var commonjsGlobal = globalThis;
function __values(o) {
  if (o == null) return { next: function () { return { value: undefined, done: true }; } };
  if (typeof o[Symbol.iterator] === 'function') return o[Symbol.iterator]();
  var i = 0;
  return { next: function () { return i < o.length ? { value: o[i++], done: false } : { value: undefined, done: true }; } };
}
function __read(o, n) {
  var out = [];
  if (o == null) return out;
  var it = o[Symbol.iterator]();
  for (var k = 0; n === undefined || k < n; k++) { var r = it.next(); if (r.done) break; out.push(r.value); }
  return out;
}
function __spreadArray(to, from) { return to.concat(Array.prototype.slice.call(from)); }
`;
const KNOWN_HELPERS = new Set(['__values', '__read', '__spreadArray']);

interface ShimState {
  dir: string;
  bundleRequires: string;
  workerPath?: string;
  mainPath?: string;
  workers: Set<NodeWorker>;
  errors: string[];
}

let state: ShimState | undefined;
const blobText = new WeakMap<object, string>();

/** `var require$$N = require('x');` lines at the top of the node bundle, re-declared in workers. */
function bundleRequireLines(bundleFile: string): string {
  const head = readFileSync(bundleFile, 'utf8').slice(0, 4000);
  const lines = [...head.matchAll(/^var (require\$\$\d+) = require\('([\w:/-]+)'\);$/gm)];
  return lines.map((m) => `var ${m[1]} = require(${JSON.stringify(m[2])});`).join('\n');
}

/**
 * Write `text` to `<dir>/<stem>-<hash>.<ext>` unless present (content-addressed, so a tfjs
 * upgrade never reuses a stale file; atomic rename, so concurrent processes are safe).
 */
function writeOnce(dir: string, stem: string, ext: string, text: string): string {
  const hash = createHash('sha1').update(text).digest('hex').slice(0, 16);
  const path = join(dir, `${stem}-${hash}.${ext}`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }
  return path;
}

function mainScriptPath(s: ShimState, factoryText: string): string {
  if (s.mainPath) return s.mainPath;
  const used = new Set([...factoryText.matchAll(/\b(__[a-z][A-Za-z]+)\(/g)].map((m) => m[1]));
  const unknown = [...used].filter((h) => !KNOWN_HELPERS.has(h));
  if (unknown.length) throw new Error(`factory uses unknown bundle helpers: ${unknown.join(', ')}`);
  const text = `${s.bundleRequires}\n${HELPERS_PRELUDE}\n${factoryText}\n`;
  s.mainPath = writeOnce(s.dir, 'main', 'js', text);
  return s.mainPath;
}

class UnrefWorker extends NodeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    const s = state;
    if (!s) throw new Error('wasm thread shim not installed');
    const target = String(url).startsWith('blob:') ? s.workerPath : url;
    if (!target) throw new Error('pthread worker script was not captured');
    super(target, options);
    this.unref();
    s.workers.add(this);
    this.on('error', (e: Error) => s.errors.push(e.message));
    this.on('exit', () => s.workers.delete(this));
  }

  /** Emscripten refs a worker while its pthread runs; XNNPACK's pool threads never return. */
  override ref(): void {}

  override postMessage(
    value: unknown,
    transferList?: Parameters<NodeWorker['postMessage']>[1],
  ): void {
    const s = state;
    if (s && isLoadMessage(value) && typeof value.urlOrBlob !== 'string') {
      const text = blobText.get(value.urlOrBlob as object);
      value.urlOrBlob = text !== undefined ? mainScriptPath(s, text) : s.mainPath;
    }
    super.postMessage(value, transferList);
  }
}

function isLoadMessage(v: unknown): v is { cmd: 'load'; urlOrBlob: unknown } {
  return typeof v === 'object' && v !== null && (v as { cmd?: unknown }).cmd === 'load';
}

/** Restores what `installThreadShim` patched for the duration of the backend's init. */
export type Uninstall = () => void;

/**
 * Install the shim. `bundleFile` is the tfjs-backend-wasm node bundle (its first lines name the
 * modules the factory refers to). Returns a function restoring Blob and URL.createObjectURL;
 * the `Worker` accessor stays (the pool may grow later) and is harmless to other code.
 */
export function installThreadShim(bundleFile: string): Uninstall {
  if (!state) {
    const dir = join(os.tmpdir(), 'offseg-wasm-threads');
    mkdirSync(dir, { recursive: true });
    state = { dir, bundleRequires: bundleRequireLines(bundleFile), workers: new Set(), errors: [] };
  }
  const s = state;
  const OrigBlob = globalThis.Blob;
  const origCreate = URL.createObjectURL.bind(URL);
  class RecordingBlob extends OrigBlob {
    constructor(
      parts?: ConstructorParameters<typeof Blob>[0],
      options?: ConstructorParameters<typeof Blob>[1],
    ) {
      super(parts, options);
      if (parts && [...parts].every((p) => typeof p === 'string'))
        blobText.set(this, [...parts].join(''));
    }
  }
  globalThis.Blob = RecordingBlob;
  URL.createObjectURL = (obj: Blob): string => {
    const text = blobText.get(obj);
    if (text === undefined) return origCreate(obj);
    if (text.includes('WasmBackendModuleThreadedSimd(Module)')) {
      s.workerPath ??= writeOnce(s.dir, 'pthread_worker', 'cjs', text);
      return s.workerPath;
    }
    return origCreate(obj);
  };
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => UnrefWorker,
    set: () => {}, // the runtime assigns worker_threads.Worker here; keep ours
  });
  return () => {
    globalThis.Blob = OrigBlob;
    URL.createObjectURL = origCreate;
  };
}

/** Errors reported by pthread workers so far (a failed load shows up here). */
export function workerErrors(): readonly string[] {
  return state?.errors ?? [];
}

/** Terminate every pthread worker we created (used when falling back to one thread). */
export async function terminateWorkers(): Promise<void> {
  if (!state) return;
  await Promise.all([...state.workers].map((w) => w.terminate()));
  state.workers.clear();
}

/**
 * Run `fn` while `os.cpus()` reports at least `n` cores (the backend reads the core count
 * while creating its thread pool and caps the pool at half of it).
 */
export async function withCoreCount<T>(n: number, fn: () => Promise<T>): Promise<T> {
  const orig = os.cpus;
  const real = orig();
  if (real.length >= n) return fn();
  const fake = Array.from({ length: n }, (_, i) => real[i % Math.max(1, real.length)]);
  os.cpus = () => fake;
  try {
    return await fn();
  } finally {
    os.cpus = orig;
  }
}
