/**
 * A training run's resumable state on disk: model parameters and buffers, AdamW moments and
 * step, the loader's position, every module's RNG state, and the config it belongs to — packed
 * into a checkpoint (./checkpoint.ts format), restored from one, and pruned by the run's
 * keep policy. Resuming restores exactly this, so an interrupted run continues bit-identically.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../config/schema.ts';
import type { SegDataLoader, LoaderState } from '../data/loader.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { loadCheckpoint } from './checkpoint.ts';
import type { AdamW } from './optim.ts';
import { RunDirError } from './run_dir.ts';

/** Meta stored in every checkpoint: what resume needs besides tensors. */
export interface CheckpointMeta {
  format: 'offseg-ts/train-v1';
  iteration: number;
  optimizerStep: number;
  loader: LoaderState;
  rngs: Record<string, number>;
  config: RunConfig;
  configHash: string;
  bestMIoU: number | null;
}

/**
 * The tensors (`model.<key>`, `optim.m.<key>`, `optim.v.<key>`; not copies) and the meta of a
 * checkpoint at `iteration`.
 */
export function packTrainState(
  model: Segmentor,
  opt: AdamW,
  loader: SegDataLoader,
  at: Pick<CheckpointMeta, 'iteration' | 'config' | 'configHash' | 'bestMIoU'>,
): { meta: CheckpointMeta; tensors: Map<string, tf.Tensor> } {
  const tensors = new Map<string, tf.Tensor>();
  for (const e of [...model.namedParameters(), ...model.namedBuffers()])
    tensors.set(`model.${e.key}`, e.variable);
  for (const [k, v] of opt.state.m) tensors.set(`optim.m.${k}`, v);
  for (const [k, v] of opt.state.v) tensors.set(`optim.v.${k}`, v);
  const meta: CheckpointMeta = {
    format: 'offseg-ts/train-v1',
    iteration: at.iteration,
    optimizerStep: opt.state.step,
    loader: loader.getState(),
    rngs: Object.fromEntries(model.namedRngs().map(([n, r]) => [n, r.getState()])),
    config: at.config,
    configHash: at.configHash,
    bestMIoU: at.bestMIoU,
  };
  return { meta, tensors };
}

/** Load a training checkpoint into model, optimiser and loader; check it belongs to this config. */
export function restore(
  path: string,
  model: Segmentor,
  opt: AdamW,
  loader: SegDataLoader,
  cfg: RunConfig,
): CheckpointMeta {
  const { meta, tensors } = loadCheckpoint<CheckpointMeta>(path);
  if (meta.format !== 'offseg-ts/train-v1')
    throw new RunDirError(
      `${path}: not an offseg-ts training checkpoint`,
      'resume a work dir written by offseg train',
    );
  if (
    meta.config.model.name !== cfg.model.name ||
    meta.config.model.numClasses !== cfg.model.numClasses
  ) {
    throw new RunDirError(
      `${path} was written for ${meta.config.model.name} (K=${meta.config.model.numClasses}), not ${cfg.model.name} (K=${cfg.model.numClasses})`,
      'resume with the config that started the run (config.json in the work dir), or choose another --work-dir',
    );
  }
  const assign = (key: string, v: tf.Variable) => {
    const t = tensors.get(key);
    if (!t)
      throw new RunDirError(
        `${path}: missing tensor ${key}`,
        'the checkpoint is incomplete or from another model: resume from an earlier one',
      );
    v.assign(t.dtype === v.dtype ? t : tf.cast(t, v.dtype));
  };
  for (const e of [...model.namedParameters(), ...model.namedBuffers()])
    assign(`model.${e.key}`, e.variable);
  for (const [k, v] of opt.state.m) assign(`optim.m.${k}`, v);
  for (const [k, v] of opt.state.v) assign(`optim.v.${k}`, v);
  for (const t of tensors.values()) t.dispose();
  opt.state.step = meta.optimizerStep;
  loader.setState(meta.loader);
  for (const [n, r] of model.namedRngs()) if (meta.rngs[n] !== undefined) r.setState(meta.rngs[n]);
  return meta;
}

/**
 * Keep the newest `keepCheckpoints` interval checkpoints (the final one is always kept); a
 * checkpoint written on an interrupt (off the interval) goes once a newer interval one exists.
 */
export function pruneCheckpoints(workDir: string, current: number, cfg: RunConfig): void {
  const keep = cfg.runtime.keepCheckpoints;
  const interval = cfg.runtime.checkpointInterval;
  if (current % interval !== 0) return;
  for (const f of readdirSync(workDir)) {
    const m = /^iter_(\d+)\.ckpt$/.exec(f);
    const it = m ? Number(m[1]) : NaN;
    if (!(it < current)) continue;
    const offInterval = it % interval !== 0;
    if (offInterval || (keep > 0 && it <= current - keep * interval)) rmSync(join(workDir, f));
  }
}
