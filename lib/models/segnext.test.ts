/**
 * SegNeXt and SegNeXt+OL: shapes of every registered variant, official key names, the parameter
 * targets (measured with torch), seeded NMF bases, and a leak test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel, listModels } from './registry.ts';
import { torchShape } from './core/module.ts';
import { NMF2D } from './heads/nmf.ts';

await useBackend('wasm');

const K = 150;
/** Measured with torch on the mmseg 1.x modules (exact); C = the OL width. */
const BASELINE = {
  'segnext-t': { params: 4_263_414, c: 256 },
  'segnext-s': { params: 13_932_886, c: 256 },
  'segnext-b': { params: 27_636_310, c: 512 },
} as const;

test('every segnext variant is registered', () => {
  const names = listModels().filter((n) => n.startsWith('segnext-'));
  assert.deepEqual(
    names.sort(),
    Object.keys(BASELINE)
      .flatMap((n) => [n, `${n}-ol`])
      .sort(),
  );
});

for (const [name, { params, c }] of Object.entries(BASELINE)) {
  test(`${name} and ${name}-ol: parameters and output shapes`, () => {
    const x = tf.randomUniform([1, 64, 96, 3]) as tf.Tensor4D;
    // The counting rule of our targets: +OL adds K·C + 2C² + 2K and drops the 1×1 classifier (C·K + K).
    const olDelta = K * c + 2 * c * c + 2 * K - (c * K + K);
    for (const [n, expected] of [
      [name, params],
      [`${name}-ol`, params + olDelta],
    ] as const) {
      const m = createModel(n, { numClasses: K });
      assert.equal(m.numParams(), expected, `${n} parameters`);
      assert.equal(m.outputStride, 8);
      m.eval();
      const y = m.forward(x);
      assert.deepEqual(y.shape, [1, 8, 12, K]);
      assert.ok(Number.isFinite(tf.sum(y).dataSync()[0]));
      y.dispose();
      m.dispose();
    }
    x.dispose();
  });
}

test('segnext-t: mmseg 1.x state_dict keys and torch shapes', () => {
  const m = createModel('segnext-t', { numClasses: K });
  const keys = new Map(
    m.stateEntries().map((e) => [e.key, torchShape(e.variable.shape, e.layout)]),
  );
  const expect: Record<string, number[]> = {
    'backbone.patch_embed1.proj.0.weight': [16, 3, 3, 3],
    'backbone.patch_embed1.proj.4.running_mean': [32],
    'backbone.patch_embed2.proj.weight': [64, 32, 3, 3],
    'backbone.patch_embed2.norm.weight': [64],
    'backbone.block1.0.norm1.weight': [32],
    'backbone.block1.0.attn.proj_1.weight': [32, 32, 1, 1],
    'backbone.block1.0.attn.spatial_gating_unit.conv0.weight': [32, 1, 5, 5],
    'backbone.block1.0.attn.spatial_gating_unit.conv0_1.weight': [32, 1, 1, 7],
    'backbone.block1.0.attn.spatial_gating_unit.conv0_2.weight': [32, 1, 7, 1],
    'backbone.block1.0.attn.spatial_gating_unit.conv2_1.weight': [32, 1, 1, 21],
    'backbone.block1.0.attn.spatial_gating_unit.conv3.weight': [32, 32, 1, 1],
    'backbone.block1.0.mlp.fc1.weight': [256, 32, 1, 1],
    'backbone.block1.0.mlp.dwconv.weight': [256, 1, 3, 3],
    'backbone.block1.0.layer_scale_1': [32],
    'backbone.norm4.weight': [256],
    'decode_head.conv_seg.weight': [K, 256, 1, 1],
    'decode_head.squeeze.conv.weight': [256, 480, 1, 1],
    'decode_head.squeeze.gn.weight': [256],
    'decode_head.hamburger.ham_in.conv.weight': [256, 256, 1, 1],
    'decode_head.hamburger.ham_in.conv.bias': [256],
    'decode_head.hamburger.ham_out.conv.weight': [256, 256, 1, 1],
    'decode_head.hamburger.ham_out.gn.bias': [256],
    'decode_head.align.conv.weight': [256, 256, 1, 1],
  };
  for (const [k, s] of Object.entries(expect)) assert.deepEqual(keys.get(k), s, k);
  assert.ok(!keys.has('decode_head.hamburger.ham_out.conv.bias'), 'ham_out has a norm: no bias');
  assert.equal(
    tf
      .max(m.stateEntries().find((e) => e.key === 'backbone.block1.0.layer_scale_2')!.variable)
      .dataSync()[0],
    Math.fround(1e-2),
  );
  m.dispose();
});

test('NMF2D: seeded bases make eval repeatable; a non-negative input is reconstructed', () => {
  const nmf = new NMF2D({ rank: 4, seed: 3 });
  const x = tf.relu(tf.randomUniform([2, 6, 5, 32], -1, 1)) as tf.Tensor4D;
  nmf.eval();
  const a = nmf.forward(x);
  const b = nmf.forward(x);
  assert.deepEqual(a.shape, x.shape);
  assert.equal(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], 0, 'eval: same bases every call');
  assert.ok(tf.min(a).dataSync()[0] >= 0, 'NMF output is non-negative');
  // A rank-4 NMF of a 30×32 map keeps most of its energy.
  const rel = tf.div(tf.norm(tf.sub(a, x)), tf.norm(x)).dataSync()[0];
  assert.ok(rel < 0.8, `relative reconstruction error ${rel}`);
  nmf.train();
  const c = nmf.forward(x);
  const d = nmf.forward(x);
  assert.ok(tf.max(tf.abs(tf.sub(c, d))).dataSync()[0] > 0, 'train: fresh bases every call');
  const again = new NMF2D({ rank: 4, seed: 3 }).train();
  const c2 = again.forward(x);
  assert.equal(tf.max(tf.abs(tf.sub(c, c2))).dataSync()[0], 0, 'train: same seed, same sequence');
  tf.dispose([x, a, b, c, d, c2]);
});

test('segnext-t-ol: no tensor leaks in predict and a train step', () => {
  const m = createModel('segnext-t-ol', { numClasses: 19 });
  const x = tf.randomUniform([2, 64, 64, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  m.eval();
  tf.dispose(m.forward(x));
  m.train();
  const { value, grads } = tf.variableGrads(() => tf.mean(m.forward(x)) as tf.Scalar);
  assert.ok(Number.isFinite(value.dataSync()[0]));
  const ol = (m as unknown as { decodeHead: { offsetLearning: { clsRepr: tf.Variable } } })
    .decodeHead.offsetLearning.clsRepr;
  assert.ok(grads[ol.name] !== undefined, 'gradients reach the class embedding');
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  m.dispose();
});
