/**
 * Running the proxy study's pieces: the shared pretraining (once per protocol hash) and one
 * fine-tuning run per (variant, seed), both through the shared training loop in
 * work_dirs/proxy/, resumable, and cached as result records while their hashes match.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../config/schema.ts';
import { exportPth } from '../../io/checkpoint.ts';
import { loadWeightsFile } from '../../io/load_weights.ts';
import type { OffSeg } from '../../models/offseg.ts';
import type { Segmentor } from '../../models/segmentor.ts';
import { createModel } from '../../models/registry.ts';
import type { IoUResult } from '../../eval/iou_metric.ts';
import { evaluateWithConfig } from '../evaluate_checkpoint.ts';
import { currentBackend, selectBackend } from '../../backend/select.ts';
import { repoRoot } from '../../paths.ts';
import { buildDatasets, testPipeline, trainPipeline } from '../build.ts';
import { readLastCheckpoint } from '../checkpoint.ts';
import { train, type TrainResult } from '../loop.ts';
import { writeJson } from '../run_dir.ts';
import { FrozenBackbone } from './frozen_backbone.ts';
import { checkGate } from './gate.ts';
import {
  BACKBONE_PREFIX,
  backbonePath,
  finetuneConfig,
  modeOf,
  pretrainConfig,
  proxyProtocol,
  skipTrain,
} from './protocol.ts';
import {
  abs,
  log,
  pretrainResultPath,
  readJson,
  rel,
  resultPath,
  type PretrainResult,
  type ProxyOptions,
  type ProxyResult,
} from './results.ts';

async function ensureBackend(): Promise<{ backend: string; threads: number }> {
  const b = currentBackend() ?? (await selectBackend({}));
  return { backend: b.name, threads: b.threads };
}

/** Start or resume a run in `workDir`; a folder without a checkpoint is a failed start: cleared. */
function resumePoint(workDir: string): string | undefined {
  const last = existsSync(workDir) ? readLastCheckpoint(workDir) : undefined;
  if (last && existsSync(last)) return last;
  if (existsSync(workDir)) rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  return undefined;
}

/**
 * Train `model` under `config` in `workDir` through the shared loop (resuming from its last
 * checkpoint if there is one) and score it; the time covers training and evaluation.
 */
async function trainAndScore(
  config: RunConfig,
  hash: string,
  workDir: string,
  model: Segmentor,
): Promise<{ r: TrainResult; ev: IoUResult; seconds: number }> {
  const resumeFrom = resumePoint(workDir);
  if (!resumeFrom) writeJson(join(workDir, 'config.json'), config);
  const { train: trainSet, val: valSet } = await buildDatasets(config);
  const t0 = performance.now();
  const r = await train(
    config,
    hash,
    workDir,
    {
      model,
      trainSet: trainSet!,
      valSet,
      trainPipeline: trainPipeline(config),
      testPipeline: testPipeline(config),
    },
    resumeFrom,
  );
  // A run that had already finished (its result JSON removed) resumes at its end: score it here.
  const ev = r.lastEval ?? (await evaluateWithConfig(model, valSet!, config));
  return { r, ev, seconds: (performance.now() - t0) / 1000 };
}

/** The pretrained backbone for this mode: cached, or trained now (unless OFFSEG_SKIP_TRAIN=1). */
export async function ensurePretrainedBackbone(
  quick?: boolean,
  root = repoRoot(),
): Promise<PretrainResult | undefined> {
  const mode = modeOf(quick);
  const { config, hash } = pretrainConfig(quick);
  const path = backbonePath(quick, root);
  const resultPath = pretrainResultPath(root, mode);
  const cached = readJson<PretrainResult>(resultPath);
  if (existsSync(path) && cached?.configHash === hash)
    return checkGate({ ...cached, path }, resultPath);
  if (skipTrain()) return undefined;

  const env = await ensureBackend();
  const workDir = join(root, 'work_dirs', 'proxy', `pretrain-${mode}-${hash}`);
  const model = createModel(config.model.name, {
    numClasses: config.model.numClasses,
    seed: config.runtime.seed,
  }) as OffSeg;
  log(`pretraining the backbone (${mode}): ${config.schedule.iterations} iterations in ${workDir}`);
  const { r, ev, seconds } = await trainAndScore(config, hash, workDir, model);
  mkdirSync(join(root, '.cache', 'proxy'), { recursive: true });
  exportPth(model.backbone, path, { config: JSON.stringify(config), configHash: hash });
  const result: PretrainResult = {
    mode,
    configHash: hash,
    path,
    mIoU: ev.reported.mIoU,
    iterations: r.iteration,
    seconds: Math.round(seconds * 10) / 10,
    ...env,
  };
  model.dispose();
  mkdirSync(join(root, 'results', 'proxy', 'runs'), { recursive: true });
  writeJson(resultPath, { ...result, path: rel(root, path) });
  log(`backbone ready: ${path} (pretraining mIoU ${result.mIoU}, ${result.seconds} s)`);
  return checkGate(result, resultPath);
}

