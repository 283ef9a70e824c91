/**
 * Inference engines: the same segmentor run by tfjs (our modules, on the selected backend) or by
 * ONNX Runtime (the model exported to ONNX; ./ort_engine.ts). Every inference path (`forward`,
 * `eval` whole and slide) takes an engine, so the choice is one flag.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Segmentor } from '../models/segmentor.ts';

export type EngineName = 'tfjs' | 'onnxruntime';
export const ENGINE_NAMES: readonly EngineName[] = ['tfjs', 'onnxruntime'];

export interface SegmentationEngine {
  readonly name: EngineName;
  readonly numClasses: number;
  readonly outputStride: number;
  readonly sizeDivisor: number;
  /**
   * Logits for a normalised image batch.
   * @param x NHWC [B, H, W, 3], H and W multiples of `sizeDivisor` (not disposed)
   * @returns NHWC [B, H/s, W/s, K], owned by the caller
   */
  logits(x: tf.Tensor4D): Promise<tf.Tensor4D>;
  /** One line for logs, e.g. `onnxruntime (cpu, 2 threads)`. */
  describe(): string;
  dispose(): Promise<void>;
}

/** tfjs: the model's own forward in eval mode. */
export class TfjsEngine implements SegmentationEngine {
  readonly name = 'tfjs';
  constructor(private readonly model: Segmentor) {}
  get numClasses(): number {
    return this.model.numClasses;
  }
  get outputStride(): number {
    return this.model.outputStride;
  }
  get sizeDivisor(): number {
    return this.model.sizeDivisor;
  }
  async logits(x: tf.Tensor4D): Promise<tf.Tensor4D> {
    const was = this.model.training;
    this.model.eval();
    try {
      return tf.tidy(() => this.model.forward(x));
    } finally {
      this.model.train(was);
    }
  }
  describe(): string {
    return `tfjs (${tf.getBackend()})`;
  }
  async dispose(): Promise<void> {}
}
