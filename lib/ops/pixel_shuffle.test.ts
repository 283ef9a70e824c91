import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { pixelShuffle, pixelUnshuffle } from './pixel_shuffle.ts';

await useBackend();

test('pixelUnshuffle uses PyTorch channel order c·r² + dy·r + dx (not depthToSpace order)', () => {
  const [b, hh, ww, c, r] = [2, 4, 6, 3, 2];
  // value encodes (n, y, x, ch)
  const code = (n: number, y: number, x: number, ch: number) => ((n * 10 + y) * 10 + x) * 10 + ch;
  const data = new Float32Array(b * hh * ww * c);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < hh; y++)
      for (let x = 0; x < ww; x++)
        for (let ch = 0; ch < c; ch++) data[((n * hh + y) * ww + x) * c + ch] = code(n, y, x, ch);
  const u = pixelUnshuffle(tf.tensor4d(data, [b, hh, ww, c]), r);
  assert.deepEqual(u.shape, [b, hh / r, ww / r, c * r * r]);
  const ud = u.dataSync();
  const [h, w, cr] = [hh / r, ww / r, c * r * r];
  for (let n = 0; n < b; n++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let ch = 0; ch < c; ch++)
          for (let dy = 0; dy < r; dy++)
            for (let dx = 0; dx < r; dx++) {
              const got = ud[((n * h + i) * w + j) * cr + ch * r * r + dy * r + dx];
              assert.equal(got, code(n, i * r + dy, j * r + dx, ch));
            }
  // pixelShuffle inverts it exactly.
  assert.deepEqual(Array.from(pixelShuffle(u, r).dataSync()), Array.from(data));
});

test('pixelShuffle of r = 3 places channel c·9 + dy·3 + dx at (i·3 + dy, j·3 + dx)', () => {
  const x = tf.reshape(tf.range(0, 2 * 18), [1, 1, 2, 18]) as tf.Tensor4D; // C = 2, r = 3
  const y = pixelShuffle(x, 3);
  assert.deepEqual(y.shape, [1, 3, 6, 2]);
  const yd = y.dataSync();
  // pixel (1, 4) = source pixel j=1 (values 18..35), dy=1, dx=1; channel 1 → 18 + 9 + 4.
  assert.equal(yd[(1 * 6 + 4) * 2 + 1], 18 + 9 + 1 * 3 + 1);
  assert.equal(yd[(1 * 6 + 4) * 2 + 0], 18 + 0 + 1 * 3 + 1);
});
