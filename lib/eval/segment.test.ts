import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Module } from '../models/core/module.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { argmaxLabels, predictLogits, type InferenceOptions } from './inference.ts';
import { predictLabels } from './segment.ts';
import { segmentorNet } from './tensor_net.ts';

// Reference: the tensor recipe of ./inference.ts on the cpu backend, argmax over the whole
// original-size logits. The host recipe must give the identical label map.
await tf.setBackend('cpu');

/** 1×1 conv with fixed random weights, then s×s average pooling: K classes at stride s. */
class Toy extends Module implements Segmentor {
  readonly outputStride: number;
  private readonly w: tf.Tensor4D;
  constructor(
    readonly numClasses: number,
    stride: number,
    readonly sizeDivisor: number,
  ) {
    super();
    this.outputStride = stride;
    this.w = tf.randomNormal([1, 1, 3, numClasses], 0, 1, 'float32', 7) as tf.Tensor4D;
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    assert.equal(x.shape[1] % this.sizeDivisor, 0);
    assert.equal(x.shape[2] % this.sizeDivisor, 0);
    return tf.tidy(() => {
      const s = this.outputStride;
      const y = tf.conv2d(tf.tanh(x), this.w, 1, 'valid');
      return s === 1 ? y : tf.avgPool(y, s, s, 'valid');
    });
  }
}

function image(h: number, w: number, seed: number): Float32Array {
  return tf.tidy(() =>
    tf.randomUniform([h, w, 3], -2, 2, 'float32', seed).dataSync(),
  ) as Float32Array;
}

async function both(m: Toy, h: number, w: number, orig: [number, number], opts: InferenceOptions) {
  const data = image(h, w, h + w);
  const x = tf.tensor4d(data, [1, h, w, 3]);
  const logits = predictLogits(m, x, orig, opts);
  const ref = await argmaxLabels(logits);
  tf.dispose([x, logits]);
  const ours = await predictLabels(segmentorNet(m), { data, height: h, width: w }, orig, opts);
  return { ref, ours };
}

function diffCount(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

test('host recipe = tensor recipe + whole argmax (whole, slide, padding, TTA)', async () => {
  const m = new Toy(9, 4, 8);
  const cases: [number, number, [number, number], InferenceOptions][] = [
    [37, 50, [111, 150], { mode: 'whole' }], // padded to 40×56, upsampled ×3
    [64, 48, [40, 30], { mode: 'whole' }], // downsampled
    [45, 70, [90, 140], { mode: 'slide', crop: [24, 32], stride: [16, 20] }],
    [30, 26, [61, 52], { mode: 'whole', flip: true, scales: [1, 0.75] }],
  ];
  for (const [h, w, orig, opts] of cases) {
    const { ref, ours } = await both(m, h, w, orig, opts);
    assert.equal(ours.length, orig[0] * orig[1]);
    assert.equal(diffCount(ours, ref), 0, `${h}×${w} → ${orig} ${JSON.stringify(opts)}`);
    assert.ok(new Set(ours).size > 3, 'the label map is not trivial');
  }
});

test('host recipe leaves no tensors behind and restores train mode', async () => {
  const m = new Toy(5, 2, 4);
  m.train(true);
  const before = tf.memory().numTensors;
  await predictLabels(
    segmentorNet(m),
    { data: image(12, 12, 1), height: 12, width: 12 },
    [20, 20],
    {
      mode: 'slide',
      crop: [8, 8],
      stride: [6, 6],
    },
  );
  assert.equal(tf.memory().numTensors, before);
  assert.equal(m.training, true);
});
