import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { describeCheck, gradCheck } from '../../test/helpers/gradcheck.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { carafe } from './carafe.ts';
import { Rng } from '../models/core/init.ts';
import { traceOps } from './trace.ts';

await useBackend();

/** Loop reference of mmcv's naive CARAFE (mmcv's carafe_naive semantics, docs/architecture.md), NHWC host arrays, zero padding. */
function carafeLoop(
  x: Float32Array,
  [b, h, w, c]: readonly number[],
  kern: Float32Array,
  k: number,
  s: number,
): Float32Array {
  const oh = h * s;
  const ow = w * s;
  const r = (k - 1) / 2;
  const out = new Float32Array(b * oh * ow * c);
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        const p = (n * oh + y) * ow + xx;
        for (let dy = 0; dy < k; dy++) {
          const iy = Math.floor(y / s) + dy - r;
          if (iy < 0 || iy >= h) continue;
          for (let dx = 0; dx < k; dx++) {
            const ix = Math.floor(xx / s) + dx - r;
            if (ix < 0 || ix >= w) continue;
            const wt = kern[p * k * k + dy * k + dx];
            const src = ((n * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) out[p * c + ch] += wt * x[src + ch];
          }
        }
      }
    }
  }
  return out;
}

function randn(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const [k, s, b, h, w, c] of [
  [3, 1, 2, 5, 6, 4],
  [5, 2, 2, 4, 5, 3],
  [5, 2, 1, 2, 3, 2], // window wider than the input: most taps are zero padding
  [3, 2, 1, 3, 3, 5],
] as const) {
  test(`carafe k=${k} s=${s} on [${b},${h},${w},${c}] equals the loop reference (zero borders)`, () => {
    const rng = new Rng(100 * k + s);
    const xd = randn(b * h * w * c, rng);
    // Unnormalised kernels on purpose: every tap's weight must land on the right pixel.
    const kd = randn(b * h * s * w * s * k * k, rng);
    const x = tf.tensor4d(xd, [b, h, w, c]);
    const kern = tf.tensor4d(kd, [b, h * s, w * s, k * k]);
    const y = carafe(x, kern, k, 1, s);
    assert.deepEqual(y.shape, [b, h * s, w * s, c]);
    const ref = carafeLoop(xd, [b, h, w, c], kd, k, s);
    const err = maxAbsDiff(y.dataSync(), ref);
    assert.ok(err < 1e-5, `max |Δ| ${err}`);
    tf.dispose([x, kern, y]);
  });
}

test('carafe s=2 in bands of source rows equals the single pass and finite differences', () => {
  const [b, h, w, c, k, s] = [2, 7, 5, 3, 5, 2];
  const rng = new Rng(11);
  const x = tf.tensor4d(randn(b * h * w * c, rng), [b, h, w, c]);
  const kern = tf.tensor4d(randn(b * h * s * w * s * k * k, rng), [b, h * s, w * s, k * k]);
  const g = tf.tensor4d(randn(b * h * s * w * s * c, rng), [b, h * s, w * s, c]);
  const run = (budget: number) =>
    tf.grads((a: tf.Tensor, kk: tf.Tensor) =>
      tf.sum(tf.mul(carafe(a as tf.Tensor4D, kk as tf.Tensor4D, k, 1, s, '', budget), g)),
    )([x, kern]);
  const whole = carafe(x, kern, k, 1, s).dataSync();
  // 3 source rows per band (7 = 3 + 3 + 1).
  const budget = b * w * k * k * c * 3;
  const banded = carafe(x, kern, k, 1, s, '', budget).dataSync();
  assert.ok(maxAbsDiff(whole, banded) < 1e-6);
  const [gx1, gk1] = run(1 << 24);
  const [gx2, gk2] = run(budget);
  assert.ok(maxAbsDiff(gx1.dataSync(), gx2.dataSync()) < 1e-5);
  assert.ok(maxAbsDiff(gk1.dataSync(), gk2.dataSync()) < 1e-5);
  // Not inferred from the single pass: the banded gradient against central differences of the
  // banded forward (bilinear, so exact at any step; 0.25 keeps float32 noise low).
  const r = gradCheck(
    'carafe in bands',
    (a, kk) => carafe(a as tf.Tensor4D, kk as tf.Tensor4D, k, 1, s, '', budget),
    [x, kern],
    { eps: 0.25, sampled: 16, directions: 4 },
  );
  console.log(`[gradcheck] ${describeCheck(r)}`);
  assert.ok(r.pass, describeCheck(r));
});

for (const s of [2, 1]) {
  test(`carafe s=${s} gradients w.r.t. features and kernels match finite differences of the loop`, () => {
    const [b, h, w, c, k] = [1, 3, 3, 2, 3];
    const rng = new Rng(7);
    const xd = randn(b * h * w * c, rng);
    const kd = randn(b * h * s * w * s * k * k, rng);
    const gd = randn(b * h * s * w * s * c, rng);
    const loss = (xv: Float32Array, kv: Float32Array): number => {
      const y = carafeLoop(xv, [b, h, w, c], kv, k, s);
      return y.reduce((a, v, i) => a + v * gd[i], 0);
    };
    const g = tf.tensor4d(gd, [b, h * s, w * s, c]);
    const [dx, dk] = tf.grads((x: tf.Tensor, kk: tf.Tensor) =>
      tf.sum(tf.mul(carafe(x as tf.Tensor4D, kk as tf.Tensor4D, k, 1, s), g)),
    )([tf.tensor4d(xd, [b, h, w, c]), tf.tensor4d(kd, [b, h * s, w * s, k * k])]);
    // The loss is bilinear, so a central difference is exact up to rounding.
    const eps = 1e-2;
    const fd = (arr: Float32Array, i: number, other: (a: Float32Array) => number): number => {
      const p = arr.slice();
      const m = arr.slice();
      p[i] += eps;
      m[i] -= eps;
      return (other(p) - other(m)) / (2 * eps);
    };
    const dxd = dx.dataSync();
    const dkd = dk.dataSync();
    for (let i = 0; i < xd.length; i++) {
      const want = fd(xd, i, (a) => loss(a, kd));
      assert.ok(Math.abs(dxd[i] - want) < 1e-3, `dx[${i}] ${dxd[i]} vs ${want}`);
    }
    for (let i = 0; i < kd.length; i += 7) {
      const want = fd(kd, i, (a) => loss(xd, a));
      assert.ok(Math.abs(dkd[i] - want) < 1e-3, `dk[${i}] ${dkd[i]} vs ${want}`);
    }
  });
}

test('carafe records C·k²·outPixels·B MACs as kind carafe and rejects bad shapes', () => {
  const x = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
  const kern = tf.zeros([2, 8, 8, 25]) as tf.Tensor4D;
  const { records } = traceOps(() => carafe(x, kern, 5, 1, 2, 'ff'));
  assert.deepEqual(
    records.map((r) => [r.kind, r.macs, r.scope]),
    [['carafe', 2 * 64 * 3 * 25, 'ff']],
  );
  assert.throws(() => carafe(x, kern, 3, 1, 2), /do not match/);
  assert.throws(() => carafe(x, kern, 5, 2, 2), /up_group 1/);
});
