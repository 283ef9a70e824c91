/**
 * Proxy experiments (Tables 6 and 7, Figs. 3 and 5): the paper's ablations trained on
 * the built-in dataset instead of ADE20K, small enough for a 2-core machine. The protocol lives
 * in configs/proxy/ (README.md explains and measures it):
 *   1. once: "pretrain" an EfficientFormerV2-S1 backbone on a differently-seeded built-in set
 *      (stands in for the paper's ImageNet initialisation), exported as a backbone-only .pth
 *      under .cache/proxy/, keyed by its config hash; below the protocol's `pretrainGate` (full
 *      mode) the study stops with ProxyGateError;
 *   2. per (variant, seed): initialise the backbone from it and fine-tune the whole network
 *      (or only the head when the protocol sets `freezeBackbone`) with lib/train/loop.ts
 *      `train()` in work_dirs/proxy/<model>-s<seed>-<hash>/, then evaluate on the val split.
 * Finished runs are cached as results/proxy/runs/<model>-s<seed>-<quick|full>.json and reused
 * while the config hash matches; interrupted runs resume from their last checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { loadConfig } from '../config/compose.ts';
import type { RunConfig } from '../config/schema.ts';
import { exportPth } from '../io/checkpoint.ts';
import { loadWeightsFile } from '../io/load_weights.ts';
import { Module } from '../models/core/module.ts';
import type { OffSeg, Segmentor } from '../models/offseg.ts';
import { createModel } from '../models/registry.ts';
import type { IoUResult } from '../eval/iou_metric.ts';
import { evaluate } from '../eval/evaluate.ts';
import type { SegDataset } from '../data/dataset.ts';
import { currentBackend, selectBackend } from '../backend/select.ts';
import { repoRoot } from '../paths.ts';
import { buildDatasets, testPipeline, trainPipeline } from './build.ts';
import { loadCheckpoint, readLastCheckpoint } from './checkpoint.ts';
import { train, type TrainResult } from './loop.ts';
import { writeJson } from './run_dir.ts';

export interface ProxyOptions {
  model: string;
  seed: number;
  /** Tiny schedules (default: OFFSEG_QUICK=1). */
  quick?: boolean;
  /** Folder holding results/, work_dirs/ and .cache/ (default: the checkout; tests use a temp dir). */
  root?: string;
  /**
   * The caller will load the trained model (Figs. 3 and 5): a cached result counts only if its
   * checkpoint and backbone files exist too (result JSONs are committed, work_dirs/ is not).
   */
  needModel?: boolean;
}

export interface ProxyResult {
  model: string;
  seed: number;
  mode: 'quick' | 'full';
  mIoU: number;
  aAcc: number;
  /** Per-class IoU in percent (null: class absent from the val split and never predicted). */
  IoU: Record<string, number | null>;
  iterations: number;
  /** Wall time of training + evaluation of this run (not of the shared pretraining). */
  seconds: number;
  backend: string;
  threads: number;
  configHash: string;
  /** Paths relative to the root (the checkout): run folder, final checkpoint, backbone. */
  workDir: string;
  /** Final training checkpoint (head only when the backbone is frozen). */
  checkpoint: string;
  /** The pretrained backbone this run started from. */
  backbone: string;
  finished: string;
}

export interface PretrainResult {
  mode: 'quick' | 'full';
  configHash: string;
  /** Backbone-only .pth (keys without the `backbone.` prefix). */
  path: string;
  /** mIoU of the pretraining model (per-pixel head) on the pretraining set's val split. */
  mIoU: number;
  iterations: number;
  seconds: number;
  backend: string;
  threads: number;
}

interface Protocol {
  version: number;
  /** Train only the head on a frozen backbone (false: fine-tune everything, as the paper). */
  freezeBackbone: boolean;
  /** Minimum val mIoU of the full-mode pretraining before any variant is trained. */
  pretrainGate: number;
  /** Base seeds per mode; `extra` are added to both variants of a claim within two std. */
  seeds: { full: number[]; quick: number[]; extra: number[] };
  quick: { pretrain: string[]; finetune: string[] };
}

const BACKBONE_PREFIX = 'backbone.';

export function isQuickMode(): boolean {
  return process.env.OFFSEG_QUICK === '1';
}

function skipTrain(): boolean {
  return process.env.OFFSEG_SKIP_TRAIN === '1';
}

function modeOf(quick: boolean | undefined): 'quick' | 'full' {
  return (quick ?? isQuickMode()) ? 'quick' : 'full';
}

export function proxyProtocol(): Protocol {
  return JSON.parse(
    readFileSync(join(repoRoot(), 'configs', 'proxy', 'protocol.json'), 'utf8'),
  ) as Protocol;
}

/** The seeds a notebook should run in this mode (3 in full mode, 1 in quick mode). */
export function proxySeeds(quick?: boolean): number[] {
  return proxyProtocol().seeds[modeOf(quick)];
}

