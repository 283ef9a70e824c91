/**
 * Turn a validated RunConfig into what the loop and evaluation need: pipelines, datasets (their
 * class count must agree with model.numClasses) and the model with its `model.init` weights.
 */
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
import { createModel, UnknownModelError } from '../models/registry.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { Mask2Former } from '../models/mask2former.ts';
import { summarizeLoadReport, type LoadReport } from '../io/checkpoint.ts';
import { loadWeightsFile } from '../io/load_weights.ts';
import type { LoadHints } from '../io/key_diagnosis.ts';
import { ConfigError } from '../config/compose.ts';

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
    throw new ConfigError(
      `model.numClasses is ${cfg.model.numClasses} but the ${cfg.data.dataset.type} dataset (data.dataset) has ${n} classes`,
      `set model.numClasses to ${n} (--cfg-options model.numClasses=${n})`,
    );
  }
  return out;
}

/** Share of the model tensors in scope a `model.init` load must fill unless the config says. */
export const INIT_MIN_LOADED = 0.5;

/** The config keys that steer a `model.init` load, for its error messages. */
const INIT_HINTS: LoadHints = {
  style: 'config',
  stripPrefix: 'model.init.stripPrefix',
  addPrefix: 'model.init.prefix',
  skipMismatched: 'model.init.skipMismatched',
  minLoaded: 'model.init.minLoaded',
  model: 'model.name and model.numClasses',
};

export interface BuildModelOptions {
  /** Do not load `model.init` (a resumed run restores every weight from its checkpoint). */
  skipInit?: boolean;
  /** Told how the `model.init` load went (report and its one-line summary), to print and log. */
  onInit?: (report: LoadReport, summary: string) => void;
}

/**
 * Build the model the config names, give a Mask2Former the `model.loss` settings (its point
 * sampling seeded with `runtime.seed`), and load its `model.init` weights, if any, through
 * lib/io/load_weights.ts (mmengine key revisions, `skipMismatched`, at least `minLoaded` of the
 * tensors in scope). Throws ConfigError for an unknown model name or a `model.loss` on a model
 * without that loss, and CheckpointError (naming the config key to change) for weights that do
 * not fit.
 */
export function buildModel(cfg: RunConfig, opts: BuildModelOptions = {}): Segmentor {
  let model: Segmentor;
  try {
    model = createModel(cfg.model.name, {
      numClasses: cfg.model.numClasses,
      seed: cfg.runtime.seed,
    });
  } catch (e) {
    if (e instanceof UnknownModelError)
      throw new ConfigError(`model.name: ${e.message}`, 'set model.name to a registered model');
    throw e;
  }
  const loss = cfg.model.loss;
  if (model instanceof Mask2Former) {
    model.seedLoss(cfg.runtime.seed);
    if (loss)
      model.lossSettings = {
        numPoints: loss.numPoints,
        oversample: loss.oversample,
        importance: loss.importance,
        noObjectWeight: loss.noObjectWeight,
        weights: { ...loss.weights },
        match: { ...loss.matchWeights, diceEps: loss.diceEps },
      };
  } else if (loss) {
    model.dispose();
    throw new ConfigError(
      `model.loss (type '${loss.type}') is the Mask2Former loss, but ${cfg.model.name} trains with per-pixel cross-entropy`,
      'remove model.loss, or set model.name to a mask2former-* model',
    );
  }
  const init = cfg.model.init;
  if (init && !opts.skipInit) {
    try {
      const report = loadWeightsFile(model, init.checkpoint, {
        addPrefix: init.prefix || undefined,
        stripPrefix: init.stripPrefix || undefined,
        reviseKeys: init.reviseKeys,
        skipMismatched: init.skipMismatched,
        minLoaded: init.minLoaded ?? INIT_MIN_LOADED,
        hints: INIT_HINTS,
      });
      opts.onInit?.(report, summarizeLoadReport(report));
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  return model;
}
