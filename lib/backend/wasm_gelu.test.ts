/**
 * The one-pass GELU kernel (lib/backend/kernels/gelu.ts): its float64 erf, the tabulated
 * forward and gradient against float64 references, `gelu()` on WASM (fused kernel) against the
 * composed tfjs-op GELU on the CPU backend (values), and the gradient of `gelu()` on each backend
 * (fused kernel on WASM, tfjs autodiff of the composition on CPU) against Φ(x) + x·φ(x) in
 * float64 and central differences of the forward (test/helpers/gradcheck.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCheck, gradCheck } from '../../test/helpers/gradcheck.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { gelu, geluComposite } from '../ops/activation.ts';
import { GELU_KERNEL, erf64, geluGradInto, geluInto } from './kernels/gelu.ts';
import { expectBackendsAgree, randomArray, runOn } from './kernels/testing.ts';

await useBackend('wasm');

const Phi = (x: number): number => 0.5 * (1 + erf64(x * Math.SQRT1_2));
const phi = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

/** Dense grid over [−12, 12] plus the edges of the table and specials. */
function grid(): Float32Array {
  const xs: number[] = [];
  for (let x = -12; x <= 12; x += 1 / 997) xs.push(x);
  xs.push(-10, 10, -10 + 1e-6, 10 - 1e-6, 0, -0, 1e-30, -1e-30, 40, -40);
  return Float32Array.from(xs);
}

describe('GELU kernel (fused)', () => {
  test('erf64 matches reference values to 1e-15', () => {
    const ref: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    for (const [z, e] of ref) assert.ok(Math.abs(erf64(z) - e) < 1e-15, `erf(${z})`);
  });

  test('forward is within float32 rounding of x·Φ(x) in float64', () => {
    const x = grid();
    const y = new Float32Array(x.length);
    geluInto(x, y);
    for (let i = 0; i < x.length; i++) {
      const ref = x[i] * Phi(x[i]);
      const err = Math.abs(y[i] - ref);
      assert.ok(err <= 6e-8 * Math.abs(ref) + 5e-9 * Math.abs(x[i]) + 1e-37, `x=${x[i]}: ${err}`);
    }
    const nan = new Float32Array(1);
    geluInto(Float32Array.of(NaN), nan);
    assert.ok(Number.isNaN(nan[0]));
  });

  test('gradient is within float32 rounding of Φ(x) + x·φ(x)', () => {
    const x = grid();
    const dy = Float32Array.from(x, (_, i) => 1 + (i % 7) / 7);
    const dx = new Float32Array(x.length);
    geluGradInto(dy, x, dx);
    for (let i = 0; i < x.length; i++) {
      const ref = dy[i] * (Phi(x[i]) + x[i] * phi(x[i]));
      const err = Math.abs(dx[i] - ref);
      assert.ok(err <= 1.2e-7 * Math.abs(ref) + 1e-8 * dy[i] * (1 + Math.abs(x[i])), `x=${x[i]}`);
    }
  });

  test('is registered for wasm only; gelu() uses it there', () => {
    assert.ok(tf.getKernel(GELU_KERNEL, 'wasm'));
    assert.equal(tf.getKernel(GELU_KERNEL, 'cpu'), undefined);
  });

  const rng = new Rng(3);
  const shape = [2, 9, 11, 16];
  const xv = randomArray(rng, shape, 3);
  const wv = randomArray(rng, shape);

  test('gelu on wasm equals the composed GELU on cpu (values)', async () => {
    const [fused] = await runOn('wasm', () => [gelu(tf.tensor(xv, shape))]);
    const [composed] = await runOn('cpu', () => [geluComposite(tf.tensor(xv, shape))]);
    // The CPU erf is Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7), hence not bit-equal.
    let worst = 0;
    for (let i = 0; i < xv.length; i++) worst = Math.max(worst, Math.abs(fused[i] - composed[i]));
    assert.ok(worst < 1e-6, `max |Δ| ${worst}`);
  });

  // gelu() is the fused kernel on wasm and the composed tfjs ops on cpu: each backend's gradient
  // against w·(Φ(x) + x·φ(x)) in float64 and against central differences of its own forward.
  for (const be of ['wasm', 'cpu'] as const) {
    test(`gelu gradient on ${be}: float64 Φ + x·φ and finite differences`, async () => {
      const [g] = await runOn(be, () => {
        const w = tf.tensor(wv, shape);
        return [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), w)))(tf.tensor(xv, shape))];
      });
      let worst = 0;
      for (let i = 0; i < xv.length; i++) {
        const ref = wv[i] * (Phi(xv[i]) + xv[i] * phi(xv[i]));
        worst = Math.max(worst, Math.abs(g[i] - ref));
      }
      assert.ok(worst < 1e-6, `max |Δ| ${worst} against float64`);
      const prev = tf.getBackend();
      await tf.setBackend(be);
      const x = tf.tensor(xv, shape);
      const r = gradCheck(`gelu on ${be}`, (t) => gelu(t), [x], { sampled: 24, directions: 4 });
      x.dispose();
      await tf.setBackend(prev);
      console.log(`[gradcheck] ${describeCheck(r)}; float64 max |Δ| ${worst.toExponential(2)}`);
      assert.ok(r.pass, describeCheck(r));
    });
  }

  test('gelu on wasm agrees with cpu for an empty tensor and inside tidy', async () => {
    await expectBackendsAgree('empty', () => [gelu(tf.zeros([0, 3]))], 0);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      gelu(tf.ones([5]));
    });
    assert.equal(tf.memory().numTensors, before);
  });
});
