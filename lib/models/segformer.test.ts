/**
 * SegFormer and SegFormer+OL: shapes of every registered variant, official key names, the
 * parameter targets (measured with torch on mmseg 1.x, 256-channel head), and a leak test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel, listModels } from './registry.ts';
import { oursToTorch, torchShape } from './core/module.ts';
import { withInitSeed } from './core/init.ts';
import { SegFormer } from './segformer.ts';
import { MixVisionTransformer } from './backbones/mit.ts';

await useBackend('wasm');

const K = 150;
const C = 256;
/** Measured with torch on the mmseg 1.x modules (exact). */
const BASELINE = {
  'segformer-b0': 3_753_718,
  'segformer-b1': 13_716_822,
  'segformer-b2': 24_761_686,
  'segformer-b3': 44_637_526,
  'segformer-b4': 61_408_086,
  'segformer-b5': 82_008_406,
} as const;
/** The counting rule of our targets: +OL adds K·C + 2C² + 2K and drops the 1×1 classifier (C·K + K). */
const OL_DELTA = K * C + 2 * C * C + 2 * K - (C * K + K);

test('every segformer variant is registered', () => {
  const names = listModels().filter((n) => n.startsWith('segformer-'));
  assert.deepEqual(
    names.sort(),
    Object.keys(BASELINE)
      .flatMap((n) => [n, `${n}-ol`])
      .sort(),
  );
});

for (const [name, params] of Object.entries(BASELINE)) {
  test(`${name} and ${name}-ol: parameters and output shapes`, () => {
    const x = tf.randomUniform([1, 64, 96, 3]) as tf.Tensor4D;
    for (const [n, expected, stride] of [
      [name, params, 4],
      [`${name}-ol`, params + OL_DELTA, 8],
    ] as const) {
      const m = createModel(n, { numClasses: K });
      assert.equal(m.numParams(), expected, `${n} parameters`);
      assert.ok(Math.abs(m.numParams() / expected - 1) < 0.005);
      assert.equal(m.outputStride, stride);
      m.eval();
      const y = m.forward(x);
      assert.deepEqual(y.shape, [1, 64 / stride, 96 / stride, K]);
      assert.ok(Number.isFinite(tf.sum(y).dataSync()[0]));
      y.dispose();
      m.dispose();
    }
    x.dispose();
  });
}

test('segformer-b0: mmseg 1.x state_dict keys and torch shapes', () => {
  const m = createModel('segformer-b0', { numClasses: K });
  const keys = new Map(
    m.stateEntries().map((e) => [e.key, torchShape(e.variable.shape, e.layout)]),
  );
  const expect: Record<string, number[]> = {
    'backbone.layers.0.0.projection.weight': [32, 3, 7, 7],
    'backbone.layers.0.0.norm.weight': [32],
    'backbone.layers.0.1.0.attn.attn.in_proj_weight': [96, 32],
    'backbone.layers.0.1.0.attn.attn.in_proj_bias': [96],
    'backbone.layers.0.1.0.attn.attn.out_proj.weight': [32, 32],
    'backbone.layers.0.1.0.attn.sr.weight': [32, 32, 8, 8],
    'backbone.layers.0.1.0.attn.norm.bias': [32],
    'backbone.layers.0.1.1.ffn.layers.0.weight': [128, 32, 1, 1],
    'backbone.layers.0.1.1.ffn.layers.1.weight': [128, 1, 3, 3],
    'backbone.layers.0.1.1.ffn.layers.4.weight': [32, 128, 1, 1],
    'backbone.layers.3.1.1.norm2.weight': [256],
    'backbone.layers.3.2.weight': [256],
    'decode_head.conv_seg.weight': [K, 256, 1, 1],
    'decode_head.convs.3.conv.weight': [256, 256, 1, 1],
    'decode_head.convs.0.bn.running_var': [256],
    'decode_head.fusion_conv.conv.weight': [256, 1024, 1, 1],
  };
  for (const [k, s] of Object.entries(expect)) assert.deepEqual(keys.get(k), s, k);
  assert.ok(!keys.has('backbone.layers.3.1.0.attn.sr.weight'), 'stage 4 has sr ratio 1');
  const ol = createModel('segformer-b0-ol', { numClasses: K });
  const olKeys = new Set(ol.stateEntries().map((e) => e.key));
  assert.ok(olKeys.has('decode_head.offset_learning.cls_repr'));
  assert.ok(!olKeys.has('decode_head.conv_seg.weight'));
  m.dispose();
  ol.dispose();
});

