import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { Module } from '../models/core/module.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { inferLogits, predictLogits, slideLogits } from './inference.ts';

await useBackend();

/** A per-pixel model (stride 1): slide and whole inference must agree exactly. */
class Pointwise extends Module implements Segmentor {
  readonly numClasses = 3;
  readonly outputStride = 1;
  readonly sizeDivisor: number = 1;
  calls: number[][] = [];
  forward(x: tf.Tensor4D): tf.Tensor4D {
    this.calls.push([x.shape[1], x.shape[2]]);
    return tf.tidy(() =>
      tf.concat(
        [
          tf.sum(x, 3, true),
          tf.neg(tf.sum(x, 3, true)),
          tf.mul(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 1]), 2),
        ],
        3,
      ),
    ) as tf.Tensor4D;
  }
}

/** A stride-2 model that needs sizes divisible by 4. */
class Strided extends Pointwise {
  override readonly sizeDivisor = 4;
  override forward(x: tf.Tensor4D): tf.Tensor4D {
    assert.equal(x.shape[1] % 4, 0);
    assert.equal(x.shape[2] % 4, 0);
    return tf.tidy(() => tf.avgPool(super.forward(x), 2, 2, 'valid'));
  }
}

test('slide windows follow mmseg: grid count, clamping, averaging', async () => {
  const m = new Pointwise();
  const x = tf.randomUniform([1, 10, 13, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
  const whole = inferLogits(m, x, { mode: 'whole' });
  m.calls = [];
  const slide = slideLogits(m, x, [6, 6], [4, 4]);
  // H: max(10−6+4−1,0)//4+1 = 2 rows; W: max(13−6+3,0)//4+1 = 3 cols → 6 windows, all 6×6
  assert.equal(m.calls.length, 6);
  assert.ok(m.calls.every(([h, w]) => h === 6 && w === 6));
  const d = tf.max(tf.abs(tf.sub(whole, slide))).dataSync()[0];
  assert.ok(d < 1e-5, `max diff ${d}`);
});

test('inputs not divisible by the model divisor are padded and cropped back', () => {
  const m = new Strided();
  const x = tf.randomUniform([1, 10, 7, 3], -1, 1, 'float32', 2) as tf.Tensor4D;
  const l = inferLogits(m, x, { mode: 'whole' });
  assert.deepEqual(l.shape, [1, 10, 7, 3]);
  const p = predictLogits(m, x, [20, 14], { mode: 'whole', flip: true, scales: [1, 0.8] });
  assert.deepEqual(p.shape, [1, 20, 14, 3]);
  const before = tf.memory().numTensors;
  predictLogits(m, x, [20, 14], { mode: 'slide', crop: [8, 8], stride: [4, 4] }).dispose();
  assert.equal(tf.memory().numTensors, before);
});
