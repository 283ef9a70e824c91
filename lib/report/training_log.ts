/**
 * Reading a run folder's log.jsonl (written by lib/train/loop.ts, one JSON object per line):
 * `train` events every `runtime.logInterval` iterations (loss, lr, it/s), `eval` events at
 * `runtime.evalInterval` (mIoU, aAcc), plus resume/checkpoint/interrupt markers. A run that is
 * still writing may end in a partial line; it is skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface TrainPoint {
  iteration: number;
  loss: number;
  lr: number;
  itPerSec: number;
}

export interface EvalPoint {
  iteration: number;
  mIoU: number;
  aAcc: number;
}

export interface TrainingLog {
  /** The run's name (its folder name). */
  name: string;
  dir: string;
  train: TrainPoint[];
  eval: EvalPoint[];
  /** From config.json when present: schedule.iterations and runtime.logInterval. */
  iterations?: number;
  logInterval?: number;
  /** Iterations a resumed run restarted from. */
  resumedAt: number[];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/** Parse log.jsonl text (lines that are not complete JSON objects are skipped). */
export function parseTrainingLog(text: string): Pick<TrainingLog, 'train' | 'eval' | 'resumedAt'> {
  const out = { train: [] as TrainPoint[], eval: [] as EvalPoint[], resumedAt: [] as number[] };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const it = num(e.iteration);
    if (e.event === 'train')
      out.train.push({
        iteration: it,
        loss: num(e.loss),
        lr: num(e.lr),
        itPerSec: num(e.itPerSec),
      });
    else if (e.event === 'eval')
      out.eval.push({ iteration: it, mIoU: num(e.mIoU), aAcc: num(e.aAcc) });
    else if (e.event === 'resume') out.resumedAt.push(it);
  }
  return out;
}

/** schedule.iterations and runtime.logInterval of a run folder's config.json, if readable. */
export function runSchedule(dir: string): { iterations?: number; logInterval?: number } {
  const f = join(dir, 'config.json');
  if (!existsSync(f)) return {};
  try {
    const c = JSON.parse(readFileSync(f, 'utf8')) as {
      schedule?: { iterations?: number };
      runtime?: { logInterval?: number };
    };
    return { iterations: c.schedule?.iterations, logInterval: c.runtime?.logInterval };
  } catch {
    return {};
  }
}

/**
 * Read `<dir>/log.jsonl` (and config.json beside it).
 * @throws Error naming the folder when it has no log.jsonl.
 */
export function readTrainingLog(dir: string): TrainingLog {
  const f = join(dir, 'log.jsonl');
  if (!existsSync(f))
    throw new Error(`${dir} has no log.jsonl (not a run folder written by offseg train)`);
  return {
    name: basename(dir),
    dir,
    ...parseTrainingLog(readFileSync(f, 'utf8')),
    ...runSchedule(dir),
  };
}
