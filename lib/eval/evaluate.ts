/**
 * Evaluation of a segmentor on a dataset split with mmseg's exact protocol: test pipeline
 * (keep-ratio resize), whole or slide inference, logits resized to the ORIGINAL image size,
 * argmax, and the dataset-level IoU accumulator (lib/eval/iou_metric.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Segmentor } from '../models/offseg.ts';
import type { SegDataset } from '../data/dataset.ts';
import { iterateTest } from '../data/loader.ts';
import type { TestPipelineConfig } from '../data/transforms/pipeline.ts';
import { IoUAccumulator, type IoUResult } from './iou_metric.ts';
import { argmaxLabels, predictLogitsWith, type InferenceOptions } from './inference.ts';
import { TfjsEngine, type SegmentationEngine } from '../engine/engine.ts';

export interface EvaluateOptions {
  pipeline: TestPipelineConfig;
  inference: InferenceOptions;
  /** Score at most this many images (0 or undefined = all). */
  limit?: number;
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Called with each prediction (e.g. to save visualisations). */
  onPrediction?: (
    pred: Int32Array,
    sample: { index: number; oriHeight: number; oriWidth: number; imgPath: string },
  ) => void;
}

/**
 * Score `model` (a tfjs segmentor, run in eval mode, or any inference engine such as ONNX
 * Runtime, lib/engine/) on `dataset`.
 */
export async function evaluate(
  model: Segmentor | SegmentationEngine,
  dataset: SegDataset,
  opts: EvaluateOptions,
): Promise<IoUResult> {
  const engine = 'logits' in model ? model : new TfjsEngine(model);
  const acc = new IoUAccumulator({
    numClasses: model.numClasses,
    classNames: dataset.classes,
    ignoreIndex: dataset.ignoreIndex,
  });
  const total = Math.min(dataset.length, opts.limit || Infinity);
  let done = 0;
  for await (const s of iterateTest(dataset, opts.pipeline, { limit: total })) {
    const x = tf.tensor4d(s.image, [1, s.height, s.width, 3]);
    const logits = await predictLogitsWith(engine, x, [s.oriHeight, s.oriWidth], opts.inference);
    x.dispose();
    const pred = await argmaxLabels(logits);
    logits.dispose();
    acc.update(pred, s.label);
    opts.onPrediction?.(pred, s);
    opts.onProgress?.(++done, total);
  }
  return acc.compute();
}
