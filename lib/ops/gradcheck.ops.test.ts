/**
 * Op-level gradient sweep, part 1: every tfjs kernel a training step runs (the table in
 * test/helpers/op_cases.ts), on cpu and on wasm, each against central differences of its own
 * forward (test/helpers/gradcheck.ts). Then proof that the harness can fail: tfjs' own
 * ResizeBilinearGrad kernel (which ignores half-pixel centres) is rejected on both backends,
 * while the registered exact adjoint passes the same check; AvgPool's gradient refuses padded
 * windows with a message naming the problem, and passes unpadded. Part 2 (our ops, the loss,
 * kernel coverage of real training steps) is ./gradcheck.ops2.test.ts; findings in
 * docs/gradients.md, "Op-level checks".
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { switchBackend, TEST_BACKENDS } from '../../test/helpers/backends.ts';
import { describeCheck, gradCheck } from '../../test/helpers/gradcheck.ts';
import { normal, sweep, TFJS_CASES } from '../../test/helpers/op_cases.ts';
import { resizeBilinear } from './resize.ts';

// Start wasm first: its setup also registers backend-agnostic gradients (dilated conv,
// GatherNd, ScatterNd, StridedSlice, DepthToSpace, comparisons) that the cpu runs then use
// (docs/gradients.md: a process that never starts wasm lacks them).
await switchBackend('wasm');

sweep('tfjs kernel gradients', TFJS_CASES);

/** Half-pixel bilinear resize whose gradient is tfjs' own ResizeBilinearGrad kernel. */
function resizeWithTfjsKernelGrad(size: [number, number]): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor4D;
    (args[1] as tf.GradSaveFunc)([x]);
    return {
      value: tf.image.resizeBilinear(x, size, false, true),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf
          .engine()
          .runKernel(
            'ResizeBilinearGrad',
            { images: saved[0], dy },
            { alignCorners: false, halfPixelCenters: true },
          ) as tf.Tensor,
    };
  });
  return (x) => op(x) as tf.Tensor;
}

/** Resizes are linear: exact central differences at any step; 0.1 divides rounding by 10. */
const LINEAR = { eps: 0.1 };
const SIZES: [number, number][] = [
  [9, 12],
  [3, 4],
];

for (const be of TEST_BACKENDS) {
  describe(`the harness can fail, on ${be}`, () => {
    test('tfjs ResizeBilinearGrad (half-pixel centres ignored) is rejected; ours passes', async () => {
      await switchBackend(be);
      // Square input: tfjs' cpu kernel also returns the shape [B, W, H, C] (its output shape swaps
      // height and width), which would throw on a non-square input before any value is compared.
      const x = normal([2, 6, 6, 3], 500);
      for (const size of SIZES) {
        const wrong = gradCheck(
          `tfjs kernel →${size}`,
          resizeWithTfjsKernelGrad(size),
          [x],
          LINEAR,
        );
        const ours = gradCheck(
          `ours →${size}`,
          (t) => resizeBilinear(t as tf.Tensor4D, size),
          [x],
          LINEAR,
        );
        console.log(
          `[gradcheck] ${be.padEnd(4)} mutation: ${describeCheck(wrong)}  |  ${describeCheck(ours)}`,
        );
        assert.ok(!wrong.pass && wrong.worst > 0.05, describeCheck(wrong));
        assert.ok(ours.pass, describeCheck(ours));
      }
      x.dispose();
    });
    test('AvgPool: padded windows refuse with a message; unpadded passes', async () => {
      await switchBackend(be);
      const x = normal([2, 5, 7, 3], 501);
      for (const pad of ['same', 1] as const) {
        assert.throws(
          () =>
            gradCheck(`avgPool 3×3 s2 pad ${pad}`, (t) => tf.avgPool(t as tf.Tensor4D, 3, 2, pad), [
              x,
            ]),
          /AvgPool gradient with padding .* is wrong in tfjs \(it counts padded cells\)/,
        );
      }
      for (const [k, s] of [
        [2, 2],
        [3, 2],
      ]) {
        const r = gradCheck(
          `avgPool ${k}×${k} s${s} valid`,
          (t) => tf.avgPool(t as tf.Tensor4D, k, s, 'valid'),
          [x],
        );
        console.log(`[gradcheck] ${be.padEnd(4)} worst ${r.worst.toExponential(2)}  ${r.label}`);
        assert.ok(r.pass, describeCheck(r));
      }
      x.dispose();
    });
  });
}
