import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../rng.ts';
import { flipHost, resizeBilinearHost, type HostLogits } from './host_resize.ts';
import { resizeArgmax } from './resize_argmax.ts';

// The reference is tfjs itself on its cpu backend: the whole [1, H, W, K] resize, then argMax.
await tf.setBackend('cpu');

function randomLogits(h: number, w: number, k: number, seed: number, levels = 0): HostLogits {
  const r = new Rng(seed);
  const data = new Float32Array(h * w * k);
  // levels > 0: few distinct values, so ties between classes are common
  for (let i = 0; i < data.length; i++)
    data[i] = levels ? Math.floor(r.next() * levels) : (r.next() - 0.5) * 8;
  return { data, height: h, width: w, channels: k };
}

function reference(src: HostLogits, outH: number, outW: number): Int32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(src.data, [1, src.height, src.width, src.channels]);
    return tf.argMax(tf.image.resizeBilinear(x, [outH, outW], false, true), 3).dataSync();
  }) as Int32Array;
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): string {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `pixel ${i}: ${a[i]} vs ${b[i]}`;
  return 'none';
}

test('resizeArgmax equals tfjs resizeBilinear + argMax (up, down, odd sizes, ties)', () => {
  const cases: [number, number, number, number, number, number][] = [
    // h, w, K, outH, outW, tie levels
    [9, 13, 7, 71, 40, 0], // up, different factors per axis
    [16, 12, 150, 61, 47, 0], // many classes
    [40, 33, 5, 17, 9, 0], // down
    [8, 8, 6, 8, 8, 0], // same size
    [7, 5, 4, 30, 23, 3], // ties everywhere: first index wins
    [1, 6, 3, 5, 11, 0], // a single source row
  ];
  for (const [h, w, k, oh, ow, levels] of cases) {
    const src = randomLogits(h, w, k, h * 100 + w, levels);
    const ours = resizeArgmax([src], oh, ow);
    const ref = reference(src, oh, ow);
    assert.equal(ours.length, ref.length);
    assert.equal(firstDiff(ours, ref), 'none', `${h}×${w}×${k} → ${oh}×${ow}`);
  }
});

test('resizeBilinearHost equals tfjs resizeBilinear bit for bit, with the crop', () => {
  const src = randomLogits(6, 9, 5, 3);
  const ours = resizeBilinearHost(src, 24, 36, 21, 30);
  const ref = tf.tidy(() =>
    tf
      .slice(
        tf.image.resizeBilinear(tf.tensor4d(src.data, [1, 6, 9, 5]), [24, 36], false, true),
        [0, 0, 0, 0],
        [1, 21, 30, 5],
      )
      .dataSync(),
  );
  assert.deepEqual([ours.height, ours.width, ours.channels], [21, 30, 5]);
  assert.equal(firstDiff(ours.data, ref), 'none');
  const flipped = flipHost(src);
  const refFlip = tf.tidy(() => tf.reverse(tf.tensor4d(src.data, [1, 6, 9, 5]), 2).dataSync());
  assert.equal(firstDiff(flipped.data, refFlip), 'none');
});

test('several sources: argmax of their mean as tf.add / tf.div compute it', () => {
  const a = randomLogits(5, 7, 6, 11);
  const b = randomLogits(9, 4, 6, 12);
  const ours = resizeArgmax([a, b], 19, 14);
  const ref = tf.tidy(() => {
    const ra = tf.image.resizeBilinear(tf.tensor4d(a.data, [1, 5, 7, 6]), [19, 14], false, true);
    const rb = tf.image.resizeBilinear(tf.tensor4d(b.data, [1, 9, 4, 6]), [19, 14], false, true);
    return tf.argMax(tf.div(tf.add(ra, rb), 2), 3).dataSync();
  });
  assert.equal(firstDiff(ours, ref), 'none');
  assert.throws(() => resizeArgmax([a, randomLogits(2, 2, 5, 1)], 3, 3), /disagree/);
  assert.throws(() => resizeArgmax([randomLogits(2, 2, 300, 1)], 3, 3), /at most 256 classes/);
});
