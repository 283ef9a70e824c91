/**
 * The child side of one benchmark case: choose the backend, build the model, warm up, time
 * `runs` steps and report the median, the achieved FLOP rate and the process's peak RSS.
 *
 * A training step is what lib/train/loop.ts does per iteration (accumulate 1): forward in train
 * mode, segCrossEntropy, tf.variableGrads over every parameter, one AdamW step with the
 * default_runtime.json optimiser settings. Inference is an eval-mode forward plus `await data()`.
 * Inputs and labels are seeded random tensors: the timing does not depend on their values.
 *
 * An ONNX Runtime case (`engine: 'onnxruntime'`, inference only) exports the model at the case's
 * size (lib/export/onnx.ts), opens a CPU session with `threads` intra-op threads (default: the
 * cores) and times `session.run` on the NCHW input, output read back included.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.ts';
import { createModel } from '../models/registry.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { countFlopsAll } from '../analysis/complexity.ts';
import { segCrossEntropy } from '../train/loss.ts';
import { AdamW } from '../train/optim.ts';
import { buildParamGroups } from '../train/param_groups.ts';
import { stepGflops, type BenchCase, type CaseMeasurement } from './cases.ts';
import { median } from './stats.ts';
import { guardWasmHeap } from '../backend/wasm_guard.ts';
import { setGradientCheckpointing } from '../models/core/grad_checkpoint.ts';
import { exportOnnx } from '../export/onnx.ts';
import { OrtSegmentor } from '../engine/onnxruntime.ts';
import os from 'node:os';

/** configs/_base_/default_runtime.json's optimiser (the lr value does not change the cost). */
const OPTIMIZER = {
  lr: 6e-5,
  betas: [0.9, 0.999] as [number, number],
  weightDecay: 0.01,
  eps: 1e-8,
  customKeys: { pos_block: { decayMult: 0 }, norm: { decayMult: 0 }, head: { lrMult: 10 } },
};

/** One timed unit of work; resolves with the loss for a train step. */
type Step = () => Promise<number | undefined>;

function inferStep(model: Segmentor, x: tf.Tensor4D): Step {
  model.eval();
  return async () => {
    const y = model.forward(x);
    await y.data();
    y.dispose();
    return undefined;
  };
}

function trainStep(
  model: Segmentor,
  x: tf.Tensor4D,
  labels: tf.Tensor3D,
): { step: Step; opt: AdamW } {
  model.train();
  const params = model.namedParameters();
  const groups = buildParamGroups(
    params.map((p) => p.key),
    OPTIMIZER.customKeys,
  );
  const opt = new AdamW(
    params.map((p, i) => ({ key: p.key, variable: p.variable, group: groups[i] })),
    OPTIMIZER,
  );
  const vars = params.map((p) => p.variable);
  const step: Step = async () => {
    const { value, grads } = tf.variableGrads(
      () => segCrossEntropy(model.forward(x), labels),
      vars,
    );
    const byKey = new Map<string, tf.Tensor>();
    for (const p of params) {
      const g = grads[p.variable.name];
      if (g) byKey.set(p.key, g);
    }
    opt.step(byKey, 1);
    // Reading the loss waits for the whole step on an asynchronous backend.
    const loss = (await value.data())[0];
    value.dispose();
    tf.dispose(Object.values(grads));
    return loss;
  };
  return { step, opt };
}

/** The ONNX Runtime inference step, with how long the export and the session took. */
async function ortStep(
  model: Segmentor,
  c: BenchCase,
  x: tf.Tensor4D,
): Promise<{
  step: Step;
  ort: OrtSegmentor;
  threads: number;
  exportMs: number;
  sessionMs: number;
}> {
  if (c.task !== 'infer') throw new Error('ONNX Runtime cases are inference only');
  const t0 = performance.now();
  const r = await exportOnnx(model, { modelName: c.model, size: [c.size, c.size], batch: c.batch });
  const t1 = performance.now();
  const threads = c.threads ?? os.availableParallelism();
  const ort = await OrtSegmentor.create(r.bytes, { threads });
  const t2 = performance.now();
  const nchw = tf.transpose(x, [0, 3, 1, 2]);
  const data = nchw.dataSync() as Float32Array;
  nchw.dispose();
  const dims = [c.batch, 3, c.size, c.size] as const;
  const step: Step = async () => {
    await ort.run(data, dims);
    return undefined;
  };
  return { step, ort, threads, exportMs: t1 - t0, sessionMs: t2 - t1 };
}

/** Run one case in this process. Call once per process (the backend is fixed at first use). */
export async function runCase(c: BenchCase): Promise<CaseMeasurement> {
  const info = await selectBackend({ prefer: c.backend, threads: c.threads, log: false });
  guardWasmHeap();
  setGradientCheckpointing(c.gradCheckpoint ?? false);
  const model = createModel(c.model, { numClasses: c.numClasses, seed: c.seed });
  const x = tf.randomUniform([c.batch, c.size, c.size, 3], -2, 2, 'float32', c.seed) as tf.Tensor4D;
  // [B,H,W] class ids in [0, K)
  const labels = tf.tidy(() =>
    tf.cast(
      tf.floor(tf.randomUniform([c.batch, c.size, c.size], 0, c.numClasses, 'float32', c.seed + 1)),
      'int32',
    ),
  ) as tf.Tensor3D;
  const train = c.task === 'train' ? trainStep(model, x, labels) : undefined;
  const onnx = c.engine === 'onnxruntime' ? await ortStep(model, c, x) : undefined;
  const step = train ? train.step : onnx ? onnx.step : inferStep(model, x);

  for (let i = 0; i < c.warmup; i++) await step();
  const times: number[] = [];
  let lastLoss: number | undefined;
  for (let i = 0; i < c.runs; i++) {
    const t0 = performance.now();
    lastLoss = await step();
    times.push(performance.now() - t0);
  }
  // Peak RSS before the FLOPs trace, which is not part of the measured work.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  let forward: number | null = null;
  if (!c.noFlops) {
    const { reports } = await countFlopsAll(model, { size: [c.size, c.size], mode: 'dry-run' });
    forward = reports.fvcore.gflops;
  }
  train?.opt.dispose();
  await onnx?.ort.release();
  tf.dispose([x, labels]);
  model.dispose();

  const out: CaseMeasurement = {
    times_ms: times,
    median_ms: median(times),
    forward_gflops_b1: forward,
    step_gflops: forward === null ? null : stepGflops(forward, c.task, c.batch),
    peak_rss_mb: peakRssMb,
    backend: onnx ? 'onnxruntime' : info.name,
    threads: onnx ? onnx.threads : info.threads,
    simd: info.simd,
  };
  if (lastLoss !== undefined) out.last_loss = lastLoss;
  if (onnx) {
    out.export_ms = onnx.exportMs;
    out.session_ms = onnx.sessionMs;
  }
  return out;
}
