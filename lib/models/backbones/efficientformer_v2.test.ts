/**
 * EfficientFormerV2 segmentation backbone: exact parameter counts (measured with torch on the official module), official
 * state_dict keys and shapes (fixture manifest), output shapes for every variant, the
 * attention-bias gather and eval cache, FLOPs trace and tensor leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { fixtureFile, useBackend } from '../../../test/helpers/parity.ts';
import { torchShape } from '../core/module.ts';
import { withInitSeed } from '../core/init.ts';
import { traceOps } from '../../ops/trace.ts';
import { EFFV2_VARIANTS, EfficientFormerV2, type EffV2VariantName } from './efficientformer_v2.ts';
import { Attention4D, Attention4DDownsample } from './efficientformer_v2_attention.ts';
import { SegAttentionBias, biasIndexTable, type BiasGeometry } from './efficientformer_v2_bias.ts';

await useBackend();

const NAMES = Object.keys(EFFV2_VARIANTS) as EffV2VariantName[];

const PARAMS: Record<EffV2VariantName, number> = {
  efficientformerv2_s0: 3_259_152,
  efficientformerv2_s1: 5_748_360,
  efficientformerv2_s2: 12_151_408,
  efficientformerv2_l: 25_578_016,
};

test('parameter counts are exact for S0, S1, S2 and L (buffers excluded)', () => {
  for (const name of NAMES) {
    const m = EfficientFormerV2.fromVariant(name);
    assert.equal(m.numParams(), PARAMS[name], name);
    m.dispose();
  }
});

test('S1 state_dict keys and torch shapes equal the official checkpoint', (t) => {
  const manifestPath = fixtureFile('effformer_s1', 'manifest.json');
  if (!existsSync(manifestPath)) return t.skip('parity fixtures not present');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    checkpoint: { keys: { key: string; shape: number[]; kind: string }[] };
  };
  const ref = manifest.checkpoint.keys;
  const m = EfficientFormerV2.fromVariant('efficientformerv2_s1');
  const ours = new Map(
    m.stateEntries().map((e) => [e.key, torchShape(e.variable.shape, e.layout)]),
  );
  assert.deepEqual([...ours.keys()].sort(), ref.map((r) => r.key).sort());
  for (const r of ref) assert.deepEqual(ours.get(r.key), r.shape, r.key);
  const params = new Set(m.namedParameters().map((e) => e.key));
  for (const r of ref) assert.equal(params.has(r.key), r.kind === 'parameter', `${r.key} kind`);
  m.dispose();
});

test('featureInfo and output shapes for every variant (64×64 and 64×96), eval mode', () => {
  for (const name of NAMES) {
    const m = withInitSeed(1, () => EfficientFormerV2.fromVariant(name)).eval();
    const widths = EFFV2_VARIANTS[name].widths;
    assert.deepEqual(
      m.featureInfo,
      widths.map((channels, i) => ({ channels, stride: [4, 8, 16, 32][i] })),
    );
    for (const [h, w] of [
      [64, 64],
      [64, 96],
    ]) {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const outs = m.forward(x);
      outs.forEach((o, i) => {
        const s = m.featureInfo[i].stride;
        assert.deepEqual(o.shape, [2, h / s, w / s, widths[i]], `${name} ${h}×${w} c${i + 1}`);
        assert.ok(Number.isFinite(tf.sum(tf.abs(o)).dataSync()[0]), `${name} c${i + 1} finite`);
      });
      tf.dispose([x, ...outs]);
    }
    m.dispose();
  }
});

test('inputs that are not multiples of 32 are rejected with a clear error', () => {
  const m = EfficientFormerV2.fromVariant('efficientformerv2_s0');
  const x = tf.zeros([1, 48, 64, 3]) as tf.Tensor4D;
  assert.throws(() => m.forward(x), /48×64 must be a positive multiple of 32/);
  tf.dispose(x);
  m.dispose();
});

test('unknown variant names are rejected', () => {
  assert.throws(
    () => EfficientFormerV2.fromVariant('efficientformerv2_xl' as EffV2VariantName),
    /Unknown EfficientFormerV2 variant 'efficientformerv2_xl'/,
  );
});

test('bias index buffers follow |s·h_q − h_k|·R + |s·w_q − w_k| (first-appearance order)', () => {
  for (const g of [
    { heads: 8, keyRes: 16, queryRes: 16, queryStride: 1 },
    { heads: 8, keyRes: 32, queryRes: 16, queryStride: 2 },
    { heads: 8, keyRes: 7, queryRes: 7, queryStride: 1 },
  ]) {
    const idx = biasIndexTable(g);
    const { keyRes: r, queryRes: rq, queryStride: s } = g;
    let i = 0;
    for (let hq = 0; hq < rq; hq++)
      for (let wq = 0; wq < rq; wq++)
        for (let hk = 0; hk < r; hk++)
          for (let wk = 0; wk < r; wk++) {
            const want = Math.abs(s * hq - hk) * r + Math.abs(s * wq - wk);
            assert.equal(idx[i++], want, `R=${r} Rq=${rq}`);
          }
  }
});

test('one-hot gather equals tf.gather through the index buffer, exactly', async () => {
  for (const g of [
    { heads: 8, keyRes: 16, queryRes: 16, queryStride: 1 },
    { heads: 8, keyRes: 32, queryRes: 16, queryStride: 2 },
  ] as BiasGeometry[]) {
    const table = tf.variable(tf.randomNormal([8, g.keyRes ** 2], 0, 1, 'float32', 5));
    const bias = new SegAttentionBias(table, g);
    const ours = bias.gathered();
    const idx = tf.tensor1d(biasIndexTable(g), 'int32');
    const ref = tf.reshape(tf.gather(table, idx, 1), ours.shape);
    assert.deepEqual(Array.from(await ours.data()), Array.from(await ref.data()));
    tf.dispose([ours, idx, ref, table]);
    bias.clear();
  }
});

test('eval caches the resized bias per size and refreshes it when the table changes', async () => {
  const att = new Attention4D({ dim: 16, resolution: 16 }).assignPaths('att').eval();
  const x = tf.randomNormal([1, 4, 4, 16]) as tf.Tensor4D;
  const y0 = att.forward(x);
  assert.equal(att.bias.cachedSizes, 1);
  const before = tf.memory().numTensors;
  const y1 = att.forward(x);
  assert.equal(tf.memory().numTensors, before + 1, 'a warm eval forward leaks nothing');
  assert.deepEqual(Array.from(await y1.data()), Array.from(await y0.data()));
  // A new table (checkpoint load, optimizer step) invalidates the cached bias.
  att.attentionBiasesSeg.assign(tf.randomNormal([8, 256], 0, 1, 'float32', 9));
  const y2 = att.forward(x);
  assert.notDeepEqual(Array.from(await y2.data()), Array.from(await y0.data()));
  assert.equal(att.bias.cachedSizes, 1);
  // Training never caches.
  att.clearCache();
  att.train();
  tf.dispose(att.forward(x));
  assert.equal(att.bias.cachedSizes, 0);
  tf.dispose([x, y0, y1, y2]);
  att.dispose();
});

test('the downsample attention resizes its 256×1024 bias to the actual token counts', () => {
  const att = new Attention4DDownsample({ dim: 8, outDim: 12, resolution: 32 }).eval();
  const x = tf.randomNormal([1, 8, 12, 8]) as tf.Tensor4D;
  const y = att.forward(x);
  assert.deepEqual(y.shape, [1, 4, 6, 12]);
  const b = att.bias.get(24, 96, false);
  assert.deepEqual(b.shape, [8, 24, 96]);
  tf.dispose([x, y]);
  att.dispose();
});

test('S0 at 512×512 traces the mmengine MACs measured with torch', () => {
  const m = EfficientFormerV2.fromVariant('efficientformerv2_s0').assignPaths('backbone').eval();
  const x = tf.zeros([1, 512, 512, 3]) as tf.Tensor4D;
  const { result, records } = traceOps(() => m.forward(x));
  const by = new Map<string, number>();
  for (const r of records) by.set(r.kind, (by.get(r.kind) ?? 0) + r.macs);
  const g = (k: string) => (by.get(k) ?? 0) / 1e9;
  const total = [...by.values()].reduce((a, b) => a + b, 0) / 1e9;
  // S0: 2.559 G = conv 1.997 + matmul 0.503 + BN 0.050 + bilinear upsample 0.008.
  assert.ok(Math.abs(total - 2.559) < 5e-4, `total ${total}`);
  assert.ok(Math.abs(g('conv') - 1.997) < 5e-4, `conv ${g('conv')}`);
  assert.ok(Math.abs(g('matmul') - 0.503) < 5e-4, `matmul ${g('matmul')}`);
  assert.ok(Math.abs(g('batch_norm') - 0.05) < 5e-4, `bn ${g('batch_norm')}`);
  assert.ok(Math.abs(g('upsample_bilinear') - 0.008) < 5e-4, `up ${g('upsample_bilinear')}`);
  // Talking heads are convolutions under fvcore; the bicubic bias resize counts nothing.
  assert.ok(records.some((r) => r.kind === 'conv' && r.scope.endsWith('talking_head1')));
  assert.equal(records.filter((r) => r.kind === 'upsample_bicubic').length, 2 + 2 + 1);
  tf.dispose([x, ...result]);
  m.dispose();
});

test('a warm eval forward leaks no tensors; clearCache frees the cached biases', () => {
  const m = EfficientFormerV2.fromVariant('efficientformerv2_s1').eval();
  const x = tf.randomNormal([1, 64, 96, 3]) as tf.Tensor4D;
  tf.dispose(m.forward(x)); // warm the bias cache
  const before = tf.memory().numTensors;
  tf.dispose(m.forward(x));
  assert.equal(tf.memory().numTensors, before);
  m.clearCache();
  assert.ok(tf.memory().numTensors < before, 'cached biases were released');
  const afterClear = tf.memory().numTensors;
  m.dispose();
  assert.ok(tf.memory().numTensors < afterClear);
  tf.dispose(x);
});
