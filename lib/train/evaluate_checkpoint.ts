/**
 * Config → evaluation, in the library: a model built from a run config, weights loaded from a
 * checkpoint, scored on the config's validation split with its test pipeline and inference mode
 * (whole or slide), through the mmseg IoU metric (lib/eval). `offseg eval`, the released-
 * checkpoint rows of the paper tables and any notebook use this one path.
 */
import type { RunConfig } from '../config/schema.ts';
import type { SegmentationEngine } from '../engine/engine.ts';
import { evaluate } from '../eval/evaluate.ts';
import type { IoUResult } from '../eval/iou_metric.ts';
import { summarizeLoadReport } from '../io/checkpoint.ts';
import { loadWeightsFile, type WeightLoadOptions } from '../io/load_weights.ts';
import type { Segmentor } from '../models/segmentor.ts';
import type { SegDataset } from '../data/dataset.ts';
import { buildDatasets, buildModel, testInference, testPipeline } from './build.ts';

export interface EvaluateCheckpointOptions {
  /** Score at most this many images (else `data.test.maxImages`, else all). */
  limit?: number;
  /** How strictly the weights must fit (default: every model tensor must load). */
  weights?: WeightLoadOptions;
  /** Run inference on another engine (e.g. ONNX Runtime) built from the loaded model. */
  engineFor?: (model: Segmentor) => Promise<SegmentationEngine>;
  /** Called with the number of images scored so far. */
  onProgress?: (done: number, total: number) => void;
  /** One-line messages (weights summary, image count); default: none. */
  log?: (line: string) => void;
}

/**
 * Score `model` on `valSet` the way `cfg.data.test` says (pipeline, whole/slide inference,
 * `maxImages`). NHWC inside; labels at their original size.
 */
export function evaluateWithConfig(
  model: Segmentor | SegmentationEngine,
  valSet: SegDataset,
  cfg: RunConfig,
  limit?: number,
  onProgress?: (done: number) => void,
): Promise<IoUResult> {
  return evaluate(model, valSet, {
    pipeline: testPipeline(cfg),
    inference: testInference(cfg),
    limit: limit ?? cfg.data.test.maxImages,
    onProgress,
  });
}

/**
 * Evaluate `checkpoint` (.pth official/exported or .ckpt) on the config's validation split.
 * @throws the weight loader's error (naming the file and the fix) when the weights do not fit.
 */
export async function evaluateCheckpoint(
  cfg: RunConfig,
  checkpoint: string,
  opts: EvaluateCheckpointOptions = {},
): Promise<IoUResult> {
  const { val } = await buildDatasets(cfg, ['val']);
  const model = buildModel(cfg, { skipInit: true });
  try {
    const report = loadWeightsFile(model, checkpoint, opts.weights ?? { minLoaded: 1 });
    opts.log?.(`weights ${checkpoint}: ${summarizeLoadReport(report)}`);
    const engine = opts.engineFor ? await opts.engineFor(model) : model;
    const total = Math.min(val!.length, opts.limit || cfg.data.test.maxImages || Infinity);
    opts.log?.(
      `${cfg.model.name}: evaluating ${total === val!.length ? `all ${total}` : `${total} of ${val!.length}`} validation images`,
    );
    try {
      return await evaluateWithConfig(engine, val!, cfg, total, (d) => opts.onProgress?.(d, total));
    } finally {
      if (engine !== model) await (engine as SegmentationEngine).dispose();
    }
  } finally {
    model.dispose();
  }
}
