/**
 * Mask2Former head on a tiny configuration (C = 32, 5 queries, 3 classes, 9 decoder layers, one
 * encoder layer): Offset Learning against a float64 loop, its wiring (one shared module, 10
 * calls, each from the original mask features; zero projections give the plain head exactly),
 * the attention mask and inference rule on hand-built cases, the sine positions and the
 * deformable-attention offset init by formula, and a backward pass that reaches every parameter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../../../test/helpers/parity.ts';
import { withInitSeed } from '../../core/init.ts';
import { attentionMask, Mask2FormerHead } from './head.ts';
import { OffsetLearningMask } from './offset_learning_mask.ts';
import { sinePositionalEncoding } from './layers.ts';
import { semanticScores } from '../../mask2former.ts';

await useBackend('wasm');

const C = 32;
const Q = 5;
const K = 3;
const tiny = (offsetLearning: boolean, decoderLayers = 9) =>
  withInitSeed(5, () =>
    new Mask2FormerHead({
      inChannels: [8, 16, 24, 32],
      numClasses: K,
      channels: C,
      numQueries: Q,
      heads: 2,
      decoderFfn: 16,
      encoderLayers: 1,
      decoderLayers,
      offsetLearning,
    }).assignPaths('decode_head'),
  );
const feats = (s = 1) =>
  withInitSeed(9, () =>
    [
      [8 * s, 8 * s, 8],
      [4 * s, 4 * s, 16],
      [2 * s, 2 * s, 24],
      [s, s, 32],
    ].map(([h, w, c]) => tf.randomNormal([2, h, w, c], 0, 1, 'float32', 11 + c) as tf.Tensor4D),
  );
const f64 = (t: tf.Tensor) => Float64Array.from(t.dataSync());
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('OffsetLearningMask equals a float64 loop; 2C² parameters, no W, no LayerNorm', () => {
  const ol = withInitSeed(1, () => new OffsetLearningMask(4));
  assert.deepEqual(
    ol.namedParameters().map((e) => [e.key, e.variable.shape]),
    [
      ['cls_offset_proj.weight', [4, 4]],
      ['feat_offset_proj.weight', [4, 4]],
    ],
  );
  const [b, q, h, w, c] = [2, 3, 2, 3, 4];
  const n = h * w;
  const embed = tf.randomNormal([b, q, c], 0, 1, 'float32', 1) as tf.Tensor3D;
  const x = tf.randomNormal([b, h, w, c], 0, 1, 'float32', 2) as tf.Tensor4D;
  const out = ol.forward(embed, x);
  const W = f64(embed);
  const E = f64(x);
  const Pc = f64(ol.clsOffsetProj.weight); // (in, out)
  const Pf = f64(ol.featOffsetProj.weight);
  const wantW = new Float64Array(b * q * c);
  const wantE = new Float64Array(b * n * c);
  const softmax = (v: number[]) => {
    const m = Math.max(...v);
    const e = v.map((u) => Math.exp(u - m));
    const z = e.reduce((s, u) => s + u, 0);
    return e.map((u) => u / z);
  };
  for (let bi = 0; bi < b; bi++) {
    const A = (qi: number, ni: number) => {
      let s = 0;
      for (let k = 0; k < c; k++) s += W[(bi * q + qi) * c + k] * E[(bi * n + ni) * c + k];
      return s;
    };
    for (let qi = 0; qi < q; qi++) {
      const a = softmax(Array.from({ length: n }, (_, ni) => A(qi, ni))); // over pixels
      const f = Array.from({ length: c }, (_, k) =>
        a.reduce((s, ai, ni) => s + ai * E[(bi * n + ni) * c + k], 0),
      );
      for (let o = 0; o < c; o++)
        wantW[(bi * q + qi) * c + o] =
          W[(bi * q + qi) * c + o] + f.reduce((s, fk, k) => s + fk * Pc[k * c + o], 0);
    }
    for (let ni = 0; ni < n; ni++) {
      const a = softmax(Array.from({ length: q }, (_, qi) => A(qi, ni))); // over queries
      const f = Array.from({ length: c }, (_, k) =>
        a.reduce((s, ai, qi) => s + ai * W[(bi * q + qi) * c + k], 0),
      );
      for (let o = 0; o < c; o++)
        wantE[(bi * n + ni) * c + o] =
          E[(bi * n + ni) * c + o] + f.reduce((s, fk, k) => s + fk * Pf[k * c + o], 0);
    }
  }
  assert.ok(maxDiff(out.embed.dataSync(), wantW) < 1e-5);
  assert.ok(maxDiff(out.feats.dataSync(), wantE) < 1e-5);
  assert.deepEqual(out.feats.shape, [b, h, w, c]);
  tf.dispose([embed, x, out.embed, out.feats]);
  ol.dispose();
});

test('one shared Offset Learning module, called 10 times, always on the original mask features', () => {
  const head = tiny(true);
  const ol = head.offsetLearning!;
  const n = [...head.namedModules()].filter(([, m]) => m instanceof OffsetLearningMask).length;
  assert.equal(n, 1);
  const seen: tf.Tensor4D[] = [];
  let first: Float32Array | undefined;
  const original = ol.forward.bind(ol);
  ol.forward = (e, f) => {
    seen.push(f);
    first ??= f.dataSync() as Float32Array;
    return original(e, f);
  };
  const fs = feats();
  const { maskFeatures } = head.pixelDecoder.forward(fs);
  const out = head.forward(fs);
  assert.equal(seen.length, 10);
  assert.ok(
    seen.every((f) => f === seen[0]),
    'the same mask-feature tensor each call',
  );
  assert.ok(maxDiff(first!, maskFeatures.dataSync()) < 1e-6);
  assert.equal(out.cls.length, 10);
  assert.deepEqual(out.cls[9].shape, [2, Q, K + 1]);
  assert.deepEqual(out.masks[9].shape, [2, 8, 8, Q]);
  tf.dispose([...fs, maskFeatures, ...out.cls, ...out.masks]);
  head.dispose();
});

test('with zero offset projections the Offset Learning head is the plain head, prediction by prediction', () => {
  const plain = tiny(false);
  const withOl = tiny(true);
  const fs = feats();
  const a = plain.forward(fs);
  const b0 = withOl.forward(fs);
  // Same seed, Offset Learning built last: every shared weight is equal, yet the outputs differ…
  assert.ok(maxDiff(a.masks[9].dataSync(), b0.masks[9].dataSync()) > 1e-3);
  for (const l of [withOl.offsetLearning!.clsOffsetProj, withOl.offsetLearning!.featOffsetProj])
    l.weight.assign(tf.zeros(l.weight.shape));
  const b = withOl.forward(fs);
  // …until the projections are zero: W' = W and E' = E in all 10 predictions.
  for (let i = 0; i < 10; i++) {
    assert.ok(maxDiff(a.cls[i].dataSync(), b.cls[i].dataSync()) < 1e-4, `cls ${i}`);
    assert.ok(maxDiff(a.masks[i].dataSync(), b.masks[i].dataSync()) < 1e-4, `masks ${i}`);
  }
  tf.dispose([...fs, ...a.cls, ...a.masks, ...b0.cls, ...b0.masks, ...b.cls, ...b.masks]);
  plain.dispose();
  withOl.dispose();
});

test('attention mask: sigmoid < 0.5 is masked, a query masked everywhere attends everywhere', () => {
  // 1×2×2 map, 3 queries: all negative, mixed, all positive (logit 0 is sigmoid 0.5: not masked)
  const m = tf.tensor4d(
    [
      [
        [
          [-1, 2, 1],
          [-2, -1, 3],
        ],
        [
          [-3, 0, 1],
          [-1, -4, 2],
        ],
      ],
    ],
    [1, 2, 2, 3],
  );
  const mask = attentionMask(m, [2, 2]);
  assert.deepEqual(mask.shape, [1, 1, 3, 4]);
  assert.deepEqual(mask.arraySync(), [
    [
      [
        [0, 0, 0, 0],
        [0, 1, 0, 1],
        [0, 0, 0, 0],
      ],
    ],
  ]);
  tf.dispose([m, mask]);
});

test('inference: softmax class (no-object dropped) × sigmoid mask, summed over queries', () => {
  const cls = tf.tensor3d(
    [
      [
        [1, 0, -1, 2],
        [0.5, 0.5, 3, -1],
      ],
    ],
    [1, 2, 4],
  ); // Q = 2, K = 3
  const masks = tf.tensor4d([0.3, -1, 2, 0, -0.5, 1, 1.5, -2], [1, 2, 2, 2]);
  const s = semanticScores(cls, masks, [2, 2]);
  assert.deepEqual(s.shape, [1, 2, 2, 3]);
  const cl = cls.arraySync()[0];
  const mk = masks.dataSync();
  const soft = cl.map((r) => {
    const z = r.reduce((a, v) => a + Math.exp(v), 0);
    return r.map((v) => Math.exp(v) / z);
  });
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const want: number[] = [];
  for (let p = 0; p < 4; p++)
    for (let k = 0; k < 3; k++)
      want.push(soft[0][k] * sig(mk[p * 2]) + soft[1][k] * sig(mk[p * 2 + 1]));
  assert.ok(maxDiff(s.dataSync(), want) < 1e-6);
  tf.dispose([cls, masks, s]);
});

test('sine positions: y in the first half, x in the second, sin/cos pairs, normalised by (n + 1e-6)', () => {
  const pe = sinePositionalEncoding(2, 3, 4).arraySync()[0]; // 6 tokens × 8 channels
  const e = (i: number, n: number) => ((i + 1) / (n + 1e-6)) * 2 * Math.PI;
  const tok = pe[1 * 3 + 2]; // y = 1, x = 2
  const want = [
    Math.sin(e(1, 2)),
    Math.cos(e(1, 2)),
    Math.sin(e(1, 2) / 100),
    Math.cos(e(1, 2) / 100),
    Math.sin(e(2, 3)),
    Math.cos(e(2, 3)),
    Math.sin(e(2, 3) / 100),
    Math.cos(e(2, 3) / 100),
  ];
  assert.ok(maxDiff(tok, want) < 1e-6);
});

test('deformable attention init: zero offset weights, head h points along angle 2πh/8 scaled to the unit square, × point index', () => {
  const head = tiny(false);
  const msda = head.pixelDecoder.layers[0].selfAttn;
  assert.ok(msda.samplingOffsets.weight.dataSync().every((v) => v === 0));
  assert.ok(msda.attentionWeights.weight.dataSync().every((v) => v === 0));
  const bias = msda.samplingOffsets.bias!.dataSync(); // (heads 8, levels 3, points 4, 2)
  const at = (h: number, l: number, p: number) => [
    ...bias.slice(((h * 3 + l) * 4 + p) * 2, ((h * 3 + l) * 4 + p) * 2 + 2),
  ];
  assert.ok(maxDiff(at(0, 1, 2), [3, 0]) < 1e-6);
  assert.ok(maxDiff(at(1, 0, 0), [1, 1]) < 1e-6);
  assert.ok(maxDiff(at(2, 2, 3), [0, 4]) < 1e-6);
  assert.ok(maxDiff(at(5, 0, 1), [-2, -2]) < 1e-6);
  head.dispose();
});

test('a loss over all predictions reaches every parameter of the Offset Learning head', () => {
  // 3 decoder layers visit all 3 levels. The stride-32 map is 2×2 so that GroupNorm(32) over 32
  // channels has more than one value per group (with one, its output is the bias alone).
  const head = tiny(true, 3);
  head.train();
  // At init the offset and attention-weight projections are zero, which blocks the gradient to
  // the positions (level_encoding); one optimizer step makes them non-zero, as here.
  for (const layer of head.pixelDecoder.layers)
    for (const l of [layer.selfAttn.samplingOffsets, layer.selfAttn.attentionWeights])
      l.weight.assign(tf.randomNormal(l.weight.shape, 0, 0.01, 'float32', 3));
  const fs = feats(2);
  const vars = head.trainableVariables();
  const { grads } = tf.variableGrads(() => {
    const { cls, masks } = head.forward(fs);
    let loss = tf.scalar(0);
    for (let i = 0; i < cls.length; i++) {
      loss = tf.add(loss, tf.mean(tf.square(cls[i])));
      loss = tf.add(loss, tf.mean(tf.sigmoid(tf.mul(masks[i], 3))));
    }
    return loss as tf.Scalar;
  }, vars);
  const keys = new Map(head.namedParameters().map((e) => [e.variable.name, e.key]));
  const dead = vars
    .filter((v) => {
      const g = grads[v.name];
      return !g || tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) === 0;
    })
    .map((v) => keys.get(v.name));
  assert.deepEqual(dead, []);
  assert.equal(Object.keys(grads).length, vars.length);
  tf.dispose([...fs, ...Object.values(grads)]);
  head.dispose();
});
