/**
 * A config run of a sweep through the generic training loop (lib/train/loop.ts), in the shared
 * store: `work_dirs/sweep/<name>-<hash>/` holds config.json, run.json, log.jsonl, checkpoints and
 * final.pth; `results/sweep/runs/<name>-<hash>.json` the result. A folder with a checkpoint is
 * resumed from it (the loop resumes bit-identically), so a run re-taken by another worker after
 * its first one died continues where the last checkpoint left it. A result JSON with the run's
 * config hash means the run is finished: it is returned as is.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { currentBackend } from '../backend/select.ts';
import type { RunConfig } from '../config/schema.ts';
import { evaluate } from '../eval/evaluate.ts';
import type { IoUResult } from '../eval/iou_metric.ts';
import { exportPth } from '../io/checkpoint.ts';
import {
  buildDatasets,
  buildModel,
  testInference,
  testPipeline,
  trainPipeline,
} from '../train/build.ts';
import { readLastCheckpoint } from '../train/checkpoint.ts';
import { train } from '../train/loop.ts';
import { writeJson } from '../train/run_dir.ts';
import { codeVersion, loadSpecConfig, resolveRun, type ConfigSpec } from './spec.ts';

/** The result JSON of a config run (paths relative to the store). */
export interface ConfigRunResult {
  name: string;
  config: string;
  overrides: readonly string[];
  seed: number;
  configHash: string;
  mIoU: number;
  aAcc: number;
  mAcc: number;
  /** Per-class IoU in percent (null: class absent from the val split and never predicted). */
  IoU: Record<string, number | null>;
  iterations: number;
  /** Wall time of this attempt's training + evaluation, s (not of earlier attempts). */
  seconds: number;
  backend: string;
  threads: number;
  gitCommit: string;
  workDir: string;
  /** Last training checkpoint (weights, optimiser moments, loader state). */
  checkpoint: string;
  /** PyTorch-loadable final weights. */
  weights: string;
  finished: string;
}

function percentOrNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

/** Resume point of `dir`, or a clean folder (leftovers of a start that wrote no checkpoint go). */
function prepare(dir: string): string | undefined {
  const last = existsSync(dir) ? readLastCheckpoint(dir) : undefined;
  if (last && existsSync(last)) return last;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return undefined;
}

function score(
  model: Parameters<typeof evaluate>[0],
  cfg: RunConfig,
  val: Parameters<typeof evaluate>[1],
) {
  return evaluate(model, val, {
    pipeline: testPipeline(cfg),
    inference: testInference(cfg),
    limit: cfg.data.test.maxImages,
  });
}

/**
 * Train (or resume, or reuse) one config run in `store` on the backend already selected.
 * @throws ConfigError / SpecError for a config that does not resolve, TrainingDivergedError.
 */
export async function runConfigRun(spec: ConfigSpec, store: string): Promise<ConfigRunResult> {
  const run = resolveRun(spec, store);
  const resultPath = join(store, run.result);
  if (existsSync(resultPath)) {
    const cached = JSON.parse(readFileSync(resultPath, 'utf8')) as ConfigRunResult;
    if (cached.configHash === run.configHash) return cached;
  }
  const { config: cfg } = loadSpecConfig(spec);
  const workDir = join(store, run.workDir);
  const resumeFrom = prepare(workDir);
  if (!resumeFrom) {
    writeJson(join(workDir, 'config.json'), cfg);
    writeJson(join(workDir, 'run.json'), {
      config: spec.config,
      overrides: spec.overrides,
      configHash: run.configHash,
      seed: cfg.runtime.seed,
      gitCommit: codeVersion(),
      started: new Date().toISOString(),
    });
  }
  const { train: trainSet, val: valSet } = await buildDatasets(cfg);
  const model = buildModel(cfg, { skipInit: Boolean(resumeFrom) });
  const t0 = performance.now();
  try {
    const r = await train(
      cfg,
      run.configHash,
      workDir,
      {
        model,
        trainSet: trainSet!,
        valSet,
        trainPipeline: trainPipeline(cfg),
        testPipeline: testPipeline(cfg),
      },
      resumeFrom,
    );
    // A run that had finished before its result was written resumes at its end: score it here.
    const ev: IoUResult = r.lastEval ?? (await score(model, cfg, valSet!));
    exportPth(model, join(workDir, 'final.pth'), {
      config: JSON.stringify(cfg),
      iteration: r.iteration,
    });
    const b = currentBackend();
    const m = ev.reported;
    const result: ConfigRunResult = {
      name: run.name,
      config: spec.config,
      overrides: spec.overrides,
      seed: cfg.runtime.seed,
      configHash: run.configHash,
      mIoU: m.mIoU,
      aAcc: m.aAcc,
      mAcc: m.mAcc,
      IoU: Object.fromEntries(ev.classNames.map((c, i) => [c, percentOrNull(m.IoU[i])])),
      iterations: r.iteration,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      backend: b?.name ?? 'unknown',
      threads: b?.threads ?? 1,
      gitCommit: codeVersion(),
      workDir: run.workDir,
      checkpoint: r.lastCheckpoint ? relative(store, r.lastCheckpoint).split('\\').join('/') : '',
      weights: `${run.workDir}/final.pth`,
      finished: new Date().toISOString(),
    };
    mkdirSync(dirname(resultPath), { recursive: true });
    writeJson(resultPath, result);
    return result;
  } finally {
    model.dispose();
  }
}
