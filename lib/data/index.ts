/** Public API of the data side: datasets, pipelines, loaders, converters, errors. */
export { buildDataset, DATASET_TYPES, REDUCE_ZERO_LABEL } from './datasets.ts';
export type { DatasetConfig, DatasetType, Split } from './datasets.ts';
export { SegDataset } from './dataset.ts';
export type { RawSample, SampleRef } from './dataset.ts';
export { DatasetError } from './errors.ts';
export type { DatasetErrorKind } from './errors.ts';
export { SegDataLoader, iterateTest } from './loader.ts';
export type { Batch, HostBatch, LoaderOptions, LoaderState } from './loader.ts';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  PIPELINE_PRESETS,
  applyTestPipeline,
  applyTrainPipeline,
} from './transforms/pipeline.ts';
export type {
  PipelinePreset,
  TestPipelineConfig,
  TestSample,
  TrainPipelineConfig,
  TrainSample,
} from './transforms/pipeline.ts';
export { PHOTOMETRIC_DEFAULTS } from './transforms/photometric.ts';
export type { PhotoMetricOptions } from './transforms/photometric.ts';
export { convertCityscapes, convertCocoStuff164k } from './converters.ts';
export { BUILTIN_DEFAULTS, ensureBuiltinDataset } from './builtin/builtin.ts';
export type { BuiltinDataset, BuiltinOptions } from './builtin/builtin.ts';
export { datasetMeta } from './metainfo.ts';
export type { BenchmarkName, DatasetMeta } from './metainfo.ts';
