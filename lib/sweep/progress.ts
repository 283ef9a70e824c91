/**
 * Progress of a running job, read from its run folder's log.jsonl (the training loop appends a
 * record every `logInterval` iterations and at every checkpoint), so it works for every kind of
 * run without a hook into the engine. The ETA is measured over this attempt only: a resumed run's
 * earlier iterations do not make it look faster than it is.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the worker stores as the job's progress (and the status table shows). */
export interface JobProgress {
  /** Worker name (host:pid) running the job. */
  worker: string;
  iteration: number;
  total: number;
  /** Iterations per second over this attempt (null until two readings differ). */
  itPerSec: number | null;
  /** Seconds left at that rate (null when unknown). */
  etaSeconds: number | null;
  /** Iteration this attempt started from (> 0: resumed from a checkpoint). */
  resumedFrom: number;
  /** When this report was made (ms since the epoch). */
  updated: number;
}

/** Bytes read from the end of the log: the last records are all that is needed. */
const TAIL_BYTES = 16384;

/** The highest iteration the newest records of `workDir/log.jsonl` mention (0: none yet). */
export function loggedIteration(workDir: string): number {
  const p = join(workDir, 'log.jsonl');
  if (!existsSync(p)) return 0;
  const size = statSync(p).size;
  const start = Math.max(0, size - TAIL_BYTES);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(p, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  let it = 0;
  for (const line of buf.toString('utf8').split('\n')) {
    try {
      const rec = JSON.parse(line) as { iteration?: unknown };
      if (typeof rec.iteration === 'number' && rec.iteration > it) it = rec.iteration;
    } catch {
      // the first line of the tail is usually cut, the last may be half written
    }
  }
  return it;
}

/** Turns successive iteration readings of one attempt into rate and ETA. */
export class ProgressTracker {
  private first?: { iteration: number; time: number };

  constructor(
    readonly worker: string,
    readonly total: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A reading: the iteration the run folder shows now. */
  update(iteration: number): JobProgress {
    const time = this.now();
    this.first ??= { iteration, time };
    const di = iteration - this.first.iteration;
    const dt = (time - this.first.time) / 1000;
    const itPerSec = di > 0 && dt > 0 ? di / dt : null;
    return {
      worker: this.worker,
      iteration,
      total: this.total,
      itPerSec,
      etaSeconds: itPerSec ? Math.round((this.total - iteration) / itPerSec) : null,
      resumedFrom: this.first.iteration,
      updated: time,
    };
  }
}

/** 75 → "1:15", 3725 → "1:02:05", null → "?". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
