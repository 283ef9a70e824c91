/**
 * `SegDataLoader`: the iteration-based training stream (mmengine InfiniteSampler semantics: one
 * endless sequence of per-epoch permutations, batches may straddle epochs) → padded NHWC batches.
 *
 * Determinism and exact resume: stream position k (0, 1, 2, … over all samples ever drawn) is
 * sample `perm_e[k mod N]` of epoch e = ⌊k / N⌋, where perm_e comes from Rng(seed, e) and the
 * sample's augmentation from Rng(seed, k) (./seed.ts). The generator state for any k is thus a
 * pure function of (seed, k): the serialisable state is {seed, position}, prefetching cannot
 * change the draws, and resuming from a saved position replays the same batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SegDataset } from './dataset.ts';
import { STREAM, mixSeed, permutation, rngFor } from './seed.ts';
import {
  type TrainPipelineConfig,
  type TestPipelineConfig,
  type TestSample,
  type TrainSample,
  applyTestPipeline,
  applyTrainPipeline,
} from './transforms/pipeline.ts';

export interface LoaderOptions {
  batchSize: number;
  seed: number;
  pipeline: TrainPipelineConfig;
  /** Shuffle each epoch (default true); false streams 0..N−1 repeatedly. */
  shuffle?: boolean;
  /** Decode and augment the next batch while the caller trains (default true). */
  prefetch?: boolean;
}

/** What a checkpoint stores to resume the stream exactly. */
export interface LoaderState {
  version: 1;
  seed: number;
  /** Samples consumed so far (stream position of the next sample). */
  position: number;
  /** ⌊position / N⌋, informative. */
  epoch: number;
  /** Dataset length when saved; a different length on resume is an error. */
  numSamples: number;
  /** Generator state for the next sample: mixSeed(seed, augment, position). Informative. */
  rngState: number;
}

/** Host-side batch (what the tensors are made from). */
export interface HostBatch {
  /** [B, H, W, 3] float32 normalised. */
  images: Float32Array;
  /** [B, H, W] int32 training ids, 255 = ignore. */
  labels: Int32Array;
  batchSize: number;
  height: number;
  width: number;
  /** Dataset indices of the samples. */
  indices: number[];
  /** Stream position of the first sample. */
  position: number;
}

export interface Batch {
  images: tf.Tensor4D;
  labels: tf.Tensor3D;
  indices: number[];
  position: number;
  epoch: number;
}

export class SegDataLoader {
  readonly dataset: SegDataset;
  readonly opts: Required<LoaderOptions>;
  private position = 0;
  private permCache = new Map<number, Int32Array>();
  private pending: { position: number; promise: Promise<HostBatch> } | undefined;

