/**
 * The run folder: resolved config, provenance (seeds, config hash, git commit, backend), JSONL
 * log, checkpoints. A folder that holds a run is never overwritten unless resuming; a folder left
 * by a start that failed before training (only config.json / run.json, no checkpoint, no logged
 * iteration) counts as empty. `checkRunDir` only reads, so a command can check the folder first,
 * build datasets and model, and write nothing until they exist (`createRunDir`).
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeAtomic } from '../io/atomic_write.ts';
import { readLastCheckpoint } from './checkpoint.ts';

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

/** What a work dir holds, as far as starting or resuming a run is concerned. */
export interface RunDirState {
  /** The checkpoint `last_checkpoint` names, if that file exists. */
  lastCheckpoint?: string;
  /** The highest iteration log.jsonl records (0: none logged). */
  loggedIteration: number;
  /** Files in the folder (none if it does not exist). */
  files: string[];
}

/** The highest `iteration` among log.jsonl records (records without one, e.g. loads, skipped). */
function lastLoggedIteration(dir: string): number {
  const p = join(dir, 'log.jsonl');
  if (!existsSync(p)) return 0;
  let it = 0;
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { iteration?: unknown };
      if (typeof rec.iteration === 'number' && rec.iteration > it) it = rec.iteration;
    } catch {
      // a line cut short by a kill: ignore it
    }
  }
  return it;
}

/** Read what `dir` holds (nothing is created or changed). */
export function inspectRunDir(dir: string): RunDirState {
  if (!existsSync(dir)) return { loggedIteration: 0, files: [] };
  if (!statSync(dir).isDirectory())
    throw new RunDirError(`work dir ${dir} is a file`, 'choose another --work-dir');
  const last = readLastCheckpoint(dir);
  return {
    lastCheckpoint: last && existsSync(last) ? last : undefined,
    loggedIteration: lastLoggedIteration(dir),
    files: readdirSync(dir),
  };
}

/**
 * Check `dir` for a new run (`resume` false: absent, empty, or left by a failed start) or for
 * resuming (`resume` true: holds a checkpoint). Writes nothing. Throws RunDirError naming what the
 * folder holds and the command that fits it. Returns the checkpoint to resume from.
 */
export function checkRunDir(dir: string, resume: boolean): { lastCheckpoint?: string } {
  const s = inspectRunDir(dir);
  if (resume) {
    if (s.lastCheckpoint) return { lastCheckpoint: s.lastCheckpoint };
    if (s.files.length === 0)
      throw new RunDirError(
        `--resume: ${dir} ${existsSync(dir) ? 'is empty' : 'does not exist'}, so there is no run to continue`,
        'run the same command without --resume to start the run there',
      );
    if (s.loggedIteration === 0)
      throw new RunDirError(
        `--resume: ${dir} holds no checkpoint, only what a start that failed before training left (${s.files.join(', ')})`,
        'run the same command without --resume: a folder like this counts as empty and the run starts afresh',
      );
    throw new RunDirError(
      `--resume: ${dir} holds no checkpoint: its run logged iteration ${s.loggedIteration} and stopped before writing one`,
      `nothing to resume: start again with another --work-dir, or delete ${dir} and run without --resume`,
    );
  }
  if (s.lastCheckpoint)
    throw new RunDirError(
      `work dir ${dir} already holds a run (last checkpoint ${s.lastCheckpoint}); refusing to overwrite it`,
      'pass --resume to continue that run, or choose another --work-dir',
    );
  if (s.loggedIteration > 0)
    throw new RunDirError(
      `work dir ${dir} already holds a run that logged iteration ${s.loggedIteration} but no checkpoint; refusing to overwrite its log`,
      `choose another --work-dir, or delete ${dir} to start over there`,
    );
  return {};
}

/**
 * Create `dir` for a new run once everything it needs is built. Leftovers of a failed start
 * (config.json, run.json and a log without iterations) are replaced by this run's.
 */
export function createRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'log.jsonl');
  if (existsSync(log) && lastLoggedIteration(dir) === 0) writeFileSync(log, '');
}

/** `checkRunDir` then, for a new run, `createRunDir` (for callers that build nothing first). */
export function prepareRunDir(dir: string, resume: boolean): { lastCheckpoint?: string } {
  const r = checkRunDir(dir, resume);
  if (!resume) createRunDir(dir);
  return r;
}

export function writeJson(path: string, value: unknown): void {
  writeAtomic(path, JSON.stringify(value, null, 2) + '\n');
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
