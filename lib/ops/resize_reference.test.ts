/**
 * The bilinear resize (PyTorch semantics), its gradient and the gradient of the segmentation
 * cross-entropy built on it, against the independent float64 reference of
 * test/helpers/resize_reference.ts (definitions, and what is independent of what, are stated
 * there). First the reference itself is checked without tfjs: interpolation matrices derived by
 * hand, rows summing to 1, identity at equal size, and ⟨Rx, w⟩ = ⟨x, Rᵀw⟩ for its adjoint.
 *
 * The code under test is
 *   - the forward: lib/ops/resize.ts `resizeBilinear` (tfjs' ResizeBilinear kernel),
 *   - the gradient path the repo installs for it (`tf.grad` through resizeBilinear and through
 *     the raw `tf.image.resizeBilinear(x, size, false, true)`),
 *   - lib/train/loss.ts `segCrossEntropy` (custom gradient) and `segCrossEntropyReference`
 *     (plain autodiff),
 * on the 'cpu' and the 'wasm' backends. Both sides get the same float32-rounded inputs.
 *
 * The last test shows that the reference can fail: tfjs' own ResizeBilinearGrad kernel (which
 * ignores half-pixel centres) must disagree with it by more than 5 % of max |ref|.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  interpMatrix,
  resizeAdjoint64,
  resizeForward64,
  segCrossEntropy64,
  type Shape4,
} from '../../test/helpers/resize_reference.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { setupWasm } from '../backend/wasm.ts';
import { segCrossEntropy, segCrossEntropyReference } from '../train/loss.ts';
import { resizeBilinear } from './resize.ts';

// ───────────────────────────────────── test helpers ─────────────────────────────────────

/** Deterministic uniform [−1, 1) generator (mulberry32), rounded to float32. */
function randomF32(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxAbsDiff(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(ours.length, ref.length, 'element count differs');
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Run a tensor program in tf.tidy and return its values (the tensor is disposed). */
function valuesOf(fn: () => tf.Tensor): Float32Array {
  const t = tf.tidy(fn);
  const v = Float32Array.from(t.dataSync());
  t.dispose();
  return v;
}

/** Fails when a check leaks tensors. */
function noLeak(fn: () => void): void {
  const before = tf.memory().numTensors;
  fn();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
}

type Backend = 'cpu' | 'wasm';
const BACKENDS: Backend[] = ['cpu', 'wasm'];

/**
 * useBackend initialises once per process (its first choice sticks); then switch explicitly.
 * WASM on one thread: the kernels are the same, and the threaded start-up costs ~3 s.
 */
async function switchTo(name: Backend): Promise<void> {
  await useBackend(name);
  if (name === 'wasm') await setupWasm({ threads: 1 });
  else await tf.setBackend('cpu');
  assert.equal(tf.getBackend(), name);
}

const CASES: { shape: Shape4; size: [number, number] }[] = [
  { shape: [2, 3, 2, 3], size: [8, 8] }, // upsample, non-square input
  { shape: [2, 8, 8, 3], size: [3, 5] }, // downsample, fractional scales
  { shape: [1, 5, 7, 2], size: [13, 9] }, // fractional upsample
  { shape: [1, 7, 4, 2], size: [7, 11] }, // one axis unchanged
  { shape: [2, 5, 7, 4], size: [13, 17] }, // the loss test's resize
  { shape: [2, 4, 6, 2], size: [4, 6] }, // same size (resizeBilinear returns a clone)
];

// ───────────────────────────── the reference itself (no tfjs) ─────────────────────────────

function close(actual: ArrayLike<number>, expected: number[], msg: string, tol = 1e-12): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${msg}[${i}]: got ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

test('hand-derived: 2 → 4 (scale ½)', () => {
  // s = ½(d + ½) − ½ = −0.25 (→ 0), 0.25, 0.75, 1.25 (i₀ = 1 is the last index: i₁ = i₀)
  close(interpMatrix(4, 2), [1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1], '2→4');
});

test('hand-derived: 3 → 8 (scale 3/8)', () => {
  // s = 0.375·d − 0.3125: −0.3125 (→ 0), 0.0625, 0.4375, 0.8125, 1.1875, 1.5625, 1.9375,
  // 2.3125 (i₀ = 2 is the last index: all weight on in[2])
  // prettier-ignore
  const expected = [
    1, 0, 0,
    0.9375, 0.0625, 0,
    0.5625, 0.4375, 0,
    0.1875, 0.8125, 0,
    0, 0.8125, 0.1875,
    0, 0.4375, 0.5625,
    0, 0.0625, 0.9375,
    0, 0, 1,
  ];
  close(interpMatrix(8, 3), expected, '3→8');
});

test('hand-derived: 8 → 3 (scale 8/3, downscale)', () => {
  // d = 0: s = (8/3)·½ − ½ = 5/6     → i₀ 0, λ₁ 5/6: in[0]·1/6 + in[1]·5/6
  // d = 1: s = (8/3)·1.5 − ½ = 3.5   → i₀ 3, λ₁ ½:   in[3]·½ + in[4]·½
  // d = 2: s = (8/3)·2.5 − ½ = 37/6  → i₀ 6, λ₁ 1/6: in[6]·5/6 + in[7]·1/6
  // prettier-ignore
  const expected = [
    1 / 6, 5 / 6, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0.5, 0.5, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 5 / 6, 1 / 6,
  ];
  close(interpMatrix(3, 8), expected, '8→3');
});

test('reference self-consistency: rows sum to 1, identity at equal size, ⟨Rx, w⟩ = ⟨x, Rᵀw⟩', () => {
  for (const [o, i] of [
    [4, 2],
    [8, 3],
    [3, 8],
    [13, 5],
    [7, 7],
  ]) {
    const r = interpMatrix(o, i);
    for (let d = 0; d < o; d++) {
      let s = 0;
      for (let j = 0; j < i; j++) s += r[d * i + j];
      assert.ok(Math.abs(s - 1) < 1e-12, `${i}→${o} row ${d} sums to ${s}`);
    }
    if (o === i) for (let d = 0; d < o; d++) assert.equal(r[d * i + d], 1);
  }
  for (const { shape, size } of CASES) {
    const x = Float64Array.from(randomF32(numel(shape), 1));
    const outShape: Shape4 = [shape[0], size[0], size[1], shape[3]];
    const w = Float64Array.from(randomF32(numel(outShape), 2));
    const y = resizeForward64(x, shape, size);
    const dx = resizeAdjoint64(w, outShape, [shape[1], shape[2]]);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < y.length; i++) lhs += y[i] * w[i];
    for (let i = 0; i < x.length; i++) rhs += x[i] * dx[i];
    assert.ok(Math.abs(lhs - rhs) < 1e-12 * Math.max(1, Math.abs(lhs)), `${shape}→${size}`);
  }
});

// ───────────────────────────── the code under test, per backend ─────────────────────────────

for (const backend of BACKENDS) {
  test(`${backend}: resizeBilinear forward matches the float64 reference (≤ 1e-5)`, async () => {
    await switchTo(backend);
    noLeak(() => {
      for (const [ci, { shape, size }] of CASES.entries()) {
        const x32 = randomF32(numel(shape), 10 + ci);
        const ref = resizeForward64(Float64Array.from(x32), shape, size);
        const ours = valuesOf(() => resizeBilinear(tf.tensor4d(x32, shape), size));
        const err = maxAbsDiff(ours, ref);
        console.log(`[ref] ${backend} forward [${shape}]→[${size}] max|Δ| ${err.toExponential(2)}`);
        assert.ok(err <= 1e-5, `[${shape}]→[${size}]: max|Δ| ${err}`);
      }
    });
  });

  test(`${backend}: gradients of resizeBilinear and tf.image.resizeBilinear equal the adjoint`, async () => {
    await switchTo(backend);
    noLeak(() => {
      for (const [ci, { shape, size }] of CASES.entries()) {
        const outShape: Shape4 = [shape[0], size[0], size[1], shape[3]];
        const x32 = randomF32(numel(shape), 20 + ci);
        const w32 = randomF32(numel(outShape), 30 + ci);
        const ref = resizeAdjoint64(Float64Array.from(w32), outShape, [shape[1], shape[2]]);
        const refMax = maxAbs(ref);
        const paths: [string, (x: tf.Tensor4D) => tf.Tensor4D][] = [
          ['resizeBilinear', (x) => resizeBilinear(x, size)],
          ['tf.image.resizeBilinear', (x) => tf.image.resizeBilinear(x, size, false, true)],
        ];
        for (const [name, f] of paths) {
          const ours = valuesOf(() => {
            const x = tf.tensor4d(x32, shape);
            const w = tf.tensor4d(w32, outShape);
            return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as tf.Tensor4D), w)))(x);
          });
          const err = maxAbsDiff(ours, ref);
          console.log(
            `[ref] ${backend} grad ${name} [${shape}]→[${size}] max|Δ| ${err.toExponential(2)} ` +
              `(max|ref| ${refMax.toFixed(3)}, rel ${(err / refMax).toExponential(2)})`,
          );
          assert.ok(err <= 1e-4 * refMax, `${name} [${shape}]→[${size}]: max|Δ| ${err}`);
        }
      }
    });
  });

  test(`${backend}: segCrossEntropy (and the autodiff reference) loss and gradient`, async () => {
    await switchTo(backend);
    const shape: Shape4 = [2, 5, 7, 4];
    const labelShape: [number, number, number] = [2, 13, 17];
    const logits32 = randomF32(numel(shape), 40).map((v) => 3 * v);
    const u = randomF32(numel(labelShape), 41);
    const labels = Int32Array.from(u, (v) => (v > 0.6 ? 255 : Math.floor(((v + 1) / 1.6) * 4)));
    const ignored = labels.filter((l) => l === 255).length;
    assert.ok(ignored > 0 && ignored < labels.length, 'some, not all, labels are ignored');
    assert.ok(labels.every((l) => l === 255 || (l >= 0 && l < 4)));
    const ref = segCrossEntropy64(Float64Array.from(logits32), shape, labels, [13, 17]);
    const refMax = maxAbs(ref.grad);
    noLeak(() => {
      const fns: [string, typeof segCrossEntropy][] = [
        ['segCrossEntropy', segCrossEntropy],
        ['segCrossEntropyReference', segCrossEntropyReference],
      ];
      for (const [name, fn] of fns) {
        const [loss] = valuesOf(() => fn(tf.tensor4d(logits32, shape), lab()));
        const grad = valuesOf(() => {
          // Labels live outside tf.grad's scope: the backward pass reads them too.
          const y = lab();
          return tf.grad((l: tf.Tensor) => fn(l as tf.Tensor4D, y))(tf.tensor4d(logits32, shape));
        });
        const lossRel = Math.abs(loss - ref.loss) / Math.abs(ref.loss);
        const gradErr = maxAbsDiff(grad, ref.grad);
        console.log(
          `[ref] ${backend} ${name}: loss ${loss.toFixed(6)} vs ${ref.loss.toFixed(6)} ` +
            `(rel ${lossRel.toExponential(2)}; ${ignored}/${labels.length} ignored), grad max|Δ| ` +
            `${gradErr.toExponential(2)} (rel ${(gradErr / refMax).toExponential(2)})`,
        );
        assert.ok(lossRel <= 1e-5, `${name}: loss rel error ${lossRel}`);
        assert.ok(gradErr <= 1e-4 * refMax, `${name}: grad max|Δ| ${gradErr}`);
      }
    });

    function lab(): tf.Tensor3D {
      return tf.tensor3d(labels, labelShape, 'int32');
    }
  });

  test(`${backend}: the reference detects tfjs' ResizeBilinearGrad kernel (3 → 8)`, async () => {
    await switchTo(backend);
    const shape: Shape4 = [2, 3, 3, 2];
    const outShape: Shape4 = [2, 8, 8, 2];
    const x32 = randomF32(numel(shape), 50);
    const w32 = randomF32(numel(outShape), 51);
    const ref = resizeAdjoint64(Float64Array.from(w32), outShape, [3, 3]);
    const refMax = maxAbs(ref);
    noLeak(() => {
      const kernel = valuesOf(
        () =>
          tf
            .engine()
            .runKernel(
              'ResizeBilinearGrad',
              { images: tf.tensor4d(x32, shape), dy: tf.tensor4d(w32, outShape) },
              { alignCorners: false, halfPixelCenters: true },
            ) as tf.Tensor,
      );
      const rel = maxAbsDiff(kernel, ref) / refMax;
      console.log(
        `[ref] ${backend} tfjs ResizeBilinearGrad 3→8: max|Δ|/max|ref| ${rel.toFixed(3)}`,
      );
      assert.ok(
        rel > 0.05,
        `tfjs' kernel agrees with the reference (rel ${rel}): bug not detected`,
      );
    });
  });
}
