/**
 * Run one spec to its end in this thread, on the backend already selected: the proxy engine for
 * the pretraining and the Table 6/7 runs (lib/train/proxy.ts, with the shared store as its root,
 * so it writes exactly the result JSONs the notebooks read), the generic loop for config runs.
 * Every path resumes from the run folder's last checkpoint and reuses a finished result.
 */
import { ensurePretrainedBackbone, runProxy } from '../train/proxy.ts';
import { runConfigRun } from './config_run.ts';
import { isDone, resolveRun, type RunOutcome, type RunSpec } from './spec.ts';
import { envFlag } from '../env.ts';

/** Thrown when a run cannot start on this worker for a reason retrying will not fix. */
export class RunRefusedError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = 'RunRefusedError';
    this.fix = fix;
  }
}

const SKIP_TRAIN = new RunRefusedError(
  'OFFSEG_SKIP_TRAIN=1 is set on this worker, so it does not train',
  'unset OFFSEG_SKIP_TRAIN where the worker runs and restart it',
);

/**
 * Train (or resume, or reuse) `spec` with `store` as the root of results/, work_dirs/, .cache/.
 * @param beforeTraining called once before any training starts (not for a run already in the
 *   store), e.g. to choose the backend: a finished run costs no backend start-up.
 * @throws ProxyGateError (pretraining below the gate), ConfigError, TrainingDivergedError,
 *   RunRefusedError.
 */
export async function runSpec(
  spec: RunSpec,
  store: string,
  beforeTraining: () => Promise<void> = async () => {},
): Promise<RunOutcome> {
  const run = resolveRun(spec, store);
  if (!isDone(store, run)) {
    if (spec.kind !== 'config' && envFlag('OFFSEG_SKIP_TRAIN')) throw SKIP_TRAIN;
    await beforeTraining();
  }
  if (spec.kind === 'pretrain') {
    const pre = await ensurePretrainedBackbone(spec.mode === 'quick', store);
    if (!pre) throw SKIP_TRAIN;
    return { result: run.result, mIoU: pre.mIoU, iterations: pre.iterations, seconds: pre.seconds };
  }
  if (spec.kind === 'proxy') {
    const quick = spec.mode === 'quick';
    const r = await runProxy({ model: spec.model, seed: spec.seed, quick, root: store });
    if (!r) throw SKIP_TRAIN;
    return { result: run.result, mIoU: r.mIoU, iterations: r.iterations, seconds: r.seconds };
  }
  const r = await runConfigRun(spec, store);
  return { result: run.result, mIoU: r.mIoU, iterations: r.iterations, seconds: r.seconds };
}
