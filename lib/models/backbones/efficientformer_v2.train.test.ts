/**
 * EfficientFormerV2 in train mode (cpu backend: gradients): batch-statistics BatchNorm, no bias
 * cache, gradients reaching every parameter including the attention-bias tables through the
 * one-hot gather and the bicubic resize, seeded drop-path, and no leaks over a train step.
 */
// tfjs-core's Node bundle registers no gradients; the union package does (into the shared registry).
import '@tensorflow/tfjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../../test/helpers/parity.ts';
import { Rng, withInitSeed } from '../core/init.ts';
import { EfficientFormerV2 } from './efficientformer_v2.ts';
import { AttnFFN, Attention4D } from './efficientformer_v2_attention.ts';
import { FFN, dropPath } from './efficientformer_v2_blocks.ts';

await useBackend('cpu');

/** L = Σ_i Σ c_i · G_i with fixed random G_i. */
function lossOf(outs: tf.Tensor4D[]): tf.Scalar {
  return tf.addN(
    outs.map((o, i) => tf.sum(tf.mul(o, tf.randomNormal(o.shape, 0, 1, 'float32', 10 + i)))),
  ) as tf.Scalar;
}

test('train mode: every parameter gets a finite gradient, bias tables included', () => {
  const m = withInitSeed(2, () => EfficientFormerV2.fromVariant('efficientformerv2_s0')).train();
  const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const params = m.namedParameters();
  const { value, grads } = tf.variableGrads(
    () => lossOf(m.forward(x)),
    params.map((p) => p.variable),
  );
  for (const p of params) {
    const g = grads[p.variable.name];
    assert.ok(g, `no gradient for ${p.key}`);
    assert.deepEqual(g.shape, p.variable.shape, p.key);
    const s = tf.sum(tf.abs(g)).dataSync()[0];
    assert.ok(Number.isFinite(s), `${p.key}: non-finite gradient`);
    if (p.key.endsWith('attention_biases_seg')) assert.ok(s > 0, `${p.key}: zero gradient`);
  }
  // No cached bias in train mode (the table is trainable), and BN tracked the batch.
  for (const [, mod] of m.namedModules()) {
    if (mod instanceof Attention4D) assert.equal(mod.bias.cachedSizes, 0);
  }
  const nbt = m.namedBuffers().find((b) => b.key === 'patch_embed.1.num_batches_tracked');
  assert.equal(nbt?.variable.dataSync()[0], 1);
  tf.dispose([x, value, ...Object.values(grads)]);
  m.dispose();
});

test('bias-table gradient through gather + bicubic resize matches finite differences', () => {
  // Stage-4 style attention at a non-native size: 16×16 table tokens resized to 3×4 = 12 tokens.
  const att = withInitSeed(3, () => new Attention4D({ dim: 8, resolution: 16 })).train();
  att.attentionBiasesSeg.assign(tf.randomNormal([8, 256], 0, 0.5, 'float32', 6));
  const x = tf.randomNormal([1, 3, 4, 8], 0, 1, 'float32', 7) as tf.Tensor4D;
  const gOut = tf.randomNormal([1, 3, 4, 8], 0, 1, 'float32', 8);
  const f = () => tf.sum(tf.mul(att.forward(x), gOut)) as tf.Scalar;
  const { grads } = tf.variableGrads(f, [att.attentionBiasesSeg]);
  const g = grads[att.attentionBiasesSeg.name].dataSync();
  const table = att.attentionBiasesSeg.dataSync().slice();
  const eps = 1e-2;
  // The resize samples only some offsets: check the five entries with the largest gradient.
  const top = Array.from(g.keys())
    .sort((i, j) => Math.abs(g[j]) - Math.abs(g[i]))
    .slice(0, 5);
  assert.ok(new Set(top.map((i) => Math.floor(i / 256))).size > 1, 'several heads involved');
  for (const idx of top) {
    const at = (delta: number): number => {
      const t = table.slice();
      t[idx] += delta;
      att.attentionBiasesSeg.assign(tf.tensor2d(t, [8, 256]));
      return tf.tidy(() => f().dataSync()[0]);
    };
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    assert.ok(
      Math.abs(fd - g[idx]) <= 2e-3 + 2e-2 * Math.abs(fd),
      `entry ${idx}: ${g[idx]} vs ${fd}`,
    );
  }
  tf.dispose([x, gOut, ...Object.values(grads)]);
  att.dispose();
});

