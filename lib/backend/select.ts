/**
 * The one place that chooses the compute backend.
 *
 * Order of preference: native TensorFlow with a GPU (`@tensorflow/tfjs-node-gpu`), native
 * TensorFlow on CPU (`@tensorflow/tfjs-node`), WebAssembly (`@tensorflow/tfjs-backend-wasm`,
 * SIMD, threads when available), and last the pure-JS `cpu` backend. The native packages are
 * optional: their install script downloads libtensorflow, which fails offline, so they are
 * loaded only if present and working. Library code never calls this; the CLI entry points,
 * benchmarks and notebooks do (no hidden global state in the library).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradient functions: load the table for every backend.
import './kernels/gradients.ts';
import { registerTrainingGradients } from './kernels/training_gradients.ts';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setupWasm } from './wasm.ts';
import { guardWasmHeap } from './wasm_guard.ts';
import { envString } from '../env.ts';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = [
  'tensorflow-gpu',
  'tensorflow',
  'wasm',
  'cpu',
];

export interface BackendInfo {
  /** What we chose, in our vocabulary. */
  name: BackendName;
  /** What tfjs reports (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** Worker threads used by the backend (1 for cpu and single-threaded wasm). */
  threads: number;
  simd: boolean;
  /** Why the backends above it were skipped. */
  skipped: { name: BackendName; reason: string }[];
}

export interface SelectOptions {
  /** Force one backend (also settable with OFFSEG_BACKEND). `auto` picks the best present. */
  prefer?: BackendName | 'auto';
  /** WASM threads (default: OFFSEG_THREADS or the number of cores, capped at 4). */
  threads?: number;
  /** Print the chosen backend to stderr (default true). */
  log?: boolean;
}

const require = createRequire(import.meta.url);
let current: BackendInfo | undefined;

/** Is a package installed that really is itself (not an npm alias standing in for it)? */
function realPackage(name: string): boolean {
  try {
    const pkgPath = require.resolve(`${name}/package.json`);
    const pkg = JSON.parse(require('node:fs').readFileSync(pkgPath, 'utf8')) as { name?: string };
    return pkg.name === name;
  } catch {
    return false;
  }
}

async function tryNative(pkg: string): Promise<string | undefined> {
  if (!realPackage(pkg)) return `${pkg} is not installed`;
  try {
    await import(pkg);
    if (!tf.findBackend('tensorflow')) return `${pkg} loaded but registered no backend`;
    if (!(await tf.setBackend('tensorflow'))) return `${pkg}: backend failed to initialise`;
    return undefined;
  } catch (e) {
    return `${pkg} failed to load (${(e as Error).message.split('\n')[0]})`;
  }
}

function gpuVisible(): boolean {
  return existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
}

/**
 * tfjs-backend-cpu prints an "install our node backend" banner to stderr the first time it holds
 * a tensor in Node. The native backend is tried above (and fails offline), so on every command the
 * banner is only noise: mark the cpu backend as already used. Its own `firstUse` flag is the one
 * the banner checks (tfjs-backend-cpu `backend_cpu.ts`, `write`).
 */
export function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

/** Choose and initialise a backend. Idempotent: a second call returns the first choice. */
export async function selectBackend(opts: SelectOptions = {}): Promise<BackendInfo> {
  if (current) return current;
  registerTrainingGradients(); // backend-agnostic: the same gradients on every backend
  const env = envString('OFFSEG_BACKEND') as BackendName | 'auto' | undefined;
  const prefer = opts.prefer ?? env ?? 'auto';
  if (prefer !== 'auto' && !BACKEND_NAMES.includes(prefer)) {
    throw new Error(
      `Unknown backend '${prefer}'. Valid: auto, ${BACKEND_NAMES.join(', ')} (OFFSEG_BACKEND or --backend).`,
    );
  }
  const order: BackendName[] = prefer === 'auto' ? [...BACKEND_NAMES] : [prefer];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of order) {
    let reason: string | undefined;
    let threads = 1;
    let simd = false;
    if (name === 'tensorflow-gpu') {
      reason = gpuVisible()
        ? await tryNative('@tensorflow/tfjs-node-gpu')
        : 'no GPU device visible';
    } else if (name === 'tensorflow') {
      reason = await tryNative('@tensorflow/tfjs-node');
    } else if (name === 'wasm') {
      try {
        const w = await setupWasm({ threads: opts.threads });
        guardWasmHeap(); // a full 4 GiB heap fails with an error instead of hanging
        threads = w.threads;
        simd = w.simd;
      } catch (e) {
        reason = `wasm failed: ${(e as Error).message}`;
      }
    } else {
      await tf.setBackend('cpu');
    }
    if (reason) {
      skipped.push({ name, reason });
      continue;
    }
    await tf.ready();
    silenceCpuBanner();
    current = { name, tfBackend: tf.getBackend(), threads, simd, skipped };
    if (opts.log ?? true) process.stderr.write(`[offseg] backend: ${describeBackend(current)}\n`);
    return current;
  }
  throw new Error(
    `No usable backend among ${order.join(', ')}: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}

export function describeBackend(b: BackendInfo): string {
  const extra =
    b.name === 'wasm'
      ? ` (simd ${b.simd ? 'on' : 'off'}, ${b.threads} thread${b.threads > 1 ? 's' : ''})`
      : '';
  return `${b.name}${extra}`;
}

export function currentBackend(): BackendInfo | undefined {
  return current;
}

/** Folder with the wasm binaries shipped inside the npm package. */
export function wasmDistDir(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}
