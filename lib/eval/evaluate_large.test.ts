import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { switchBackend } from '../../test/helpers/backends.ts';
import { tempDir, writeLabel } from '../data/testing.ts';
import { buildDataset } from '../data/datasets.ts';
import { encodeJpeg } from '../data/image_io.ts';
import { writeFileSync, mkdirSync } from 'node:fs';
import { PIPELINE_PRESETS } from '../data/transforms/pipeline.ts';
import { Module } from '../models/core/module.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { evaluate } from './evaluate.ts';

// A phone-sized validation image on WASM: before the resize and the argmax ran together on the
// host, the 150-class logits at 3000×2200 (3.7 GiB) were one tensor and the wasm heap trapped.
await switchBackend('wasm');

const K = 150;

/** Class 3 where the pixel is red, class 7 where it is blue (1×1 conv, stride 4, divisor 32). */
class RedBlue extends Module implements Segmentor {
  readonly numClasses = K;
  readonly outputStride = 4;
  readonly sizeDivisor = 32;
  private readonly w: tf.Tensor4D;
  constructor() {
    super();
    const w = new Float32Array(3 * K).fill(0);
    w[0 * K + 3] = 1; // red → class 3
    w[2 * K + 3] = -1;
    w[0 * K + 7] = -1; // blue → class 7
    w[2 * K + 7] = 1;
    this.w = tf.tensor4d(w, [1, 1, 3, K]);
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.avgPool(tf.conv2d(x, this.w, 1, 'valid'), 4, 4, 'valid'));
  }
}

test('eval scores a 3000×2200 image on wasm (no full-resolution K-channel tensor)', async () => {
  const [H, W] = [2200, 3000];
  const root = tempDir('offseg-eval-large-');
  const img = new Uint8Array(H * W * 3);
  const label = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const blue = x >= W / 2;
      img.set(blue ? [20, 30, 230] : [230, 30, 20], (y * W + x) * 3);
      label[y * W + x] = blue ? 8 : 4; // ADE files: class id + 1 (reduce_zero_label)
    }
  }
  mkdirSync(join(root, 'images/validation'), { recursive: true });
  writeFileSync(
    join(root, 'images/validation/big.jpg'),
    await encodeJpeg({ data: img, height: H, width: W }, 95),
  );
  writeLabel(join(root, 'annotations/validation/big.png'), label, W, H);
  const ds = await buildDataset({ type: 'ade20k', dataRoot: root, split: 'val' });
  const model = new RedBlue();
  const before = tf.memory().numTensors;
  let shape: number[] = [];
  const r = await evaluate(model, ds, {
    pipeline: PIPELINE_PRESETS.ade20k.test, // keep-ratio 2048×512: the network sees 698×512
    inference: { mode: 'slide', crop: [512, 512], stride: [480, 480] },
    onPrediction: (pred, s) => (shape = [pred.length, s.oriHeight, s.oriWidth]),
  });
  assert.deepEqual(shape, [H * W, H, W]);
  assert.equal(tf.memory().numTensors, before);
  // everything right but a few columns at the colour edge (JPEG ringing, bilinear blur)
  const v = r.raw;
  assert.ok(v.aAcc > 0.995, `aAcc ${v.aAcc}`);
  assert.ok(v.IoU[3] > 0.99 && v.IoU[7] > 0.99, `IoU ${v.IoU[3]}, ${v.IoU[7]}`);
});
