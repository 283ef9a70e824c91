/**
 * The training loop, readable in one sitting (after nanoGPT's train.py). One
 * iteration = one optimiser step over `batchSize` images in `accumulate` micro-batches:
 *   1. set the lr (LinearLR warm-up, then PolyLR);
 *   2. forward/backward each micro-batch, summing gradients (loss scaled by 1/accumulate; the
 *      model's own `loss` when it has one, else per-pixel cross-entropy);
 *   3. stop on a NaN/∞ loss, naming the iteration and the last good checkpoint;
 *   4. optional global gradient-norm clipping, then AdamW with mmengine's per-parameter lr/decay
 *      multipliers;
 *   5. log (JSONL + progress), checkpoint and evaluate at their intervals and at the end.
 * Everything a run depends on (model, datasets, clock, progress sink) comes in through `deps`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import type { RunConfig } from '../config/schema.ts';
import type { Segmentor } from '../models/segmentor.ts';
import type { SegDataset } from '../data/dataset.ts';
import { SegDataLoader } from '../data/loader.ts';
import type { TrainPipelineConfig, TestPipelineConfig } from '../data/transforms/pipeline.ts';
import { evaluate } from '../eval/evaluate.ts';
import type { IoUResult } from '../eval/iou_metric.ts';
import { AdamW } from './optim.ts';
import { buildParamGroups } from './param_groups.ts';
import { lrAt, type ScheduleConfig } from './schedule.ts';
import { segCrossEntropy } from './loss.ts';
import { clipGradNorm } from './clip_grad.ts';
import { setGradientCheckpointing } from '../models/core/grad_checkpoint.ts';
import { saveCheckpoint, writeLastCheckpoint } from './checkpoint.ts';
import { checkpointName, JsonlLogger } from './run_dir.ts';
import { packTrainState, pruneCheckpoints, restore } from './train_state.ts';

export { restore, type CheckpointMeta } from './train_state.ts';
import { testInference } from './build.ts';

export interface TrainDeps {
  model: Segmentor;
  trainSet: SegDataset;
  valSet?: SegDataset;
  trainPipeline: TrainPipelineConfig;
  testPipeline: TestPipelineConfig;
  /** Receives one event per iteration (progress bars live in the CLI). */
  onIteration?: (e: IterationEvent) => void;
  onEval?: (iteration: number, result: IoUResult) => void;
  /** Tests: stop after this many iterations of this call, as if killed (no final checkpoint). */
  stopAfter?: number;
  /**
   * Stop cleanly when aborted (the CLI aborts on SIGINT/SIGTERM): at the next iteration boundary,
   * where model, optimiser and loader agree, write a checkpoint and return with `interrupted`.
   */
  signal?: AbortSignal;
  /** Told where a resumed run starts, before its first iteration. */
  onResume?: (e: ResumeEvent) => void;
  now?: () => number;
}

export interface IterationEvent {
  iteration: number;
  total: number;
  loss: number;
  lr: number;
  itPerSec: number;
}

export interface ResumeEvent {
  from: string;
  iteration: number;
  total: number;
  bestMIoU: number | null;
}

export interface TrainResult {
  iteration: number;
  lastCheckpoint?: string;
  lastEval?: IoUResult;
  /** Set when `deps.signal` stopped the run: the abort reason (e.g. 'SIGINT'). */
  interrupted?: string;
}

export class TrainingDivergedError extends Error {
  readonly fix: string;
  constructor(iteration: number, loss: number, lastGood: string | undefined) {
    super(
      `loss is ${loss} at iteration ${iteration}; last good checkpoint: ${lastGood ?? 'none (no checkpoint written yet)'}`,
    );
    this.name = 'TrainingDivergedError';
    this.fix =
      'lower the learning rate or check the data, then resume from the last good checkpoint';
  }
}

function schedule(cfg: RunConfig): ScheduleConfig {
  const s = cfg.schedule;
  return {
    warmupIters: s.warmupIters,
    warmupFactor: s.warmupFactor,
    polyEnd: s.polyEnd ?? s.iterations,
    power: s.power,
    etaMin: s.etaMin,
  };
}

