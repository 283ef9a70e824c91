/**
 * Mask2Former loss on a hand-sized case (2 images, 3 queries, 2 classes, 4×5 masks, 8×10
 * labels, fixed points): the total over two predictions against a float64 reference written
 * from the definition (bilinear zero-padded point sampling, matching by brute force, weighted
 * class CE with no-object weight 0.1, BCE and Dice), its gradient against central differences
 * of that reference,
 * targets from a label map, and the uncertainty-based point choice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import {
  mask2formerLoss,
  semanticTargets,
  uncertainPoints,
  type SegTarget,
} from './mask2former_loss.ts';

await useBackend('cpu');

const [B, Q, K, h, w, H, W, P] = [2, 3, 2, 4, 5, 8, 10, 6];
const rng = new Rng(4);
const rand = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
const labelMaps = [
  Array.from({ length: H * W }, (_, i) => (i % W < 4 ? 0 : i % W < 8 ? 1 : 255)),
  Array.from({ length: H * W }, (_, i) => (Math.floor(i / W) < 3 ? 1 : 1)),
];
const tgt = labelMaps.map((l) => semanticTargets(l, H, W));
// points kept inside the maps, away from pixel-centre kinks is not needed: the loss is smooth in
// the logits, and the points are constants
const points = tgt.map((t) => ({
  matching: rand(2 * P, () => 0.05 + 0.9 * rng.next()),
  mask: rand(2 * P * t.labels.length, () => rng.next()),
}));

function sample(map: ArrayLike<number>, mh: number, mw: number, x: number, y: number): number {
  const u = x * mw - 0.5;
  const v = y * mh - 0.5;
  const x0 = Math.floor(u);
  const y0 = Math.floor(v);
  let s = 0;
  for (const [yy, xx, t] of [
    [y0, x0, (x0 + 1 - u) * (y0 + 1 - v)],
    [y0, x0 + 1, (u - x0) * (y0 + 1 - v)],
    [y0 + 1, x0, (x0 + 1 - u) * (v - y0)],
    [y0 + 1, x0 + 1, (u - x0) * (v - y0)],
  ])
    if (yy >= 0 && yy < mh && xx >= 0 && xx < mw) s += t * map[yy * mw + xx];
  return s;
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** float64 reference of one prediction: cls [B·Q·(K+1)], masks NHWC [B·h·w·Q]. */
function reference(cls: Float64Array, masks: Float64Array): number {
  const lab: number[] = [];
  let m = 0;
  let bce = 0;
  let dice = 0;
  for (let b = 0; b < B; b++) {
    const t = tgt[b];
    const g = t.labels.length;
    const mq = (q: number) =>
      Array.from({ length: h * w }, (_, i) => masks[(b * h * w + i) * Q + q]);
    const gt = (j: number) => t.masks.subarray(j * H * W, (j + 1) * H * W);
    const pts = points[b].matching;
    const soft = (q: number) => {
      const r = Array.from(cls.subarray((b * Q + q) * (K + 1), (b * Q + q + 1) * (K + 1)));
      const z = r.reduce((a, v) => a + Math.exp(v), 0);
      return r.map((v) => Math.exp(v) / z);
    };
    const cost = (q: number, j: number) => {
      let ce = 0;
      let inter = 0;
      let ss = 0;
      let ts = 0;
      for (let i = 0; i < P; i++) {
        const x = sample(mq(q), h, w, pts[2 * i], pts[2 * i + 1]);
        const tt = sample(gt(j), H, W, pts[2 * i], pts[2 * i + 1]);
        ce += -(tt * Math.log(sig(x)) + (1 - tt) * Math.log(1 - sig(x)));
        inter += sig(x) * tt;
        ss += sig(x);
        ts += tt;
      }
      return -2 * soft(q)[t.labels[j]] + (5 * ce) / P + 5 * (1 - (2 * inter + 1) / (ss + ts + 1));
    };
    // brute force over injective maps targets → queries (G ≤ Q here)
    let best: number[] = [];
    let bestCost = Infinity;
    const rec = (j: number, used: number[], acc: number) => {
      if (j === g) {
        if (acc < bestCost) [bestCost, best] = [acc, [...used]];
        return;
      }
      for (let q = 0; q < Q; q++) if (!used.includes(q)) rec(j + 1, [...used, q], acc + cost(q, j));
    };
    rec(0, [], 0);
    for (let q = 0; q < Q; q++) {
      const j = best.indexOf(q);
      lab.push(j >= 0 ? t.labels[j] : K);
    }
    best.forEach((q, j) => {
      const mp = points[b].mask.subarray(2 * P * j, 2 * P * (j + 1));
      let inter = 0;
      let ss = 0;
      let ts = 0;
      for (let i = 0; i < P; i++) {
        const x = sample(mq(q), h, w, mp[2 * i], mp[2 * i + 1]);
        const tt = sample(gt(j), H, W, mp[2 * i], mp[2 * i + 1]);
        bce += -(tt * Math.log(sig(x)) + (1 - tt) * Math.log(1 - sig(x)));
        inter += sig(x) * tt;
        ss += sig(x);
        ts += tt;
      }
      dice += 1 - (2 * inter + 1) / (ss + ts + 1);
      m++;
    });
  }
  let num = 0;
  let den = 0;
  for (let n = 0; n < B * Q; n++) {
    const r = Array.from(cls.subarray(n * (K + 1), (n + 1) * (K + 1)));
    const z = Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
    const wt = lab[n] === K ? 0.1 : 1;
    num += wt * (z - r[lab[n]]);
    den += wt;
  }
  return (2 * num) / den + (5 * bce) / (m * P) + (5 * dice) / m;
}

