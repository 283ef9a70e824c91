/**
 * `offseg sweep collect`: bring the finished runs of the queue from the shared store into a
 * checkout, at the same relative paths — results/proxy/runs/<model>-s<seed>-<mode>.json (what the
 * notebooks read; they reuse a run whose config hash matches) plus the files those JSONs point to
 * (checkpoint and backbone, which Figs. 3 and 5 load), and results/sweep/runs/*.json with final
 * weights for config runs. Copies are atomic (temporary file + rename); identical files are left
 * alone, so collecting twice writes nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { writeAtomic } from '../io/atomic_write.ts';
import { dirname, join, resolve } from 'node:path';
import type { Job, Queue } from 'bullmq';
import { resolveRun, type JobData, type ResolvedRun, type RunOutcome } from './spec.ts';

export interface CollectReport {
  /** Files copied (relative paths). */
  written: string[];
  /** Files already identical in the destination. */
  unchanged: string[];
  /** Finished jobs whose result JSON this host cannot see in the store. */
  missing: string[];
  /** Finished runs found. */
  runs: ResolvedRun[];
}

function digest(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

function same(a: string, b: string): boolean {
  return existsSync(b) && statSync(a).size === statSync(b).size && digest(a) === digest(b);
}

/** Copy `src` to `dst` atomically (lib/io/atomic_write.ts), creating the folder. */
export function atomicCopy(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true });
  writeAtomic(dst, readFileSync(src));
}

/** The store-relative files a result JSON refers to (weights the notebooks or users load). */
function referencedFiles(run: ResolvedRun, json: Record<string, unknown>): string[] {
  const keys =
    run.spec.kind === 'proxy'
      ? ['checkpoint', 'backbone']
      : run.spec.kind === 'pretrain'
        ? ['path']
        : ['weights'];
  return keys.map((k) => json[k]).filter((v): v is string => typeof v === 'string' && v !== '');
}

/** The runs of the queue's completed jobs. */
export async function completedRuns(
  queue: Queue<JobData, RunOutcome>,
  store: string,
): Promise<ResolvedRun[]> {
  const jobs = (await queue.getJobs(['completed'], 0, -1, true)) as Job<JobData, RunOutcome>[];
  return jobs.map((j) => resolveRun(j.data.spec, store));
}

/**
 * Copy each finished run's result (and the files it refers to) from `store` to `out`; a run
 * whose result is not in the store is listed as missing.
 */
export function collectResults(
  runs: readonly ResolvedRun[],
  opts: { store: string; out: string },
): CollectReport {
  const report: CollectReport = { written: [], unchanged: [], missing: [], runs: [] };
  const sameFolder = resolve(opts.store) === resolve(opts.out);
  for (const run of runs) {
    const src = join(opts.store, run.result);
    if (!existsSync(src)) {
      report.missing.push(run.result);
      continue;
    }
    report.runs.push(run);
    const json = JSON.parse(readFileSync(src, 'utf8')) as Record<string, unknown>;
    for (const rel of [...referencedFiles(run, json), run.result]) {
      const from = join(opts.store, rel);
      const to = join(opts.out, rel);
      if (!existsSync(from)) report.missing.push(rel);
      else if (sameFolder || same(from, to)) report.unchanged.push(rel);
      else {
        atomicCopy(from, to); // the result JSON last: it only appears once its files are there
        report.written.push(rel);
      }
    }
  }
  return report;
}
