import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { switchBackend } from '../../test/helpers/backends.ts';
import { describeCheck, dot, gradCheck } from '../../test/helpers/gradcheck.ts';
import { resizeBilinearAdjoint, resizeNearestAdjoint } from './resize_adjoint.ts';
import { resizeBilinear } from './resize.ts';

for (const be of ['cpu', 'wasm'] as const) {
  describe(`bilinear resize gradient on ${be}`, () => {
    test('half-pixel centres, up/down, non-square, batch 2', async () => {
      await switchBackend(be);
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

test('the harness rejects tfjs’ own ResizeBilinearGrad kernel (half-pixel centres ignored)', async () => {
  await switchBackend('cpu');
  const tfjsGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor4D;
    return {
      value: tf.image.resizeBilinear(x, [8, 8], false, true),
      gradFunc: (dy: tf.Tensor) =>
        tf
          .engine()
          .runKernel(
            'ResizeBilinearGrad',
            { images: x, dy },
            { alignCorners: false, halfPixelCenters: true },
          ) as tf.Tensor,
    };
  });
  const x = tf.randomNormal([1, 3, 3, 2], 0, 1, 'float32', 4);
  const r = gradCheck('tfjs kernel', (t) => tfjsGrad(t) as tf.Tensor, [x]);
  assert.ok(!r.pass && r.worst > 0.1, describeCheck(r));
  x.dispose();
});

describe('the adjoints satisfy ⟨R·x, y⟩ = ⟨x, Rᵀ·y⟩ against tfjs’ forward resizes', () => {
  const modes = [
    { alignCorners: false, halfPixelCenters: true },
    { alignCorners: false, halfPixelCenters: false },
    { alignCorners: true, halfPixelCenters: false },
  ];
  const sizes: [[number, number], [number, number]][] = [
    [
      [5, 7],
      [9, 12],
    ],
    [
      [5, 7],
      [3, 4],
    ],
    [
      [4, 6],
      [4, 11],
    ],
    [
      [1, 3],
      [6, 2],
    ],
  ];
  for (const be of ['cpu', 'wasm'] as const) {
    test(`bilinear and nearest, every mode, up/down/non-square, batch 2, on ${be}`, async () => {
      await switchBackend(be);
      for (const mode of modes) {
        for (const [inS, outS] of sizes) {
          tf.tidy(() => {
            const x = tf.randomNormal([2, ...inS, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
            const y = tf.randomNormal([2, ...outS, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
            const pairs: [tf.Tensor, tf.Tensor][] = [
              [
                tf.image.resizeBilinear(x, outS, mode.alignCorners, mode.halfPixelCenters),
                resizeBilinearAdjoint(y, inS, mode),
              ],
              [
                tf.image.resizeNearestNeighbor(x, outS, mode.alignCorners, mode.halfPixelCenters),
                resizeNearestAdjoint(y, inS, mode),
              ],
            ];
            for (const [rx, rty] of pairs) {
              const lhs = dot(rx.dataSync(), y.dataSync()); // float64 sums
              const rhs = dot(x.dataSync(), rty.dataSync());
              const scale = Math.sqrt(
                dot(rx.dataSync(), rx.dataSync()) * dot(y.dataSync(), y.dataSync()),
              );
              assert.ok(
                Math.abs(lhs - rhs) <= 1e-6 * scale,
                `${JSON.stringify(mode)} ${inS}→${outS}: ⟨Rx,y⟩ ${lhs} vs ⟨x,Rᵀy⟩ ${rhs}`,
              );
            }
          });
        }
      }
    });
  }
});
