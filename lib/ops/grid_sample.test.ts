import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { gridSample } from './grid_sample.ts';
import { Rng } from '../models/core/init.ts';
import { traceOps } from './trace.ts';

await useBackend();

/**
 * Loop transcription of PyTorch's CPU grid_sampler_2d (bilinear, border, align_corners False),
 * in float64, NHWC: clip the unnormalised coordinate, take the 4 neighbours (x0, x0+1) ×
 * (y0, y0+1) and treat out-of-range neighbours as 0.
 */
function gridSampleLoop(
  x: Float64Array,
  [n, h, w, c]: readonly number[],
  grid: Float64Array,
  [ho, wo]: readonly number[],
): Float64Array {
  const out = new Float64Array(n * ho * wo * c);
  const clip = (v: number, size: number) => Math.min(Math.max(v, 0), size - 1);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const p = (b * ho + i) * wo + j;
        const ix = clip(((grid[2 * p] + 1) * w - 1) / 2, w);
        const iy = clip(((grid[2 * p + 1] + 1) * h - 1) / 2, h);
        const x0 = Math.floor(ix);
        const y0 = Math.floor(iy);
        const taps: [number, number, number][] = [
          [y0, x0, (x0 + 1 - ix) * (y0 + 1 - iy)],
          [y0, x0 + 1, (ix - x0) * (y0 + 1 - iy)],
          [y0 + 1, x0, (x0 + 1 - ix) * (iy - y0)],
          [y0 + 1, x0 + 1, (ix - x0) * (iy - y0)],
        ];
        for (const [yy, xx, wt] of taps) {
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          const src = ((b * h + yy) * w + xx) * c;
          for (let ch = 0; ch < c; ch++) out[p * c + ch] += wt * x[src + ch];
        }
      }
    }
  }
  return out;
}

const N = 2;
const H = 4;
const W = 5;
const C = 3;
const HO = 3;
const WO = 4;

function randomCase(seed: number, spread: number): { xd: Float64Array; gd: Float64Array } {
  const rng = new Rng(seed);
  const xd = Float64Array.from({ length: N * H * W * C }, () => rng.normal());
  const gd = Float64Array.from({ length: N * HO * WO * 2 }, () => (2 * rng.next() - 1) * spread);
  return { xd, gd };
}

test('gridSample equals the PyTorch loop (inside, out of range, exactly on the border)', () => {
  const { xd, gd } = randomCase(1, 1.4); // ~30% of coordinates beyond [−1, 1]
  // A few hand-picked coordinates: the corners' centres, exact borders, far outside.
  const special = [-1, -1, 1, 1, 1 - 1 / W, 1 - 1 / H, -1 + 1 / W, -1 + 1 / H, 3, -3, 0, 0];
  gd.set(special, 0);
  const x = tf.tensor4d(Float32Array.from(xd), [N, H, W, C]);
  const g = tf.tensor4d(Float32Array.from(gd), [N, HO, WO, 2]);
  const y = gridSample(x, g);
  assert.deepEqual(y.shape, [N, HO, WO, C]);
  const ref = gridSampleLoop(xd, [N, H, W, C], gd, [HO, WO]);
  const yd = y.dataSync();
  let err = 0;
  for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(yd[i] - ref[i]));
  assert.ok(err < 1e-5, `max |Δ| ${err}`);
  // Pixel centres are reproduced exactly: grid (−1+1/W, −1+1/H) is pixel (0, 0).
  for (let ch = 0; ch < C; ch++) {
    assert.ok(Math.abs(yd[3 * C + ch] - xd[ch]) < 1e-6);
  }
  tf.dispose([x, g, y]);
});

test('gridSample gradients w.r.t. grid and input match finite differences of the loop', () => {
  const { xd, gd } = randomCase(2, 1.2);
  const rng = new Rng(3);
  const gOut = Float64Array.from({ length: N * HO * WO * C }, () => rng.normal());
  const loss = (xv: Float64Array, gv: Float64Array): number =>
    gridSampleLoop(xv, [N, H, W, C], gv, [HO, WO]).reduce((a, v, i) => a + v * gOut[i], 0);
  const [dx, dg] = tf.grads((x: tf.Tensor, g: tf.Tensor) =>
    tf.sum(
      tf.mul(
        gridSample(x as tf.Tensor4D, g as tf.Tensor4D),
        tf.tensor4d(Float32Array.from(gOut), [N, HO, WO, C]),
      ),
    ),
  )([
    tf.tensor4d(Float32Array.from(xd), [N, H, W, C]),
    tf.tensor4d(Float32Array.from(gd), [N, HO, WO, 2]),
  ]);
  const eps = 1e-4;
  const dgd = dg.dataSync();
  let checked = 0;
  let clamped = 0;
  for (let i = 0; i < gd.length; i++) {
    const size = i % 2 === 0 ? W : H;
    const u = ((gd[i] + 1) * size - 1) / 2;
    // Piecewise linear: skip points within the step of a kink (integer or border).
    const dist = Math.abs(u - Math.round(u));
    if (dist < 1e-2 && u > -0.01 && u < size - 0.99) continue;
    const p = gd.slice();
    const m = gd.slice();
    p[i] += eps;
    m[i] -= eps;
    const want = (loss(xd, p) - loss(xd, m)) / (2 * eps);
    assert.ok(
      Math.abs(dgd[i] - want) < 2e-3 * (1 + Math.abs(want)),
      `dgrid[${i}] ${dgd[i]} vs ${want}`,
    );
    if (u <= 0 || u >= size - 1) {
      clamped++;
      assert.equal(dgd[i], 0, 'clamped coordinates have zero gradient');
    }
    checked++;
  }
  assert.ok(checked > 40 && clamped > 3, `checked ${checked}, clamped ${clamped}`);
  // The loss is linear in the input: the gradient is exact.
  const dxd = dx.dataSync();
  for (let i = 0; i < xd.length; i += 3) {
    const p = xd.slice();
    p[i] += 1;
    const want = loss(p, gd) - loss(xd, gd);
    assert.ok(Math.abs(dxd[i] - want) < 1e-4, `dx[${i}] ${dxd[i]} vs ${want}`);
  }
});

test('gridSample records 4·outNumel MACs', () => {
  const x = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
  const g = tf.zeros([2, 5, 6, 2]) as tf.Tensor4D;
  const { records } = traceOps(() => gridSample(x, g, 's'));
  assert.deepEqual(
    records.map((r) => [r.kind, r.macs]),
    [['grid_sample', 4 * 2 * 5 * 6 * 3]],
  );
});