function shortHash(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 12);
}

function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

/** The resolved pretraining config and its hash (protocol version and mode included). */
export function pretrainConfig(quick?: boolean): { config: RunConfig; hash: string } {
  const mode = modeOf(quick);
  const p = proxyProtocol();
  const file = join(repoRoot(), 'configs', 'proxy', 'pretrain.json');
  const { config } = loadConfig(file, mode === 'quick' ? p.quick.pretrain : []);
  return { config, hash: shortHash({ config, version: p.version }) };
}

/** The resolved fine-tuning config of one variant and seed, and its hash. */
export function finetuneConfig(
  model: string,
  seed: number,
  backbonePath: string,
  quick?: boolean,
): { config: RunConfig; hash: string } {
  const mode = modeOf(quick);
  const p = proxyProtocol();
  const file = join(repoRoot(), 'configs', 'proxy', 'finetune.json');
  const overrides = [
    `model.name=${model}`,
    `runtime.seed=${seed}`,
    // The backbone file name carries the pretraining hash, so the fine-tuning hash follows it.
    `model.init={"checkpoint":${JSON.stringify(backbonePath)},"prefix":"${BACKBONE_PREFIX}"}`,
    ...(mode === 'quick' ? p.quick.finetune : []),
  ];
  const { config } = loadConfig(file, overrides);
  const hashed = { ...config, model: { ...config.model, init: { prefix: BACKBONE_PREFIX } } };
  return {
    config,
    hash: shortHash({
      config: hashed,
      backbone: backbonePath.match(/([0-9a-f]{12})\.pth$/)?.[1],
      freeze: p.freezeBackbone,
      version: p.version,
    }),
  };
}

/**
 * The trainable part of a frozen-backbone model: the head is the only child (so the loop's
 * optimiser, checkpoints and train()/eval() see only `decode_head.*`), while the backbone runs
 * in eval mode (BatchNorm running statistics) outside the gradient's variable list.
 */
export class FrozenBackbone extends Module implements Segmentor {
  readonly numClasses: number;
  readonly outputStride: number;
  readonly sizeDivisor: number;

  constructor(readonly full: OffSeg) {
    super();
    this.numClasses = full.numClasses;
    this.outputStride = full.outputStride;
    this.sizeDivisor = full.sizeDivisor;
    this.child('decode_head', full.decodeHead);
    full.backbone.eval();
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.full.decodeHead.forward(this.full.backbone.forward(x)));
  }
}

async function ensureBackend(): Promise<{ backend: string; threads: number }> {
  const b = currentBackend() ?? (await selectBackend({}));
  return { backend: b.name, threads: b.threads };
}

/** Paths in result JSONs are relative to the root, so results/ stays valid in any checkout. */
function rel(root: string, p: string): string {
  return relative(root, p).split('\\').join('/');
}

function abs(root: string, p: string): string {
  return isAbsolute(p) ? p : join(root, p);
}

function log(msg: string): void {
  process.stderr.write(`[proxy] ${msg}\n`);
}

/** Start or resume a run in `workDir`; a folder without a checkpoint is a failed start: cleared. */
function resumePoint(workDir: string): string | undefined {
  const last = existsSync(workDir) ? readLastCheckpoint(workDir) : undefined;
  if (last && existsSync(last)) return last;
  if (existsSync(workDir)) rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  return undefined;
}

function evaluateRun(model: Segmentor, valSet: SegDataset, cfg: RunConfig): Promise<IoUResult> {
  const t = cfg.data.test;
  return evaluate(model, valSet, {
    pipeline: testPipeline(cfg),
    inference: {
      mode: t.mode,
      crop: t.crop as [number, number] | undefined,
      stride: t.stride as [number, number] | undefined,
    },
    limit: t.maxImages,
  });
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
  const ev = r.lastEval ?? (await evaluateRun(model, valSet!, config));
  return { r, ev, seconds: (performance.now() - t0) / 1000 };
}

export function backbonePath(quick?: boolean, root = repoRoot()): string {
  const { hash } = pretrainConfig(quick);
  return join(root, '.cache', 'proxy', `effv2-s1-builtin-${modeOf(quick)}-${hash}.pth`);
}

/** The pretrained backbone for this mode: cached, or trained now (unless OFFSEG_SKIP_TRAIN=1). */
export async function ensurePretrainedBackbone(
  quick?: boolean,
  root = repoRoot(),
): Promise<PretrainResult | undefined> {
  const mode = modeOf(quick);
  const { config, hash } = pretrainConfig(quick);
  const path = backbonePath(quick, root);
  const resultPath = join(root, 'results', 'proxy', 'runs', `pretrain-${mode}.json`);
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

/** Thrown when the pretrained backbone is too weak for the variants' differences to mean anything. */
export class ProxyGateError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'ProxyGateError';
    this.hint = hint;
  }
}

