/**
 * The run folder: resolved config, provenance (seeds, config hash, git commit, backend), JSONL
 * log, checkpoints. A folder that already holds a run is never overwritten unless resuming.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { atomicWrite, readLastCheckpoint } from './checkpoint.ts';

export class RunDirError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(`${message}\n  fix: ${fix}`);
    this.name = 'RunDirError';
    this.fix = fix;
  }
}

export function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** Prepare `dir` for a new run (must be empty or absent) or for resuming (must hold one). */
export function prepareRunDir(dir: string, resume: boolean): { lastCheckpoint?: string } {
  const last = existsSync(dir) ? readLastCheckpoint(dir) : undefined;
  if (resume) {
    if (!last)
      throw new RunDirError(
        `--resume: no checkpoint in ${dir}`,
        'run without --resume to start, or point --work-dir at the run to continue',
      );
    return { lastCheckpoint: last };
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new RunDirError(
      `work dir ${dir} already holds ${last ? 'a run (last checkpoint ' + last + ')' : 'files'}; refusing to overwrite it`,
      'pass --resume to continue that run, or choose another --work-dir',
    );
  }
  mkdirSync(dir, { recursive: true });
  return {};
}

export function writeJson(path: string, value: unknown): void {
  atomicWrite(path, [new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n')]);
}

export class JsonlLogger {
  constructor(readonly path: string) {}
  log(rec: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...rec }) + '\n');
  }
}

export function checkpointName(iteration: number): string {
  return `iter_${iteration}.ckpt`;
}
