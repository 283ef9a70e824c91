/**
 * groupNorm (lib/ops/norm.ts) for batch 1 and > 1 and several group sizes: values against the
 * textbook formulation (moments over a [B, H, W, G, C/G] view) on this process's backend;
 * gradients w.r.t. input, γ and β on WASM and CPU against the closed form in float64 and central
 * differences of the forward (test/helpers/gradcheck.ts), not against autodiff of the textbook
 * form.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { switchBackend } from '../../test/helpers/backends.ts';
import { describeCheck, gradCheck } from '../../test/helpers/gradcheck.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { groupNorm } from './norm.ts';
import { traceOps } from './trace.ts';

await useBackend();

function reference(
  x: tf.Tensor4D,
  groups: number,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
) {
  const [b, h, w, c] = x.shape;
  const xg = tf.reshape(x, [b, h, w, groups, c / groups]); // (B, H, W, G, C/G)
  const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
  const y = tf.div(tf.sub(xg, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.reshape(y, [b, h, w, c]), gamma), beta) as tf.Tensor4D;
}

function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const d = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    return d / Math.max(1e-6, tf.max(tf.abs(b)).dataSync()[0]);
  });
}

const CASES: [number[], number][] = [
  [[1, 9, 11, 32], 8],
  [[3, 5, 7, 24], 4],
  [[2, 4, 4, 16], 16],
  [[2, 6, 5, 12], 1],
];

function caseInputs(shape: number[], i: number): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  const c = shape[3];
  return [
    tf.add(tf.randomNormal(shape, 0, 2, 'float32', i), 3) as tf.Tensor4D, // mean ≠ 0
    tf.randomUniform([c], 0.5, 1.5, 'float32', i + 10) as tf.Tensor1D,
    tf.randomNormal([c], 0, 1, 'float32', i + 20) as tf.Tensor1D,
  ];
}

test('groupNorm equals the textbook form (values)', () => {
  CASES.forEach(([shape, g], i) => {
    const [x, gamma, beta] = caseInputs(shape, i);
    const ours = groupNorm(x, g, gamma, beta, 1e-5);
    const ref = reference(x, g, gamma, beta, 1e-5);
    assert.ok(maxRel(ours, ref) < 1e-5, `[${shape}] G${g}: values`);
    tf.dispose([x, gamma, beta, ours, ref]);
  });
});

/**
 * Exact gradients of Σ dy ⊙ groupNorm(x) in float64, from the definition: with x̂ = (x − μ)/σ
 * per (sample, group) and ĝ = dy·γ, dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ (means over the group),
 * dγ = Σ dy·x̂ and dβ = Σ dy over batch and pixels.
 */
function groupNormGrads64(
  x: Float32Array,
  dy: Float32Array,
  gamma: Float32Array,
  [b, h, w, c]: number[],
  groups: number,
  eps: number,
): [Float64Array, Float64Array, Float64Array] {
  const dx = new Float64Array(x.length);
  const dg = new Float64Array(c);
  const db = new Float64Array(c);
  const cg = c / groups;
  const hw = h * w;
  const n = hw * cg;
  for (let s = 0; s < b; s++) {
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let p = 0; p < hw; p++)
        for (let k = 0; k < cg; k++) idx.push((s * hw + p) * c + g * cg + k);
      const mu = idx.reduce((a, i) => a + x[i], 0) / n;
      const sigma = Math.sqrt(idx.reduce((a, i) => a + (x[i] - mu) ** 2, 0) / n + eps);
      let mg = 0;
      let mgx = 0;
      for (const i of idx) {
        const gh = dy[i] * gamma[i % c];
        mg += gh / n;
        mgx += (gh * (x[i] - mu)) / sigma / n;
      }
      for (const i of idx) {
        const xh = (x[i] - mu) / sigma;
        dx[i] = (dy[i] * gamma[i % c] - mg - xh * mgx) / sigma;
        dg[i % c] += dy[i] * xh;
        db[i % c] += dy[i];
      }
    }
  }
  return [dx, dg, db];
}

function relTo(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  let m = 1e-6;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return d / m;
}

// Gradients w.r.t. input, γ and β against the float64 closed form (every element) and central
// differences of groupNorm's own forward. Step 0.1 (the input spread is 2): at the default 1e-2
// the float32 rounding of a 396-element group's outputs, divided by 2h, reaches 1e-3 of the
// derivative; at 0.1 the Richardson-extrapolated truncation error is still far below that.
for (const be of ['wasm', 'cpu'] as const) {
  test(`groupNorm gradients on ${be}: float64 closed form and finite differences`, async () => {
    const prev = tf.getBackend();
    await switchBackend(be); // works whatever this process's backend is
    try {
      CASES.forEach(([shape, g], i) => {
        const xs = caseInputs(shape, i);
        const f = (a: tf.Tensor, gm: tf.Tensor, bt: tf.Tensor): tf.Tensor4D =>
          groupNorm(a as tf.Tensor4D, g, gm as tf.Tensor1D, bt as tf.Tensor1D, 1e-5);
        const dy = tf.randomNormal(shape, 0, 1, 'float32', i + 30);
        const got = tf.grads((a: tf.Tensor, gm: tf.Tensor, bt: tf.Tensor) =>
          tf.sum(tf.mul(f(a, gm, bt), dy)),
        )(xs);
        const want = groupNormGrads64(
          xs[0].dataSync() as Float32Array,
          dy.dataSync() as Float32Array,
          xs[1].dataSync() as Float32Array,
          shape,
          g,
          1e-5,
        );
        got.forEach((t, k) => {
          const rel = relTo(t.dataSync(), want[k]);
          assert.ok(rel < 1e-5, `[${shape}] G${g} on ${be}: grad ${k} rel ${rel} (closed form)`);
        });
        const r = gradCheck(`groupNorm [${shape}] G${g} on ${be}`, f, xs, {
          eps: 0.1,
          maxCoords: 5, // every element is covered by the closed form above
          sampled: 5,
          directions: 2,
        });
        tf.dispose([...xs, dy, ...got]);
        console.log(`[gradcheck] ${describeCheck(r)}`);
        assert.ok(r.pass, describeCheck(r));
      });
    } finally {
      await tf.setBackend(prev);
    }
  });
}

test('groupNorm records 5·numel group_norm MACs', () => {
  const x = tf.zeros([2, 3, 4, 8]) as tf.Tensor4D;
  const { result, records } = traceOps(() =>
    groupNorm(x, 2, tf.ones([8]), tf.zeros([8]), 1e-5, 'gn'),
  );
  assert.deepEqual(records, [
    { kind: 'group_norm', macs: 5 * 2 * 3 * 4 * 8, scope: 'gn', shapes: [[2, 3, 4, 8]] },
  ]);
  tf.dispose([x, result]);
});
