/**
 * Entry of the thread a worker runs one job in (lib/sweep/job_thread.ts starts it): run the spec
 * (choosing the backend once it is clear that something will train), post the outcome or the error (name, message, fix) back, and end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend/select.ts';
import { runSpec } from './run_job.ts';
import type { ThreadInput, ThreadReply } from './job_thread.ts';

const input = workerData as ThreadInput;
let reply: ThreadReply;
try {
  const outcome = await runSpec(input.spec, input.store, async () => {
    await selectBackend({ prefer: input.backend, log: false });
  });
  reply = { ok: true, outcome };
} catch (e) {
  const err = e as Error & { fix?: unknown; hint?: unknown };
  const fix =
    typeof err.fix === 'string' ? err.fix : typeof err.hint === 'string' ? err.hint : undefined;
  reply = { ok: false, name: err.name, message: err.message, fix, stack: err.stack };
}
parentPort!.postMessage(reply);
