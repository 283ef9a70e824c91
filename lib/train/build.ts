/** Turn a validated RunConfig into what the loop and evaluation need. */
import type { RunConfig } from '../config/schema.ts';
import { buildDataset, type DatasetConfig } from '../data/datasets.ts';
import type { SegDataset } from '../data/dataset.ts';
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  type TestPipelineConfig,
  type TrainPipelineConfig,
} from '../data/transforms/pipeline.ts';
import { PHOTOMETRIC_DEFAULTS } from '../data/transforms/photometric.ts';
import type { InferenceOptions } from '../eval/inference.ts';
import { createModel } from '../models/registry.ts';
import type { Segmentor } from '../models/offseg.ts';
import { loadStateDict, readTorchCheckpoint } from '../io/checkpoint.ts';

export function trainPipeline(cfg: RunConfig): TrainPipelineConfig {
  const t = cfg.data.train;
  return {
    scale: [...t.scale] as [number, number],
    ratioRange: [...t.ratioRange] as [number, number],
    cropSize: [...t.crop] as [number, number],
    catMaxRatio: t.catMaxRatio,
    flipProb: t.flipProb,
    photometric: t.photometric ? { ...PHOTOMETRIC_DEFAULTS } : null,
    mean: [...IMAGENET_MEAN],
    std: [...IMAGENET_STD],
    ignoreIndex: 255,
  };
}

export function testPipeline(cfg: RunConfig): TestPipelineConfig {
  return {
    scale: [...cfg.data.test.scale] as [number, number],
    mean: [...IMAGENET_MEAN],
    std: [...IMAGENET_STD],
  };
}

/** Whole-image or sliding-window inference as `data.test` sets it. */
export function testInference(cfg: RunConfig): InferenceOptions {
  const t = cfg.data.test;
  return {
    mode: t.mode,
    crop: t.crop ? ([...t.crop] as [number, number]) : undefined,
    stride: t.stride ? ([...t.stride] as [number, number]) : undefined,
  };
}

export function datasetConfig(cfg: RunConfig, split: 'train' | 'val'): DatasetConfig {
  const d = cfg.data.dataset;
  return {
    type: d.type,
    dataRoot: d.dataRoot,
    split: split === 'train' ? d.trainSplit : d.valSplit,
    reduceZeroLabel: d.reduceZeroLabel,
    labelMap: d.labelMap?.map(([a, b]) => [a, b] as [number, number]),
    checkLabels: d.checkLabels,
    builtin: d.builtin as DatasetConfig['builtin'],
  };
}

export async function buildDatasets(
  cfg: RunConfig,
  which: ('train' | 'val')[] = ['train', 'val'],
): Promise<{ train?: SegDataset; val?: SegDataset }> {
  const out: { train?: SegDataset; val?: SegDataset } = {};
  for (const s of which) out[s] = await buildDataset(datasetConfig(cfg, s));
  const n = (out.train ?? out.val)?.classes.length;
  if (n !== undefined && n !== cfg.model.numClasses) {
    throw new Error(
      `model.numClasses is ${cfg.model.numClasses} but the dataset has ${n} classes: set model.numClasses to ${n}`,
    );
  }
  return out;
}

/** Build the model; load `model.init` weights if the config names any. */
export function buildModel(cfg: RunConfig): Segmentor {
  const model = createModel(cfg.model.name, {
    numClasses: cfg.model.numClasses,
    seed: cfg.runtime.seed,
  });
  if (cfg.model.init) {
    const ckpt = readTorchCheckpoint(cfg.model.init.checkpoint);
    loadStateDict(model, ckpt, { addPrefix: cfg.model.init.prefix || undefined, strict: false });
  }
  return model;
}
