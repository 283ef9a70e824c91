/**
 * Progress from inside training runs that a notebook starts through the library (the proxy
 * study): the loop writes `train` events to `<run>/log.jsonl` every `runtime.logInterval`
 * iterations, so a watcher that reads what was appended to the run folders under one directory
 * can print "run: iteration i/n, loss, ETA" while the cell is busy, without a hook in the
 * training code.
 */
import { existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration, progressLine } from './progress.ts';
import { parseTrainingLog, runSchedule } from './training_log.ts';

export interface WatchOptions {
  /** Poll period (default 5 s). */
  intervalMs?: number;
  /** At most one line per run per this many ms (default 30 s; the first and last always print). */
  everyMs?: number;
  /** Where lines go (default: the notebook and reproduce's console). */
  write?: (line: string) => void;
}

interface Tail {
  offset: number;
  partial: string;
  lastPrint: number;
  first?: { t: number; iteration: number };
  total?: number;
}

/** Read the bytes appended to `file` since `tail.offset` (complete lines only). */
function readNew(file: string, tail: Tail): string {
  const size = statSync(file).size;
  if (size <= tail.offset) return '';
  const buf = Buffer.alloc(size - tail.offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, tail.offset);
  } finally {
    closeSync(fd);
  }
  tail.offset = size;
  const text = tail.partial + buf.toString('utf8');
  const cut = text.lastIndexOf('\n') + 1;
  tail.partial = text.slice(cut);
  return text.slice(0, cut);
}

/**
 * Watch the run folders under `dir` (e.g. work_dirs/proxy) for training progress until the
 * returned `stop()` is called. Only what is written after the call is reported.
 */
export function watchTrainingRuns(dir: string, opts: WatchOptions = {}): { stop(): void } {
  const write = opts.write ?? ((l: string) => progressLine(l));
  const everyMs = opts.everyMs ?? 30_000;
  const tails = new Map<string, Tail>();
  const logOf = (run: string) => join(dir, run, 'log.jsonl');
  // Logs that exist now are read from their current end, new ones from their start.
  const before = new Map<string, number>();
  if (existsSync(dir))
    for (const run of readdirSync(dir))
      if (existsSync(logOf(run))) before.set(run, statSync(logOf(run)).size);
  const known = (run: string): Tail => {
    let t = tails.get(run);
    if (!t) {
      t = { offset: before.get(run) ?? 0, partial: '', lastPrint: 0 };
      t.total = runSchedule(join(dir, run)).iterations;
      tails.set(run, t);
    }
    return t;
  };
  const poll = (): void => {
    if (!existsSync(dir)) return;
    for (const run of readdirSync(dir)) {
      const file = logOf(run);
      if (!existsSync(file)) continue;
      const tail = known(run);
      const { train } = parseTrainingLog(readNew(file, tail));
      const last = train[train.length - 1];
      if (!last) continue;
      const now = Date.now();
      tail.first ??= { t: now, iteration: last.iteration };
      const finished = tail.total !== undefined && last.iteration >= tail.total;
      if (now - tail.lastPrint < everyMs && !finished && tail.lastPrint) continue;
      tail.lastPrint = now;
      // The rate over what this watch has seen; before two events, the loop's own it/s.
      const seen = last.iteration - tail.first.iteration;
      const rate = seen > 0 ? seen / ((now - tail.first.t) / 1000) : last.itPerSec;
      const eta =
        tail.total === undefined
          ? ''
          : finished
            ? ', done'
            : `, ETA ${rate > 0 ? formatDuration((tail.total - last.iteration) / rate) : '?'}`;
      write(
        `  ${run}: iteration ${last.iteration}${tail.total ? `/${tail.total}` : ''}, loss ${last.loss.toFixed(3)}${eta}`,
      );
    }
  };
  const timer = setInterval(poll, opts.intervalMs ?? 5000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      poll();
    },
  };
}

/** Run `fn` while watching the run folders under `dir` (see `watchTrainingRuns`). */
export async function whileWatching<T>(
  dir: string,
  fn: () => Promise<T>,
  opts: WatchOptions = {},
): Promise<T> {
  const w = watchTrainingRuns(dir, opts);
  try {
    return await fn();
  } finally {
    w.stop();
  }
}
