/**
 * What one benchmark case is, what its child process answers, and which cases a run plans.
 * The parent passes a `BenchCase` as JSON on the command line (`--case <json>`); the child
 * prints one `CaseReport` line as the last line of its stdout (lib/bench/run_case.ts).
 */
import type { BenchOptions } from './args.ts';

export type BenchTask = 'infer' | 'train';
export type CaseBackend = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
/** What runs the network: our tfjs modules on `backend`, or the ONNX export in ONNX Runtime. */
export type BenchEngine = 'tfjs' | 'onnxruntime';

export interface BenchCase {
  model: string;
  task: BenchTask;
  /** Square input (infer) or crop (train) side. */
  size: number;
  batch: number;
  backend: CaseBackend;
  threads?: number;
  warmup: number;
  runs: number;
  /** Seed of the random weights, images and labels. */
  seed: number;
  numClasses: number;
  /** Activation recomputation during training (lib/models/core/grad_checkpoint.ts). */
  gradCheckpoint?: boolean;
  /** Skip the FLOPs count (tests). */
  noFlops?: boolean;
  /** Default tfjs; 'onnxruntime' (inference only) times the ONNX export on ONNX Runtime's CPU EP. */
  engine?: BenchEngine;
}

/** What a child measured. Times are milliseconds; FLOPs follow the fvcore convention (MACs). */
export interface CaseMeasurement {
  /** Every timed run, in order. */
  times_ms: number[];
  median_ms: number;
  /** fvcore GFLOPs (1e9 multiply-adds) of one forward at batch 1; null when not counted. */
  forward_gflops_b1: number | null;
  /** GFLOPs of one measured step: forward × batch (infer) or 3 × forward × batch (train). */
  step_gflops: number | null;
  /** process.resourceUsage().maxRSS of the child, MiB (includes node, tfjs and the wasm heap). */
  peak_rss_mb: number;
  backend: string;
  threads: number;
  simd: boolean;
  /** Loss of the last training step (a sanity check that the step really ran). */
  last_loss?: number;
  /** ONNX Runtime cases: time to export the model and to create the session (not timed runs). */
  export_ms?: number;
  session_ms?: number;
}

export type CaseReport = ({ ok: true } & CaseMeasurement) | { ok: false; error: string };

/** Training FLOPs ≈ 3 × forward (forward + input gradient + weight gradient). */
export const TRAIN_FLOPS_FACTOR = 3;

export function stepGflops(forwardB1: number, task: BenchTask, batch: number): number {
  return forwardB1 * batch * (task === 'train' ? TRAIN_FLOPS_FACTOR : 1);
}

export const NUM_CLASSES = 150;
export const SEED = 0;
export const INFER_SIZE = 512;
export const TRAIN_SIZES = [512, 256] as const;
export const TRAIN_BATCH = 2;

/** The cases of one run on `backend`, in the order they run (inference first). */
export function planCases(opts: BenchOptions, backend: CaseBackend): BenchCase[] {
  const base = {
    backend,
    threads: opts.threads,
    warmup: opts.warmup,
    runs: opts.runs,
    seed: SEED,
    numClasses: NUM_CLASSES,
    ...(opts.gradCheckpoint ? { gradCheckpoint: true } : {}),
  };
  const out: BenchCase[] = [];
  for (const model of opts.models) {
    out.push({ ...base, model, task: 'infer', size: INFER_SIZE, batch: 1 });
  }
  // The same inference on ONNX Runtime, beside the tfjs rows of the same run.
  if (opts.onnx) {
    for (const model of opts.models) {
      out.push({
        ...base,
        model,
        task: 'infer',
        size: INFER_SIZE,
        batch: 1,
        engine: 'onnxruntime',
      });
    }
  }
  if (opts.inferOnly) return out;
  // The speed-up's comparand runs even when it is not one of the standard crops.
  const sizes: number[] = [...TRAIN_SIZES];
  if (!sizes.includes(opts.baselineSize)) sizes.push(opts.baselineSize);
  for (const size of sizes) {
    if (opts.quick && size === 512) continue;
    for (const model of opts.models) {
      out.push({ ...base, model, task: 'train', size, batch: TRAIN_BATCH });
    }
  }
  if (opts.models.includes('offseg-t')) out.push({ ...base, ...PROXY_STEP });
  return out;
}

/**
 * The proxy study's own training step (configs/proxy/pretrain.json and finetune.json): Table 6
 * row 2's OffSeg-T with a per-pixel classifier, 64² crops, batch 8, 12 classes, plain autodiff
 * (the training loop recomputes activations only from 256² up on WASM). The study runs about
 * forty 100-step fine-tunings plus a 1600-step pretraining, so this step time sets its depth.
 */
export const PROXY_STEP = {
  model: 'offseg-t-pp',
  task: 'train',
  size: 64,
  batch: 8,
  numClasses: 12,
  gradCheckpoint: false,
} as const satisfies Partial<BenchCase>;

/** The model whose crop-256 train step is compared with the pure-JS baseline. */
export function baselineModel(models: readonly string[]): string {
  return models.includes('offseg-t') ? 'offseg-t' : models[0];
}

/** The pure-JS baseline: one step, no warm-up (a step takes minutes on the cpu backend). */
export function baselineCase(models: readonly string[], size = 256): BenchCase {
  return {
    model: baselineModel(models),
    task: 'train',
    size,
    batch: TRAIN_BATCH,
    backend: 'cpu',
    warmup: 0,
    runs: 1,
    seed: SEED,
    numClasses: NUM_CLASSES,
  };
}

export function caseLabel(c: BenchCase): string {
  const on = c.engine === 'onnxruntime' ? 'onnxruntime (cpu)' : c.backend;
  return `${c.model} ${c.task} ${c.size}² b${c.batch} on ${on}`;
}
