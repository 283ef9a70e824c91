/**
 * Progress of a long notebook cell: what is running, i/n, elapsed time and an ETA, one line per
 * step. Lines go to the cell's output (console.log, which tslab streams while the cell runs)
 * and, when `npm run reproduce` set OFFSEG_PROGRESS_FILE, are appended to that file, which
 * reproduce echoes on its console (a headless kernel's output is not seen until the end).
 */
import { appendFileSync } from 'node:fs';
import { envString } from '../env.ts';

/** `42 s`, `3 min 10 s`, `1 h 02 min`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Print a progress line in the notebook and to reproduce's console (if it listens). */
export function progressLine(line: string, write: (s: string) => void = console.log): void {
  write(line);
  const file = envString('OFFSEG_PROGRESS_FILE');
  if (file) {
    try {
      appendFileSync(file, line + '\n');
    } catch {
      // the console copy is a convenience: never fail a cell over it
    }
  }
}

export interface ProgressOptions {
  /** Clock in ms (tests). */
  now?: () => number;
  /** Where lines go (default: console.log + OFFSEG_PROGRESS_FILE). */
  write?: (line: string) => void;
}

/**
 * Counts the steps of one task. `step(label)` prints `what: i/n (label) — elapsed, ETA`;
 * steps that took no time (cached results) do not speed up the ETA of the remaining ones.
 */
export class CellProgress {
  private done = 0;
  private worked = 0; // steps that took real time
  private workSeconds = 0;
  private readonly t0: number;
  private tLast: number;
  private readonly now: () => number;
  private readonly write: (line: string) => void;

  constructor(
    readonly what: string,
    public total: number,
    opts: ProgressOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.write = opts.write ?? ((l) => progressLine(l));
    this.t0 = this.tLast = this.now();
  }

  /** Seconds left, from the mean time of the steps that did work (undefined before any). */
  eta(): number | undefined {
    if (!this.worked) return this.done >= this.total ? 0 : undefined;
    return (this.workSeconds / this.worked) * (this.total - this.done);
  }

  /** The number of steps grew or shrank (e.g. more seeds were added); later lines use it. */
  setTotal(total: number): void {
    this.total = total;
  }

  /** One step finished; `label` says which (e.g. "offseg-t seed 1: 63.2 mIoU"). */
  step(label = ''): void {
    const t = this.now();
    const took = (t - this.tLast) / 1000;
    this.tLast = t;
    this.done = Math.min(this.total, this.done + 1);
    if (took >= 1) {
      this.worked++;
      this.workSeconds += took;
    }
    const eta = this.eta();
    const left =
      this.done >= this.total ? 'done' : `ETA ${eta === undefined ? '?' : formatDuration(eta)}`;
    this.write(
      `${this.what}: ${this.done}/${this.total}${label ? ` (${label})` : ''} — ${formatDuration((t - this.t0) / 1000)} elapsed, ${left}`,
    );
  }
}
