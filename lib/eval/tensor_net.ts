/**
 * A tfjs network as the host recipe's `LogitsNet` (./segment.ts): host array in, one forward on
 * the active backend, host array out. Only the network's input and its stride-s logits are
 * tensors; everything at the original image size stays on the host.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Segmentor } from '../models/segmentor.ts';
import type { SegmentationEngine } from '../engine/engine.ts';
import type { HostLogits } from './host_resize.ts';
import type { HostImage, LogitsNet } from './segment.ts';

/**
 * Wrap a tensor forward: `forward` takes NHWC [1, h, w, 3] (not to be disposed) and returns
 * NHWC [1, h/s, w/s, K], which this wrapper reads and disposes.
 */
export function tensorNet(
  info: { readonly numClasses: number; readonly sizeDivisor: number },
  forward: (x: tf.Tensor4D) => tf.Tensor4D | Promise<tf.Tensor4D>,
): LogitsNet {
  return {
    numClasses: info.numClasses,
    sizeDivisor: info.sizeDivisor,
    async logits(x: HostImage): Promise<HostLogits> {
      const t = tf.tensor4d(x.data, [1, x.height, x.width, 3]);
      let y: tf.Tensor4D;
      try {
        y = await forward(t);
      } finally {
        t.dispose();
      }
      const [, h, w, k] = y.shape;
      const data = (await y.data()) as Float32Array;
      y.dispose();
      return { data, height: h, width: w, channels: k };
    },
  };
}

/** A segmentor run in eval mode (its train/eval state is restored after each forward). */
export function segmentorNet(model: Segmentor): LogitsNet {
  return tensorNet(model, (x) => {
    const was = model.training;
    model.eval();
    try {
      return tf.tidy(() => model.forward(x));
    } finally {
      model.train(was);
    }
  });
}

/** An inference engine (tfjs or ONNX Runtime, lib/engine/) as a `LogitsNet`. */
export function engineNet(engine: SegmentationEngine): LogitsNet {
  return tensorNet(engine, (x) => engine.logits(x));
}