test('drop-path: identity in eval, per-sample 0 or 1/(1−p) in training, seeded', () => {
  const x = tf.ones([64, 2, 2, 3]) as tf.Tensor4D;
  assert.equal(dropPath(x, 0.3, false, new Rng(1)), x);
  const a = dropPath(x, 0.25, true, new Rng(1)).dataSync();
  const b = dropPath(x, 0.25, true, new Rng(1)).dataSync();
  assert.deepEqual(Array.from(a), Array.from(b));
  const perSample = Array.from({ length: 64 }, (_, i) => a[i * 12]);
  assert.ok(perSample.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  for (let i = 0; i < 64; i++) {
    for (let j = 1; j < 12; j++) assert.equal(a[i * 12 + j], perSample[i]);
  }
  const kept = perSample.filter((v) => v > 0).length;
  assert.ok(kept > 32 && kept < 64, `kept ${kept}/64`);
  x.dispose();
});

test('drop-path rates are linear over all blocks (S2: 0 … 0.02; L: 0 … 0.1)', () => {
  for (const [name, rate] of [
    ['efficientformerv2_s2', 0.02],
    ['efficientformerv2_l', 0.1],
  ] as const) {
    const m = EfficientFormerV2.fromVariant(name);
    const rates: number[] = [];
    for (const [, mod] of m.namedModules()) {
      if (mod instanceof FFN || mod instanceof AttnFFN) rates.push(mod.opts.dropPath);
    }
    const n = rates.length;
    rates.forEach((r, i) => assert.ok(Math.abs(r - (rate * i) / (n - 1)) < 1e-12, `${name} ${i}`));
    // One shared, registered generator (the training loop checkpoints it).
    assert.deepEqual(
      m.namedRngs().map(([k]) => k),
      ['drop_path'],
    );
    m.dispose();
  }
});

test('from-scratch init: layer scales 1e-5, zero bias tables, trunc-normal(0.02) Mlp convs', () => {
  const m = withInitSeed(5, () => EfficientFormerV2.fromVariant('efficientformerv2_s1'));
  const get = (k: string) => {
    const e = m.namedParameters().find((p) => p.key === k);
    assert.ok(e, k);
    return Array.from(e.variable.dataSync());
  };
  assert.ok(get('network.4.7.layer_scale_1').every((v) => Math.abs(v - 1e-5) < 1e-12));
  assert.ok(get('network.0.0.layer_scale_2').every((v) => Math.abs(v - 1e-5) < 1e-12));
  assert.ok(get('network.5.attn.attention_biases_seg').every((v) => v === 0));
  const w = get('network.6.0.mlp.fc1.weight');
  const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
  assert.ok(Math.abs(std - 0.02) < 1e-3, `fc1 std ${std}`);
  assert.ok(get('network.6.0.mlp.fc1.bias').every((v) => v === 0));
  // mid keeps torch's default U(±1/√fan_in), fan_in = 9 for a depthwise 3×3.
  assert.ok(get('network.6.0.mlp.mid.weight').every((v) => Math.abs(v) <= 1 / 3));
  m.dispose();
});

test('one train step (forward + backward) leaks no tensors', () => {
  const m = EfficientFormerV2.fromVariant('efficientformerv2_s0').train();
  const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
  const vars = m.trainableVariables();
  const step = () => {
    const { value, grads } = tf.variableGrads(() => lossOf(m.forward(x)), vars);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  step();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  m.dispose();
});
