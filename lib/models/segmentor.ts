/**
 * Contracts shared by every registered model and everything that consumes one (evaluation,
 * training, export, reports): the `Segmentor` interface and the `FeatureInfo` record a backbone
 * publishes for its decode head. Kept apart from any implementation so a consumer imports a
 * type, not a model.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from './core/module.ts';

/**
 * What every segmentor in the registry implements (mmseg's `EncoderDecoder` in
 * `mmseg/models/segmentors/encoder_decoder.py`, reduced to the tensor path).
 */
export interface Segmentor extends Module {
  readonly numClasses: number;
  /** Output stride of the logits relative to the input (4 for OffSeg, 8 for SegNeXt…). */
  readonly outputStride: number;
  /** x [B,H,W,3] (normalised RGB, NHWC) → logits [B,H/s,W/s,K], s = outputStride. */
  forward(x: tf.Tensor4D): tf.Tensor4D;
  /** Largest divisor the input size must be a multiple of. */
  readonly sizeDivisor: number;
  /**
   * The model's own training loss, for a model not trained by per-pixel cross-entropy on
   * `forward` (Mask2Former: set prediction, Hungarian matching). x [B,H,W,3], labels int32
   * [B,H,W] with 255 ignored → scalar. Absent: the training loop uses that cross-entropy.
   */
  loss?(x: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar;
}

/** One backbone output feature map: what a decode head needs to know about it. */
export interface FeatureInfo {
  /** Channels of the map (the last NHWC axis). */
  channels: number;
  /** Cumulative stride w.r.t. the input. */
  stride: number;
}
