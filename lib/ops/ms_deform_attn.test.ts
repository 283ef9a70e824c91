/**
 * msDeformAttn against a float64 loop written from Deformable DETR's definition (bilinear taps,
 * zero outside the map, align_corners=False): forward values, and gradients w.r.t. the value
 * maps, the sampling locations and the attention weights against central differences of that
 * float64 loop. Locations cover the inside, the one-pixel zero ring and far outside; every
 * coordinate keeps a margin of 0.1 pixel from the integer kinks of bilinear sampling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { msDeformAttn } from './ms_deform_attn.ts';
import { traceOps } from './trace.ts';

const B = 2;
const HEADS = 2;
const D = 3;
const SHAPES: [number, number][] = [
  [3, 4],
  [2, 3],
];
const NQ = 4;
const P = 2;
const L = SHAPES.length;
const S = SHAPES.reduce((a, [h, w]) => a + h * w, 0);

/** Reference: value [B,S,heads,D], loc [B,NQ,heads,L,P,2], wts [B,NQ,heads,L,P] → [B,NQ,heads·D]. */
function reference(value: Float64Array, loc: Float64Array, wts: Float64Array): Float64Array {
  const out = new Float64Array(B * NQ * HEADS * D);
  const starts = SHAPES.map((_, l) => SHAPES.slice(0, l).reduce((a, [h, w]) => a + h * w, 0));
  for (let b = 0; b < B; b++)
    for (let q = 0; q < NQ; q++)
      for (let hd = 0; hd < HEADS; hd++)
        for (let l = 0; l < L; l++) {
          const [h, w] = SHAPES[l];
          for (let p = 0; p < P; p++) {
            const li = ((((b * NQ + q) * HEADS + hd) * L + l) * P + p) * 2;
            const wi = (((b * NQ + q) * HEADS + hd) * L + l) * P + p;
            const u = loc[li] * w - 0.5;
            const v = loc[li + 1] * h - 0.5;
            const x0 = Math.floor(u);
            const y0 = Math.floor(v);
            for (const [yy, xx, t] of [
              [y0, x0, (x0 + 1 - u) * (y0 + 1 - v)],
              [y0, x0 + 1, (u - x0) * (y0 + 1 - v)],
              [y0 + 1, x0, (x0 + 1 - u) * (v - y0)],
              [y0 + 1, x0 + 1, (u - x0) * (v - y0)],
            ]) {
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              const row = starts[l] + yy * w + xx;
              for (let j = 0; j < D; j++)
                out[((b * NQ + q) * HEADS + hd) * D + j] +=
                  wts[wi] * t * value[((b * S + row) * HEADS + hd) * D + j];
            }
          }
        }
  return out;
}