/**
 * Forward and backward over `accumulate` micro-batches from `loader`, each loss scaled by
 * 1/accumulate, gradients summed per parameter key. Returns the summed loss and the gradients
 * (the caller disposes them).
 */
async function accumulateGradients(
  model: Segmentor,
  params: ReturnType<Segmentor['namedParameters']>,
  loader: SegDataLoader,
  accumulate: number,
): Promise<{ loss: number; grads: Map<string, tf.Tensor> }> {
  const grads = new Map<string, tf.Tensor>();
  let loss = 0;
  for (let a = 0; a < accumulate; a++) {
    const batch = await loader.next();
    // A model with its own loss (Mask2Former's set-prediction loss) uses it; every other
    // model trains with per-pixel cross-entropy on its logits.
    const lossOf = () =>
      model.loss
        ? model.loss(batch.images, batch.labels)
        : segCrossEntropy(model.forward(batch.images), batch.labels);
    const { value, grads: g } = tf.variableGrads(
      () => tf.div(lossOf(), accumulate) as tf.Scalar,
      params.map((p) => p.variable),
    );
    loss += (await value.data())[0];
    value.dispose();
    batch.images.dispose();
    batch.labels.dispose();
    for (const p of params) {
      const gi = g[p.variable.name];
      if (!gi) continue;
      const prev = grads.get(p.key);
      if (prev) {
        grads.set(p.key, tf.add(prev, gi));
        prev.dispose();
        gi.dispose();
      } else grads.set(p.key, gi);
    }
  }
  return { loss, grads };
}

/**
 * Train `deps.model` under `cfg` in `workDir` (JSONL log, checkpoints, evaluations), resuming
 * from `resumeFrom` when given (./train_state.ts restores model, optimiser, loader and RNGs).
 * Images NHWC float32, labels int32 with 255 ignored.
 * @throws TrainingDivergedError on a NaN/∞ loss (the weights are left at the last good step).
 */
