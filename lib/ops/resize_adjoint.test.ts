import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { describeCheck, gradCheck } from '../../test/helpers/gradcheck.ts';
import { resizeBilinear } from './resize.ts';

for (const be of ['cpu', 'wasm'] as const) {
  describe(`bilinear resize gradient on ${be}`, () => {
    test('half-pixel centres, up/down, non-square, batch 2', async () => {
      await useBackend(be);
      for (const [inS, outS] of [
        [
          [3, 2],
          [8, 8],
        ],
        [
          [8, 8],
          [3, 5],
        ],
        [
          [5, 7],
          [13, 9],
        ],
        [
          [7, 4],
          [7, 11],
        ],
      ] as [[number, number], [number, number]][]) {
        const x = tf.randomNormal([2, ...inS, 3], 0, 1, 'float32', 3);
        const r = gradCheck(
          `resize ${inS}→${outS}`,
          (t) => resizeBilinear(t as tf.Tensor4D, outS),
          [x],
        );
        assert.ok(r.pass, describeCheck(r));
        x.dispose();
      }
    });
  });
}