const targets = (): SegTarget[] =>
  tgt.map((t) => ({ labels: t.labels, masks: tf.tensor3d(t.masks, [t.labels.length, H, W]) }));

test('semanticTargets: one mask per class present, 255 dropped', () => {
  assert.deepEqual(tgt[0].labels, [0, 1]);
  assert.deepEqual(tgt[1].labels, [1]);
  assert.equal(
    tgt[0].masks.reduce((a, v) => a + v, 0),
    8 * H,
  ); // 4 columns each
  assert.equal(
    tgt[1].masks.reduce((a, v) => a + v, 0),
    H * W,
  );
});

test('the total over two predictions equals the float64 reference; its gradient the central differences', () => {
  const cls = [0, 1].map(() => rand(B * Q * (K + 1), () => rng.normal()));
  const masks = [0, 1].map(() => rand(B * h * w * Q, () => 2 * rng.normal()));
  const ts = targets();
  const opts = { numPoints: P, rng: new Rng(1), points };
  const run = (...xs: tf.Tensor[]) =>
    mask2formerLoss(
      { cls: [xs[0], xs[2]] as tf.Tensor3D[], masks: [xs[1], xs[3]] as tf.Tensor4D[] },
      ts,
      opts,
    ).total;
  const inputs = [0, 1].flatMap((i) => [
    tf.tensor3d(cls[i], [B, Q, K + 1]),
    tf.tensor4d(masks[i], [B, h, w, Q]),
  ]);
  const got = run(...inputs).dataSync()[0];
  const want =
    reference(Float64Array.from(cls[0]), Float64Array.from(masks[0])) +
    reference(Float64Array.from(cls[1]), Float64Array.from(masks[1]));
  assert.ok(Math.abs(got - want) < 1e-4 * Math.abs(want), `${got} vs ${want}`);
  // gradient against central differences of the float64 reference (h = 1e-6)
  const grads = tf.grads(run)(inputs);
  const x64 = [cls[0], masks[0], cls[1], masks[1]].map((a) => Float64Array.from(a));
  const total = (xs: Float64Array[]) => reference(xs[0], xs[1]) + reference(xs[2], xs[3]);
  const worst: string[] = [];
  grads.forEach((g, k) => {
    const gd = g.dataSync();
    const fd = x64[k].map((_, i) => {
      const p = x64.map((a) => a.slice());
      const m = x64.map((a) => a.slice());
      p[k][i] += 1e-6;
      m[k][i] -= 1e-6;
      return (total(p) - total(m)) / 2e-6;
    });
    const scale = Math.max(...fd.map(Math.abs));
    const rel = Math.max(...fd.map((f, i) => Math.abs(f - gd[i]))) / scale;
    worst.push(
      `in${k}: rel ${rel.toExponential(2)} (scale ${scale.toPrecision(3)}, ${fd.length} coords)`,
    );
    assert.ok(rel < 1e-4, `input ${k}: rel ${rel}`);
  });
  console.log(`[gradcheck] mask2formerLoss vs float64 reference — ${worst.join('; ')}`);
  tf.dispose(grads);
  tf.dispose([...inputs, ...ts.map((t) => t.masks)]);
});

test('uncertain points: the kept share comes from where |logit| is smallest', () => {
  // logit = 10·(x − 0.5): uncertainty peaks on the vertical line x = 0.5
  const n = 16;
  const map = tf.tensor3d(
    Array.from({ length: n * n }, (_, i) => 10 * (((i % n) + 0.5) / n - 0.5)),
    [1, n, n],
  );
  const pts = uncertainPoints(map, 40, 3, 0.75, new Rng(2));
  const xs = Array.from({ length: 40 }, (_, i) => pts[2 * i]);
  const kept = xs.slice(0, 30).map((x) => Math.abs(x - 0.5));
  assert.ok(Math.max(...kept) < 0.3, `kept |x − 0.5| ≤ ${Math.max(...kept)}`);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  map.dispose();
});
