/** BatchNorm2d, GroupNorm and LayerNorm with PyTorch names, defaults and train/eval semantics. */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { batchNormApply, groupNorm, layerNorm } from '../../ops/norm.ts';

/** A conv's weights with an eval-mode BN folded in, and the dataIds they were computed from. */
export interface FoldedConvBn {
  ids: readonly (object | undefined)[];
  weight: tf.Tensor4D;
  bias: tf.Tensor1D;
}

export class BatchNorm2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;
  /** Owned by lib/models/layers/conv_bn.ts (eval-mode conv+BN folding); freed by clearCache. */
  foldCache?: FoldedConvBn;

  constructor(
    readonly channels: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([channels]));
    this.bias = this.param('bias', tf.zeros([channels]));
    this.runningMean = this.buffer('running_mean', tf.zeros([channels]));
    this.runningVar = this.buffer('running_var', tf.ones([channels]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }

  /** Normalises over the last (channel) axis of any-rank NHWC input. */
  forward<T extends tf.Tensor>(x: T): T {
    if (!this.training) {
      return batchNormApply(
        x,
        this.runningMean,
        this.runningVar,
        this.weight,
        this.bias,
        this.eps,
        this.path,
      ) as T;
    }
    // Train mode (mmseg trains every backbone BN with batch statistics; docs/architecture.md "BatchNorm").
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const n = x.size / this.channels;
    const { mean, variance } = tf.moments(x, axes);
    tf.tidy(() => {
      const m = this.momentum;
      const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
    const y = batchNormApply(x, mean, variance, this.weight, this.bias, this.eps, this.path) as T;
    mean.dispose();
    variance.dispose();
    return y;
  }

  override clearCache(): void {
    if (!this.foldCache) return;
    this.foldCache.weight.dispose();
    this.foldCache.bias.dispose();
    this.foldCache = undefined;
  }
}

export class GroupNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(
    readonly groups: number,
    readonly channels: number,
    readonly eps = 1e-5,
  ) {
    super();
    if (channels % groups !== 0)
      throw new Error(`GroupNorm: ${channels} channels not divisible by ${groups} groups`);
    this.weight = this.param('weight', tf.ones([channels]));
    this.bias = this.param('bias', tf.zeros([channels]));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return groupNorm(
      x,
      this.groups,
      this.weight as tf.Tensor1D,
      this.bias as tf.Tensor1D,
      this.eps,
      this.path,
    );
  }
}

/** LayerNorm over the last axis (channels in NHWC / tokens layout). */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([dim]));
    this.bias = this.param('bias', tf.zeros([dim]));
  }
  forward<T extends tf.Tensor>(x: T): T {
    return layerNorm(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, this.eps, this.path);
  }
}
