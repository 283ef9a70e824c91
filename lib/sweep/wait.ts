/**
 * Waiting for a set of jobs to finish (done or failed), polling the queue — polling rather than
 * queue events, so a Redis restart in between costs one missed poll, not a lost notification.
 */
import type { Job, Queue } from 'bullmq';
import { countStates, sweepStatus, type StatusRow } from './status.ts';
import type { JobData, RunOutcome } from './spec.ts';

export interface WaitOptions {
  /** Poll period, ms (default 5000). */
  pollMs?: number;
  /** Called when the counts change (and on the first poll). */
  onUpdate?: (rows: readonly StatusRow[]) => void;
  signal?: AbortSignal;
}

/** Thrown when runs failed; `failed` holds their rows. */
export class SweepFailedError extends Error {
  readonly fix: string;
  constructor(readonly failed: readonly StatusRow[]) {
    super(
      `${failed.length} run(s) failed: ${failed.map((r) => `${r.id}: ${r.reason}`).join('; ')}`,
    );
    this.name = 'SweepFailedError';
    this.fix =
      'see offseg sweep status for details; fix the cause, then submit again (failed runs are queued again)';
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Resolve with the jobs `ids` once every one is done or failed.
 * @throws SweepFailedError if any failed (after all have finished); Error if `signal` aborted.
 */
export async function waitForRuns(
  queue: Queue<JobData, RunOutcome>,
  ids: readonly string[],
  opts: WaitOptions = {},
): Promise<Job<JobData, RunOutcome>[]> {
  const wanted = new Set(ids);
  let last = '';
  for (;;) {
    let rows: StatusRow[] | undefined;
    try {
      rows = (await sweepStatus(queue)).filter((r) => wanted.has(r.id));
    } catch {
      rows = undefined; // Redis restarting: try again at the next poll
    }
    if (rows) {
      const key = JSON.stringify(countStates(rows));
      if (key !== last) opts.onUpdate?.(rows);
      last = key;
      const finished = rows.filter((r) => r.state === 'done' || r.state === 'failed');
      if (finished.length === wanted.size) {
        const failed = rows.filter((r) => r.state === 'failed');
        if (failed.length) throw new SweepFailedError(failed);
        const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
        return jobs.filter((j): j is Job<JobData, RunOutcome> => j !== undefined);
      }
    }
    if (opts.signal?.aborted) throw new Error(`stopped waiting: ${String(opts.signal.reason)}`);
    await sleep(opts.pollMs ?? 5000, opts.signal);
  }
}