test('keepUnusedConvSeg builds the official +OL layout (baseline + K·C + 2C² + 2K)', () => {
  const m = withInitSeed(
    0,
    () =>
      new SegFormer({
        backbone: 'mit_b0',
        numClasses: K,
        classifier: 'offset_learning',
        keepUnusedConvSeg: true,
      }),
  );
  assert.equal(m.numParams(), BASELINE['segformer-b0'] + K * C + 2 * C * C + 2 * K); // 3,923,490
  m.dispose();
});

test('segformer-b0-ol: no tensor leaks in predict and a train step; drop-path is seeded', () => {
  const m = createModel('segformer-b0-ol', { numClasses: 19 });
  const x = tf.randomUniform([2, 64, 64, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  m.eval();
  tf.dispose(m.forward(x));
  m.train();
  const { value, grads } = tf.variableGrads(() => tf.mean(m.forward(x)) as tf.Scalar);
  assert.ok(Number.isFinite(value.dataSync()[0]));
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before);
  // Same seed → same drop-path masks → same train-mode output.
  const a = createModel('segformer-b0', { numClasses: 19 }).train();
  const b = createModel('segformer-b0', { numClasses: 19 }).train();
  const ya = a.forward(x);
  const yb = b.forward(x);
  assert.equal(tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0], 0);
  tf.dispose([ya, yb, x]);
  for (const mm of [m, a, b]) mm.dispose();
});

test('MiT attention = torch nn.MultiheadAttention semantics (naive per-head reference)', () => {
  // A stage-2 layer of a tiny MiT: C = 8·2 = 16, 2 heads, sr 4 → keys from a 4×4-stride conv.
  const mit = withInitSeed(
    1,
    () => new MixVisionTransformer({ embedDims: 8, numLayers: [1, 1, 1, 1] }),
  );
  const mha = mit.blocks[1][0].attn.attn;
  const [c, heads] = [16, 2];
  const d = c / heads;
  const rand = (n: number): number[] =>
    Array.from(tf.randomUniform([n], -1, 1, 'float32', n).dataSync());
  const [n, m] = [6, 3];
  const q = rand(n * c);
  const kv = rand(m * c);
  const y = mha.forward(tf.tensor3d(q, [1, n, c]), tf.tensor3d(kv, [1, m, c])).dataSync();
  const w = oursToTorch(mha.inProjWeight, 'linear').arraySync() as number[][]; // (3C, C)
  const bias = Array.from(mha.inProjBias.dataSync());
  const wo = oursToTorch(mha.outProj.weight, 'linear').arraySync() as number[][]; // (C, C)
  const bo = Array.from(mha.outProj.bias!.dataSync());
  // row r of torch's packed weight: q rows [0, C), k rows [C, 2C), v rows [2C, 3C)
  const proj = (x: number[], rows: number, off: number): number[][] =>
    Array.from({ length: rows }, (_, t) =>
      Array.from(
        { length: c },
        (_, o) => bias[off + o] + w[off + o].reduce((acc, wv, i) => acc + wv * x[t * c + i], 0),
      ),
    );
  const [qp, kp, vp] = [proj(q, n, 0), proj(kv, m, c), proj(kv, m, 2 * c)];
  const concat = Array.from({ length: n }, () => new Array<number>(c).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < n; t++) {
      const s = kp.map(
        (kr) =>
          kr.slice(h * d, h * d + d).reduce((a, kv2, j) => a + kv2 * qp[t][h * d + j], 0) /
          Math.sqrt(d),
      );
      const mx = Math.max(...s);
      const e = s.map((v) => Math.exp(v - mx));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < d; j++)
        concat[t][h * d + j] = e.reduce((a, ev, u) => a + (ev / z) * vp[u][h * d + j], 0);
    }
  }
  for (let t = 0; t < n; t++) {
    for (let o = 0; o < c; o++) {
      const want = bo[o] + wo[o].reduce((a, wv, i) => a + wv * concat[t][i], 0);
      assert.ok(
        Math.abs(y[t * c + o] - want) < 1e-5,
        `token ${t} channel ${o}: ${y[t * c + o]} vs ${want}`,
      );
    }
  }
  mit.dispose();
});
