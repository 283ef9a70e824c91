/**
 * Evaluation of a segmentor on a dataset split with mmseg's exact protocol: test pipeline
 * (keep-ratio resize), whole or slide inference, logits resized to the ORIGINAL image size,
 * argmax, and the dataset-level IoU accumulator (lib/eval/iou_metric.ts). The resize to the
 * original size and the argmax run together on the host (./segment.ts), so memory is set by the
 * test scale, never by the size of the original image.
 */
import type { Segmentor } from '../models/segmentor.ts';
import type { SegDataset } from '../data/dataset.ts';
import { iterateTest } from '../data/loader.ts';
import type { TestPipelineConfig } from '../data/transforms/pipeline.ts';
import { IoUAccumulator, type IoUResult } from './iou_metric.ts';
import type { InferenceOptions } from './inference.ts';
import { predictLabels } from './segment.ts';
import { engineNet } from './tensor_net.ts';
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
    pred: Uint8Array,
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
  const net = engineNet(engine);
  const acc = new IoUAccumulator({
    numClasses: model.numClasses,
    classNames: dataset.classes,
    ignoreIndex: dataset.ignoreIndex,
  });
  const total = Math.min(dataset.length, opts.limit || Infinity);
  let done = 0;
  for await (const s of iterateTest(dataset, opts.pipeline, { limit: total })) {
    const x = { data: s.image, height: s.height, width: s.width };
    const pred = await predictLabels(net, x, [s.oriHeight, s.oriWidth], opts.inference);
    acc.update(pred, s.label);
    opts.onPrediction?.(pred, s);
    opts.onProgress?.(++done, total);
  }
  return acc.compute();
}