/** Build a variant with the pretrained backbone loaded (every backbone key must load). */
export function buildProxyModel(
  model: string,
  seed: number,
  backbonePath: string,
  numClasses: number,
): OffSeg {
  const m = createModel(model, { numClasses, seed }) as OffSeg;
  if (!('backbone' in m) || !('decodeHead' in m))
    throw new Error(`proxy experiments need an OffSeg variant, got ${model}`);
  // every backbone tensor must load (minLoaded 1 within the backbone. scope); unused keys are an error
  const report = loadWeightsFile(m, backbonePath, { addPrefix: BACKBONE_PREFIX, minLoaded: 1 });
  if (report.unexpected.length)
    throw new Error(
      `${backbonePath}: ${report.unexpected.length} unexpected tensors (${report.unexpected.slice(0, 3).join(', ')})`,
    );
  return m;
}

/**
 * The finished run's record when its config hash matches the current protocol (and, with
 * `needModel`, its checkpoint and backbone files exist); undefined otherwise. Never trains.
 */
export function cachedProxyResult(opts: ProxyOptions): ProxyResult | undefined {
  const mode = modeOf(opts.quick);
  const quick = mode === 'quick';
  const root = opts.root ?? repoRoot();
  const cached = readJson<ProxyResult>(resultPath(root, opts.model, opts.seed, mode));
  // The hash needs the backbone path, which needs the pretraining hash (cheap, no training).
  const { hash } = finetuneConfig(opts.model, opts.seed, backbonePath(quick, root), quick);
  const filesExist = (r: ProxyResult) =>
    existsSync(abs(root, r.checkpoint)) && existsSync(abs(root, r.backbone));
  if (cached?.configHash === hash && (!opts.needModel || filesExist(cached))) return cached;
  return undefined;
}

/**
 * Train (or reuse) one proxy run. Returns undefined only when OFFSEG_SKIP_TRAIN=1 and nothing is
 * cached ("not run").
 */
export async function runProxy(opts: ProxyOptions): Promise<ProxyResult | undefined> {
  const mode = modeOf(opts.quick);
  const quick = mode === 'quick';
  const root = opts.root ?? repoRoot();
  const out = resultPath(root, opts.model, opts.seed, mode);
  const hit = cachedProxyResult(opts);
  if (hit) return hit;
  if (skipTrain()) return undefined;
  const bb = backbonePath(quick, root);
  const { config, hash } = finetuneConfig(opts.model, opts.seed, bb, quick);

  const pre = await ensurePretrainedBackbone(quick, root);
  if (!pre) return undefined;
  const env = await ensureBackend();
  const workDir = join(root, 'work_dirs', 'proxy', `${opts.model}-s${opts.seed}-${hash}`);
  const full = buildProxyModel(opts.model, opts.seed, pre.path, config.model.numClasses);
  const model: Segmentor = proxyProtocol().freezeBackbone ? new FrozenBackbone(full) : full;
  const { r, ev, seconds } = await trainAndScore(config, hash, workDir, model);
  full.dispose();
  const result: ProxyResult = {
    model: opts.model,
    seed: opts.seed,
    mode,
    mIoU: ev.reported.mIoU,
    aAcc: ev.reported.aAcc,
    IoU: Object.fromEntries(
      ev.classNames.map((c, i) => [
        c,
        Number.isNaN(ev.reported.IoU[i]) ? null : ev.reported.IoU[i],
      ]),
    ),
    iterations: r.iteration,
    seconds: Math.round(seconds * 10) / 10,
    ...env,
    configHash: hash,
    workDir: rel(root, workDir),
    checkpoint: rel(root, r.lastCheckpoint ?? ''),
    backbone: rel(root, pre.path),
    finished: new Date().toISOString(),
  };
  mkdirSync(join(root, 'results', 'proxy', 'runs'), { recursive: true });
  writeJson(out, result);
  log(`${opts.model} seed ${opts.seed} (${mode}): mIoU ${result.mIoU} in ${result.seconds} s`);
  return result;
}

/** The trained model of a finished run, full (backbone + head), in eval mode. */
export function loadProxyModel(
  result: ProxyResult,
  numClasses = finetuneConfig(result.model, result.seed, result.backbone, result.mode === 'quick')
    .config.model.numClasses,
  root = repoRoot(),
): OffSeg {
  const m = buildProxyModel(result.model, result.seed, abs(root, result.backbone), numClasses);
  // The run's checkpoint holds the whole network, or only the head when the protocol froze the
  // backbone (FrozenBackbone's keys are decode_head.*): every tensor of that part must load.
  const ckpt = abs(root, result.checkpoint);
  if (proxyProtocol().freezeBackbone)
    loadWeightsFile(m.decodeHead, ckpt, { stripPrefix: 'decode_head.', minLoaded: 1 });
  else loadWeightsFile(m, ckpt, { minLoaded: 1 });
  return m.eval();
}
