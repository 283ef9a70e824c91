/**
 * Submitting a sweep: one queue job per run, idempotent. The job id is the run's kind, name and
 * config hash, so a run whose result is already in the store, or whose job is already waiting,
 * running or done, is not queued again; a failed one is retried. Proxy runs bring their
 * pretraining job along (queued first, ahead of the runs, which wait for it).
 */
import type { Queue } from 'bullmq';
import {
  isDone,
  resolveRun,
  type JobData,
  type ResolvedRun,
  type RunOutcome,
  type RunSpec,
} from './spec.ts';

export interface SubmitOptions {
  /** The shared store as this host sees it (a result already there is not queued). */
  store: string;
  /** `codeVersion()` of the submitter, checked by every worker. */
  version: string;
  /** Label for the status table (grid name or run file). */
  sweep: string;
}

/** Job ids by what submit did with them. */
export interface SubmitReport {
  queued: string[];
  /** Waiting, delayed or running already. */
  alreadyQueued: string[];
  /** Result in the store, or job completed. */
  done: string[];
  /** Failed before (or finished without its result in the store): queued again. */
  requeued: string[];
  /** Every run of the sweep, pretraining first. */
  runs: ResolvedRun[];
}

/** Priority of training runs; the pretraining has none, and BullMQ takes those jobs first. */
const RUN_PRIORITY = 1;

/**
 * Resolve every spec (all errors before anything is queued), add the pretraining of proxy runs,
 * and queue what is neither done nor queued.
 * @throws SpecError / ConfigError for a spec this checkout cannot resolve.
 */
export async function submitRuns(
  queue: Queue<JobData, RunOutcome>,
  specs: readonly RunSpec[],
  opts: SubmitOptions,
): Promise<SubmitReport> {
  const byId = new Map<string, ResolvedRun>();
  for (const spec of specs) {
    const run = resolveRun(spec, opts.store);
    if (run.spec.kind === 'proxy') {
      const pre = resolveRun({ kind: 'pretrain', mode: run.spec.mode }, opts.store);
      if (!byId.has(pre.id)) byId.set(pre.id, pre);
    }
    byId.set(run.id, run);
  }
  const runs = [...byId.values()].sort(
    (a, b) => Number(b.spec.kind === 'pretrain') - Number(a.spec.kind === 'pretrain'),
  );
  const report: SubmitReport = { queued: [], alreadyQueued: [], done: [], requeued: [], runs };
  const submitted = new Date().toISOString();
  const add = (run: ResolvedRun) =>
    queue.add(
      run.spec.kind,
      {
        spec: run.spec,
        configHash: run.configHash,
        version: opts.version,
        sweep: opts.sweep,
        submitted,
      },
      { jobId: run.id, ...(run.spec.kind === 'pretrain' ? {} : { priority: RUN_PRIORITY }) },
    );

  for (const run of runs) {
    const stored = isDone(opts.store, run);
    const job = await queue.getJob(run.id);
    const state = job ? await job.getState() : undefined;
    if (stored && state !== 'active') report.done.push(run.id);
    else if (!job || state === 'unknown') {
      await add(run);
      report.queued.push(run.id);
    } else if (state === 'failed') {
      await job.retry('failed');
      report.requeued.push(run.id);
    } else if (state === 'completed') {
      // Finished, but its result is not in this store (deleted to retrain, or another store):
      // queue it again; a worker that still finds the result returns at once.
      await job.remove();
      await add(run);
      report.requeued.push(run.id);
    } else report.alreadyQueued.push(run.id);
  }
  return report;
}

/** One line per category that is not empty, for the CLI. */
export function formatSubmitReport(r: SubmitReport, queueName: string): string {
  const parts = [
    `${r.queued.length} queued`,
    `${r.alreadyQueued.length} already queued or running`,
    `${r.done.length} already done`,
    ...(r.requeued.length ? [`${r.requeued.length} queued again`] : []),
  ];
  const lines = [`${r.runs.length} runs on queue '${queueName}': ${parts.join(', ')}`];
  for (const id of r.queued) lines.push(`  queued        ${id}`);
  for (const id of r.requeued) lines.push(`  queued again  ${id}`);
  return lines.join('\n');
}