/**
 * The go/no-go gate of the study: in full mode the pretraining's val mIoU must reach the
 * protocol's `pretrainGate`, else no variant is trained (quick mode only proves the pipeline
 * runs, so it is not gated).
 * @throws ProxyGateError below the gate.
 */
function checkGate(pre: PretrainResult, resultPath: string): PretrainResult {
  const gate = proxyProtocol().pretrainGate;
  if (pre.mode === 'full' && !(pre.mIoU >= gate))
    throw new ProxyGateError(
      `proxy pretraining reached ${pre.mIoU} val mIoU, below the gate of ${gate} (${resultPath}): the variants would be compared on a backbone that has not learned the data`,
      'lengthen schedule.iterations in configs/proxy/pretrain.json (or change pretrainGate in configs/proxy/protocol.json and say why), then re-run',
    );
  log(
    `pretraining gate: val mIoU ${pre.mIoU} ${pre.mode === 'full' ? `≥ ${gate}` : '(quick mode: not gated)'}`,
  );
  return pre;
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

function resultPath(root: string, model: string, seed: number, mode: string): string {
  return join(root, 'results', 'proxy', 'runs', `${model}-s${seed}-${mode}.json`);
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
  const cached = readJson<ProxyResult>(out);
  // The hash needs the backbone path, which needs the pretraining hash (cheap, no training).
  const bb = backbonePath(quick, root);
  const { config, hash } = finetuneConfig(opts.model, opts.seed, bb, quick);
  const filesExist = (r: ProxyResult) =>
    existsSync(abs(root, r.checkpoint)) && existsSync(abs(root, r.backbone));
  if (cached?.configHash === hash && (!opts.needModel || filesExist(cached))) return cached;
  if (skipTrain()) return undefined;

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
export function loadProxyModel(result: ProxyResult, numClasses = 22, root = repoRoot()): OffSeg {
  const m = buildProxyModel(result.model, result.seed, abs(root, result.backbone), numClasses);
  const { tensors } = loadCheckpoint(abs(root, result.checkpoint));
  for (const e of [...m.namedParameters(), ...m.namedBuffers()]) {
    const t = tensors.get(`model.${e.key}`);
    if (t) e.variable.assign(t.dtype === e.variable.dtype ? t : tf.cast(t, e.variable.dtype));
    else if (!e.key.startsWith(BACKBONE_PREFIX))
      throw new Error(`${result.checkpoint} has no tensor for ${e.key}`);
  }
  for (const t of tensors.values()) t.dispose();
  return m.eval();
}

/** mean and sample standard deviation (n−1; 0 for one value) of the runs' mIoU. */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v), n };
}

/** A short Markdown description of the protocol in force (for notebooks and the report). */
export function proxyProtocolMarkdown(quick?: boolean, root = repoRoot()): string {
  const mode = modeOf(quick);
  const p = proxyProtocol();
  const pre = pretrainConfig(quick).config;
  const ft = finetuneConfig('offseg-t', 0, backbonePath(quick, root), quick).config;
  const b = ft.data.dataset.builtin ?? {};
  const pb = pre.data.dataset.builtin ?? {};
  const pr = readJson<PretrainResult>(
    join(root, 'results', 'proxy', 'runs', `pretrain-${mode}.json`),
  );
  const lines = [
    `**Proxy protocol (${mode} mode; configs/proxy/README.md).** Built-in dataset (22 classes) at ${b.height}×${b.width} px, not ADE20K: proxy numbers compare variants with each other, never with the paper's mIoU.`,
    `- Backbone pretraining (stands in for ImageNet): ${pre.model.name} trained from scratch on a differently-seeded built-in set (seed ${pb.seed}, ${pb.numTrain} images), ${pre.schedule.iterations} iterations, batch ${pre.data.batchSize}, AdamW lr ${pre.optimizer.lr}; only its backbone is kept${pr ? ` (its mIoU on its own val split: ${pr.mIoU}; ${pr.seconds} s)` : ''}.`,
    `- Each variant: that backbone ${p.freezeBackbone ? '**frozen** (eval-mode BatchNorm; a proxy deviation: the paper fine-tunes it) under a freshly initialised head' : 'under a freshly initialised head, the whole network fine-tuned as in the paper (backbone lr ×1, head ×10)'}; trained ${ft.schedule.iterations} iterations, batch ${ft.data.batchSize}, crop ${ft.data.train.crop.join('×')}, AdamW lr ${ft.optimizer.lr}, warm-up ${ft.schedule.warmupIters}, poly decay; scored on ${ft.data.test.maxImages || b.numVal} val images (seed ${b.seed} set).`,
    `- Seeds ${p.seeds[mode].join(', ')} (head initialisation and data order); mean ± sample std over seeds.`,
  ];
  return lines.join('\n');
}
