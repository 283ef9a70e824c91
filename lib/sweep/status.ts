/**
 * `offseg sweep status`: one row per job of the queue — queued, waiting (for its pretraining),
 * running (on which worker, at which iteration, ETA), done (mIoU) or failed (why) — read from
 * BullMQ's job states and the progress the workers report.
 */
import type { Job, JobType, Queue } from 'bullmq';
import { formatDuration, type JobProgress } from './progress.ts';
import type { JobData, RunOutcome } from './spec.ts';

export type RunState = 'running' | 'queued' | 'waiting' | 'failed' | 'done';

export interface StatusRow {
  id: string;
  state: RunState;
  sweep: string;
  /** Worker running (or last running) the job. */
  worker?: string;
  progress?: JobProgress;
  /** Times a worker started the job (> 1: re-taken after a worker died, or re-queued). */
  attempts: number;
  /** mIoU of a finished run. */
  mIoU?: number;
  /** Why it failed. */
  reason?: string;
  submitted: number;
}

/** BullMQ states per status state; `delayed` jobs are proxy runs waiting for their pretraining. */
const STATES: readonly [RunState, readonly JobType[]][] = [
  ['running', ['active']],
  ['queued', ['waiting', 'prioritized', 'waiting-children']],
  ['waiting', ['delayed']],
  ['failed', ['failed']],
  ['done', ['completed']],
];

function isProgress(p: unknown): p is JobProgress {
  return typeof p === 'object' && p !== null && 'iteration' in p && 'total' in p;
}

function row(job: Job<JobData, RunOutcome>, state: RunState): StatusRow {
  const progress = isProgress(job.progress) ? job.progress : undefined;
  return {
    id: job.id ?? '?',
    state,
    sweep: job.data?.sweep ?? '',
    worker: progress?.worker ?? job.processedBy,
    progress,
    attempts: job.attemptsStarted,
    ...(state === 'done' && job.returnvalue ? { mIoU: job.returnvalue.mIoU } : {}),
    ...(state === 'failed' ? { reason: job.failedReason } : {}),
    submitted: job.timestamp,
  };
}

/** Every job of the queue, in submission order. */
export async function sweepStatus(queue: Queue<JobData, RunOutcome>): Promise<StatusRow[]> {
  const rows: StatusRow[] = [];
  for (const [state, types] of STATES)
    for (const job of await queue.getJobs([...types], 0, -1, true))
      if (job) rows.push(row(job as Job<JobData, RunOutcome>, state));
  return rows.sort((a, b) => a.submitted - b.submitted || a.id.localeCompare(b.id));
}

/** Count of rows per state. */
export function countStates(rows: readonly StatusRow[]): Record<RunState, number> {
  const c: Record<RunState, number> = { running: 0, queued: 0, waiting: 0, failed: 0, done: 0 };
  for (const r of rows) c[r.state]++;
  return c;
}

/** A report older than this (ms) is flagged: its worker may have died (the lease will tell). */
const STALE_MS = 60_000;

/** The status table as text (columns padded), then a summary line. */
export function formatStatus(rows: readonly StatusRow[], now = Date.now()): string {
  if (rows.length === 0) return 'no jobs in the queue (submit a sweep with: offseg sweep submit)';
  const cells = rows.map((r) => {
    const p = r.progress;
    const running = r.state === 'running';
    const iter = p && (running || r.state === 'failed') ? `${p.iteration}/${p.total}` : '';
    const stale =
      running && p && now - p.updated > STALE_MS
        ? ` (no report for ${formatDuration((now - p.updated) / 1000)})`
        : '';
    const eta = running ? formatDuration(p?.etaSeconds ?? null) : '';
    const note =
      r.state === 'done'
        ? `mIoU ${r.mIoU}`
        : r.state === 'failed'
          ? (r.reason ?? '')
          : r.state === 'waiting'
            ? 'waits for its pretraining'
            : r.attempts > 1 && running
              ? `attempt ${r.attempts}${p?.resumedFrom ? `, resumed at iteration ${p.resumedFrom}` : ''}`
              : '';
    return [
      r.id,
      r.state,
      running || r.state !== 'queued' ? (r.worker ?? '') : '',
      iter,
      eta,
      note + stale,
    ];
  });
  const head = ['run', 'state', 'worker', 'iteration', 'ETA', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const fmt = (c: string[]) =>
    c
      .map((x, i) => (i < c.length - 1 ? x.padEnd(widths[i]) : x))
      .join('  ')
      .trimEnd();
  const n = countStates(rows);
  const summary = `${rows.length} runs: ${n.running} running, ${n.queued} queued, ${n.waiting} waiting for pretraining, ${n.done} done, ${n.failed} failed`;
  return [fmt(head), ...cells.map(fmt), summary].join('\n');
}