  constructor(dataset: SegDataset, opts: LoaderOptions, state?: LoaderState) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new Error(`batchSize must be a positive integer, but got ${opts.batchSize}`);
    }
    if (dataset.length === 0) throw new Error(`${dataset.name}: empty dataset`);
    this.dataset = dataset;
    this.opts = { shuffle: true, prefetch: true, ...opts, seed: opts.seed >>> 0 };
    if (state) this.setState(state);
  }

  /** Dataset index at stream position k. */
  indexAt(k: number): number {
    const n = this.dataset.length;
    const epoch = Math.floor(k / n);
    if (!this.opts.shuffle) return k % n;
    let perm = this.permCache.get(epoch);
    if (!perm) {
      perm = permutation(rngFor(this.opts.seed, STREAM.shuffle, epoch), n);
      // a batch (or the prefetch) can straddle two epochs; keep the two most recent
      if (this.permCache.size >= 2) this.permCache.delete(Math.min(...this.permCache.keys()));
      this.permCache.set(epoch, perm);
    }
    return perm[k % n];
  }

  /** One augmented sample at stream position k. */
  async sampleAt(k: number): Promise<TrainSample> {
    const raw = await this.dataset.load(this.indexAt(k));
    return applyTrainPipeline(raw, this.opts.pipeline, rngFor(this.opts.seed, STREAM.augment, k));
  }

  /** Builds the host batch starting at stream position `pos` (does not move the loader). */
  async hostBatchAt(pos: number): Promise<HostBatch> {
    const B = this.opts.batchSize;
    const [H, W] = this.opts.pipeline.cropSize;
    const images = new Float32Array(B * H * W * 3);
    const labels = new Int32Array(B * H * W);
    const indices: number[] = [];
    // decode concurrently (sharp works off the main thread), place in order
    const samples = await Promise.all(Array.from({ length: B }, (_, b) => this.sampleAt(pos + b)));
    samples.forEach((s, b) => {
      images.set(s.image, b * H * W * 3);
      labels.set(s.label, b * H * W);
      indices.push(s.index);
    });
    return { images, labels, batchSize: B, height: H, width: W, indices, position: pos };
  }

  /** Next batch as host arrays; advances the stream. */
  async nextHost(): Promise<HostBatch> {
    const pos = this.position;
    const p = this.pending?.position === pos ? this.pending.promise : this.hostBatchAt(pos);
    this.pending = undefined;
    this.position = pos + this.opts.batchSize;
    if (this.opts.prefetch) {
      const nextPos = this.position;
      const promise = this.hostBatchAt(nextPos);
      promise.catch(() => undefined); // surfaced when awaited by the next call
      this.pending = { position: nextPos, promise };
    }
    return p;
  }

  /** Next batch as tensors: images [B, H, W, 3] float32, labels [B, H, W] int32. Caller disposes. */
  async next(): Promise<Batch> {
    const h = await this.nextHost();
    return {
      images: tf.tensor4d(h.images, [h.batchSize, h.height, h.width, 3]),
      labels: tf.tensor3d(h.labels, [h.batchSize, h.height, h.width], 'int32'),
      indices: h.indices,
      position: h.position,
      epoch: Math.floor(h.position / this.dataset.length),
    };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    for (;;) yield await this.next();
  }

  getState(): LoaderState {
    return {
      version: 1,
      seed: this.opts.seed,
      position: this.position,
      epoch: Math.floor(this.position / this.dataset.length),
      numSamples: this.dataset.length,
      rngState: mixSeed(this.opts.seed, STREAM.augment, this.position),
    };
  }

  setState(s: LoaderState): void {
    if (s.version !== 1)
      throw new Error(`loader state version ${String(s.version)} is not supported`);
    if (s.seed >>> 0 !== this.opts.seed) {
      throw new Error(
        `loader state was saved with seed ${s.seed}, this loader has seed ${this.opts.seed}`,
      );
    }
    if (s.numSamples !== this.dataset.length) {
      throw new Error(
        `loader state was saved for ${s.numSamples} samples, the dataset now has ${this.dataset.length}; ` +
          'resume with the same dataset',
      );
    }
    this.position = s.position;
    this.pending = undefined;
  }
}

/**
 * The evaluation stream: every sample once, in dataset order, through the test pipeline, with
 * the next sample decoded while the current one is scored.
 */
export async function* iterateTest(
  dataset: SegDataset,
  cfg: TestPipelineConfig,
  opts: { prefetch?: boolean; limit?: number } = {},
): AsyncGenerator<TestSample> {
  const n = Math.min(dataset.length, opts.limit ?? Infinity);
  const load = async (i: number): Promise<TestSample> =>
    applyTestPipeline(await dataset.load(i), cfg);
  let pending: Promise<TestSample> | undefined;
  for (let i = 0; i < n; i++) {
    const cur = pending ?? load(i);
    pending = undefined;
    if (opts.prefetch !== false && i + 1 < n) {
      pending = load(i + 1);
      pending.catch(() => undefined); // surfaced when awaited on the next turn
    }
    yield await cur;
  }
}