export async function train(
  cfg: RunConfig,
  configHash: string,
  workDir: string,
  deps: TrainDeps,
  resumeFrom?: string,
): Promise<TrainResult> {
  const { model, trainSet } = deps;
  const now = deps.now ?? (() => performance.now());
  const log = new JsonlLogger(join(workDir, 'log.jsonl'));
  const sched = schedule(cfg);
  const micro = cfg.data.batchSize / cfg.data.accumulate;
  // Unset: recompute activations on WASM from 256² crops (a 256² batch-2 OffSeg-T step exceeds
  // the 4 GiB wasm32 heap otherwise); the key is optional so existing config hashes are kept.
  const [ch, cw] = cfg.data.train.crop;
  setGradientCheckpointing(
    cfg.runtime.gradCheckpoint ?? (tf.getBackend() === 'wasm' && ch * cw >= 256 * 256),
  );

  // Optimiser over every trainable parameter, grouped as mmengine's paramwise_cfg does.
  const params = model.namedParameters();
  const groups = buildParamGroups(
    params.map((p) => p.key),
    cfg.optimizer.customKeys,
  );
  const opt = new AdamW(
    params.map((p, i) => ({ key: p.key, variable: p.variable, group: groups[i] })),
    {
      lr: cfg.optimizer.lr,
      betas: [...cfg.optimizer.betas] as [number, number],
      weightDecay: cfg.optimizer.weightDecay,
      eps: cfg.optimizer.eps,
    },
  );
  const loader = new SegDataLoader(trainSet, {
    batchSize: micro,
    seed: cfg.runtime.seed,
    pipeline: deps.trainPipeline,
  });

  let start = 0;
  let bestMIoU: number | null = null;
  let lastCheckpoint = resumeFrom;
  if (resumeFrom) {
    const meta = restore(resumeFrom, model, opt, loader, cfg);
    start = meta.iteration;
    bestMIoU = meta.bestMIoU;
    log.log({ event: 'resume', from: resumeFrom, iteration: start });
    deps.onResume?.({
      from: resumeFrom,
      iteration: start,
      total: cfg.schedule.iterations,
      bestMIoU,
    });
  }
  let checkpointed = start; // the iteration the newest checkpoint holds

  const writeCheckpoint = async (iteration: number): Promise<string> => {
    const path = join(workDir, checkpointName(iteration));
    const { meta, tensors } = packTrainState(model, opt, loader, {
      iteration,
      config: cfg,
      configHash,
      bestMIoU,
    });
    await saveCheckpoint(path, meta, tensors);
    writeLastCheckpoint(workDir, checkpointName(iteration));
    checkpointed = iteration;
    pruneCheckpoints(workDir, iteration, cfg);
    log.log({ event: 'checkpoint', iteration, path });
    return path;
  };

  let lastEval: IoUResult | undefined;
  const runEval = async (iteration: number) => {
    if (!deps.valSet) return;
    const t0 = now();
    lastEval = await evaluate(model, deps.valSet, {
      pipeline: deps.testPipeline,
      inference: testInference(cfg),
      limit: cfg.data.test.maxImages,
    });
    const m = lastEval.reported;
    if (bestMIoU === null || m.mIoU > bestMIoU) bestMIoU = m.mIoU;
    log.log({
      event: 'eval',
      iteration,
      aAcc: m.aAcc,
      mIoU: m.mIoU,
      mAcc: m.mAcc,
      IoU: m.IoU,
      seconds: (now() - t0) / 1000,
    });
    deps.onEval?.(iteration, lastEval);
  };

  model.train();
  let tLast = now();
  let done = 0;
  for (let it = start; it < cfg.schedule.iterations; it++) {
    if (deps.stopAfter !== undefined && done >= deps.stopAfter) {
      return { iteration: it, lastCheckpoint, lastEval };
    }
    // 0. an abort (Ctrl-C) stops here, between steps, with a checkpoint of the steps done
    if (deps.signal) {
      await new Promise((resolve) => setImmediate(resolve)); // let a pending signal be delivered
      if (deps.signal.aborted) {
        const reason = String(deps.signal.reason ?? 'aborted');
        if (it > checkpointed) lastCheckpoint = await writeCheckpoint(it);
        log.log({
          event: 'interrupted',
          reason,
          iteration: it,
          checkpoint: lastCheckpoint ?? null,
        });
        return { iteration: it, lastCheckpoint, lastEval, interrupted: reason };
      }
    }
    // 1. learning rate for this step (per group: base × mult through the schedule)
    const lrFn = (base: number) => lrAt(it, base, sched);

    // 2. forward/backward over the micro-batches, summing gradients
    const { loss: lossSum, grads } = await accumulateGradients(
      model,
      params,
      loader,
      cfg.data.accumulate,
    );

    // 3. a diverged loss stops the run before it touches the weights
    if (!Number.isFinite(lossSum)) {
      for (const g of grads.values()) g.dispose();
      log.log({ event: 'diverged', iteration: it + 1, loss: lossSum });
      throw new TrainingDivergedError(it + 1, lossSum, lastCheckpoint);
    }

    // 4. optimiser step (after clipping the global gradient norm when the config asks)
    if (cfg.optimizer.clipGrad) clipGradNorm(grads, cfg.optimizer.clipGrad.maxNorm);
    opt.step(grads, lrFn);
    for (const g of grads.values()) g.dispose();
    done++;

    // 5. log, checkpoint, evaluate
    const iteration = it + 1;
    const t = now();
    const itPerSec = 1000 / Math.max(t - tLast, 1e-6);
    tLast = t;
    const lr = lrFn(cfg.optimizer.lr);
    deps.onIteration?.({ iteration, total: cfg.schedule.iterations, loss: lossSum, lr, itPerSec });
    if (iteration % cfg.runtime.logInterval === 0 || iteration === cfg.schedule.iterations) {
      log.log({
        event: 'train',
        iteration,
        loss: lossSum,
        lr,
        itPerSec,
        numTensors: tf.memory().numTensors,
      });
    }
    const last = iteration === cfg.schedule.iterations;
    if (iteration % cfg.runtime.checkpointInterval === 0 || last)
      lastCheckpoint = await writeCheckpoint(iteration);
    if (iteration % cfg.runtime.evalInterval === 0 || last) await runEval(iteration);
    model.train();
  }
  return { iteration: cfg.schedule.iterations, lastCheckpoint, lastEval };
}
