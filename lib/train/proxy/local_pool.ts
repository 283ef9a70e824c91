/**
 * Runs of the proxy study side by side on one machine. A proxy step (OffSeg-T, 64², batch 8)
 * takes about as long on one WASM thread as on two (docs/training_speed.md), so on a machine
 * with N cores, N single-threaded runs at once finish the study up to N× sooner than one
 * two-threaded run at a time. Each run is a child process (./run_child.ts) with
 * OFFSEG_THREADS=1 that trains through `runProxy` and writes its result record; the parent
 * reads it back from the cache. The shared pretraining comes first, in a child of its own
 * (`pretrainInChild`): it is one run.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { envPositiveInt } from '../../env.ts';

/** How many runs go side by side: OFFSEG_PROXY_JOBS, else one per core within ~1.5 GB each. */
export function localJobs(): number {
  const set = envPositiveInt('OFFSEG_PROXY_JOBS');
  if (set) return set;
  const byMemory = Math.floor(os.totalmem() / 1.5e9);
  return Math.max(1, Math.min(os.availableParallelism(), byMemory));
}

/** Thrown when a child run fails; carries the tail of its output. */
export class ProxyChildError extends Error {
  constructor(
    readonly model: string,
    readonly seed: number,
    readonly code: number | null,
    readonly tail: string,
  ) {
    super(
      `proxy run ${model} seed ${seed} failed (exit ${code}); last output:\n${tail}\nre-run it alone: OFFSEG_PROXY_JOBS=1`,
    );
    this.name = 'ProxyChildError';
  }
}

/**
 * Train one (variant, seed) in a child process with one WASM thread; resolves when its result
 * record is written. Output lines go to stderr prefixed with the run's name.
 * @throws ProxyChildError when the child exits non-zero.
 */
export function trainInChild(model: string, seed: number, quick: boolean): Promise<void> {
  const mode = quick ? 'quick' : 'full';
  return runChild([model, String(seed), mode], `[${model} s${seed}] `, model, seed);
}

/**
 * Train the shared pretrained backbone in a child process with one WASM thread (a proxy step
 * is no slower there than on two, and the parent keeps no training memory); resolves when its
 * record is written, also when it is below the gate (the caller applies the gate on reading).
 * @throws ProxyChildError (model 'pretraining', seed -1) when the child exits non-zero.
 */
export function pretrainInChild(quick: boolean): Promise<void> {
  return runChild(['--pretrain', quick ? 'quick' : 'full'], '[pretraining] ', 'pretraining', -1);
}

function runChild(argv: string[], prefix: string, model: string, seed: number): Promise<void> {
  const url = new URL(
    import.meta.url.endsWith('.ts') ? './run_child.ts' : './run_child.js',
    import.meta.url,
  );
  const file = fileURLToPath(url);
  const args = [...(file.endsWith('.ts') ? ['--import', 'tsx'] : []), file, ...argv];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, OFFSEG_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const relay = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      process.stderr.write(prefix + line + '\n');
    }
  };
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new ProxyChildError(model, seed, code, tail.join('\n'))),
    );
  });
}

/** Run `jobs` at most `width` at a time, in order of start; rejects with the first failure. */
export async function pool<T>(
  items: readonly T[],
  width: number,
  job: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await job(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, lane));
}