/** Random case: about a third of the taps in the zero ring or beyond, none near a kink. */
function randomCase(seed: number) {
  const rng = new Rng(seed);
  const value = Float64Array.from({ length: B * S * HEADS * D }, () => rng.normal());
  const loc = new Float64Array(B * NQ * HEADS * L * P * 2);
  for (let i = 0; i < loc.length; i += 2) {
    const [h, w] = SHAPES[Math.floor(i / (2 * P)) % L];
    for (const [k, size] of [
      [0, w],
      [1, h],
    ]) {
      const whole = Math.floor(rng.next() * (size + 3)) - 2; // −2 … size
      const u = whole + 0.1 + 0.8 * rng.next();
      loc[i + k] = (u + 0.5) / size;
    }
  }
  const wts = Float64Array.from({ length: B * NQ * HEADS * L * P }, () => rng.next());
  return { value, loc, wts };
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`msDeformAttn forward equals the float64 loop (${backend})`, async () => {
    await useBackend(backend);
    const { value, loc, wts } = randomCase(1);
    const y = msDeformAttn(
      tf.tensor4d(Float32Array.from(value), [B, S, HEADS, D]),
      SHAPES,
      tf.tensor(Float32Array.from(loc), [B, NQ, HEADS, L, P, 2]),
      tf.tensor(Float32Array.from(wts), [B, NQ, HEADS, L, P]),
    );
    assert.deepEqual(y.shape, [B, NQ, HEADS * D]);
    const ref = reference(value, loc, wts);
    const yd = y.dataSync();
    const err = Math.max(...ref.map((r, i) => Math.abs(r - yd[i])));
    const zero = ref.filter((r) => r === 0).length;
    assert.ok(err < 1e-5, `max |Δ| ${err}`);
    assert.ok(ref.some((r) => r !== 0) && zero < ref.length, 'non-trivial case');
    tf.dispose(y);
  });

  test(`msDeformAttn gradients equal float64 central differences of the loop (${backend})`, async () => {
    await useBackend(backend);
    const { value, loc, wts } = randomCase(2);
    const rng = new Rng(7);
    const gOut = Float64Array.from({ length: B * NQ * HEADS * D }, () => rng.normal());
    const objective = (v: Float64Array, lo: Float64Array, a: Float64Array) =>
      reference(v, lo, a).reduce((s, r, i) => s + r * gOut[i], 0);
    const [dv, dl, da] = tf.grads((v: tf.Tensor, lo: tf.Tensor, a: tf.Tensor) =>
      tf.sum(
        tf.mul(
          msDeformAttn(v as tf.Tensor4D, SHAPES, lo, a),
          tf.tensor3d(Float32Array.from(gOut), [B, NQ, HEADS * D]),
        ),
      ),
    )([
      tf.tensor4d(Float32Array.from(value), [B, S, HEADS, D]),
      tf.tensor(Float32Array.from(loc), [B, NQ, HEADS, L, P, 2]),
      tf.tensor(Float32Array.from(wts), [B, NQ, HEADS, L, P]),
    ]);
    const h = 1e-6;
    const check = (name: string, g: tf.Tensor, x: Float64Array, k: number) => {
      const gd = g.dataSync();
      const fd = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const p = x.slice();
        const m = x.slice();
        p[i] += h;
        m[i] -= h;
        const args = (t: Float64Array): [Float64Array, Float64Array, Float64Array] =>
          k === 0 ? [t, loc, wts] : k === 1 ? [value, t, wts] : [value, loc, t];
        fd[i] = (objective(...args(p)) - objective(...args(m))) / (2 * h);
      }
      const scale = Math.max(...fd.map(Math.abs));
      const rel = Math.max(...fd.map((f, i) => Math.abs(f - gd[i]))) / scale;
      console.log(
        `[gradcheck] msDeformAttn ${backend} d${name}: rel ${rel.toExponential(2)} (scale ${scale.toPrecision(3)}, ${x.length} coords)`,
      );
      assert.ok(rel < 1e-4, `d${name}: rel ${rel}`);
      return fd;
    };
    check('value', dv, value, 0);
    const fdLoc = check('locations', dl, loc, 1);
    check('weights', da, wts, 2);
    // Far outside (beyond the zero ring) a location has no gradient, in both.
    const dld = dl.dataSync();
    let outside = 0;
    for (let i = 0; i < loc.length; i++) {
      const size =
        i % 2 === 0
          ? SHAPES[Math.floor(i / (2 * P)) % L][1]
          : SHAPES[Math.floor(i / (2 * P)) % L][0];
      const u = loc[i] * size - 0.5;
      if (u < -1 || u > size) {
        outside++;
        assert.equal(dld[i], 0);
        assert.ok(Math.abs(fdLoc[i]) < 1e-9);
      }
    }
    assert.ok(outside > 5, `${outside} coordinates beyond the zero ring`);
    tf.dispose([dv, dl, da]);
  });
}

test('msDeformAttn records one grid_sample per level and rejects mismatched shapes', async () => {
  await useBackend('cpu');
  const v = tf.zeros([1, S, HEADS, D]) as tf.Tensor4D;
  const lo = tf.zeros([1, NQ, HEADS, L, P, 2]);
  const a = tf.zeros([1, NQ, HEADS, L, P]);
  const { records } = traceOps(() => msDeformAttn(v, SHAPES, lo, a, 'x'));
  assert.deepEqual(
    records.map((r) => [r.kind, r.macs]),
    SHAPES.map(() => ['grid_sample', 4 * HEADS * NQ * P * D]),
  );
  assert.throws(
    () => msDeformAttn(v, [[3, 4]], lo, a),
    /value has 18 rows but the level shapes sum to 12/,
  );
  tf.dispose([v, lo, a]);
});
