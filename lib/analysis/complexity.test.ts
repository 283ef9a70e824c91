/**
 * The counter's arithmetic on a tiny hand-computed net (both conventions, per layer), and the
 * dry-run mode's equivalence with a computed run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { Module } from '../models/core/module.ts';
import { withInitSeed } from '../models/core/init.ts';
import { Conv2d } from '../models/layers/conv.ts';
import { BatchNorm2d, GroupNorm, LayerNorm } from '../models/layers/norm.ts';
import { Linear } from '../models/layers/linear.ts';
import { matMul } from '../ops/conv.ts';
import { resizeBilinear } from '../ops/resize.ts';
import { maxPool2d } from '../ops/max_pool.ts';
import { createModel } from '../models/registry.ts';
import {
  countFlops,
  countFlopsAll,
  countParams,
  formatPerLayer,
  paramsByModule,
  perLayer,
  traceModel,
} from './complexity.ts';

await useBackend('wasm');

/** conv3×3 (3→4) → BN → Linear 4→5 → LN → tokens·tokensᵀ → bilinear ×2 → GN → max-pool. */
class TinyNet extends Module {
  readonly conv = this.child('conv', new Conv2d(3, 4, { kernel: 3 }));
  readonly bn = this.child('bn', new BatchNorm2d(4));
  readonly proj = this.child('proj', new Linear(4, 5));
  readonly norm = this.child('norm', new LayerNorm(5));
  readonly gn = this.child('gn', new GroupNorm(1, 5));
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.norm.forward(this.proj.forward(this.bn.forward(this.conv.forward(x)))); // [1,8,8,5]
      const t = tf.reshape(y, [1, 64, 5]); // tokens (1, 64, 5)
      const a = matMul(t, t, false, true, this.path); // (1, 64, 64)
      const up = this.gn.forward(resizeBilinear(y, [16, 16], this.path)); // [1,16,16,5]
      return tf.add(maxPool2d(up, 2, 2, this.path), tf.mean(a)); // [1,8,8,5]
    });
  }
}

// Hand count for a 1×8×8×3 input:
const CONV = 8 * 8 * 4 * (3 * 3 * 3); // out pixels·Cout·k²·Cin = 6912
const BN = 2 * (8 * 8 * 4); // 2·numel = 512
const LINEAR = 64 * 4 * 5; // tokens·in·out = 1280
const LN = 5 * (8 * 8 * 5); // 5·numel = 1600
const MATMUL = 64 * 5 * 64; // m·k·n = 20480
const BILINEAR = 4 * (16 * 16 * 5); // 4·out numel = 5120
const GN = 5 * (16 * 16 * 5); // 5·numel = 6400
const MAXPOOL = 16 * 16 * 5; // traced (in numel), counted by neither

function tiny(): TinyNet {
  return withInitSeed(0, () => new TinyNet()).assignPaths();
}

test('tiny net: fvcore = conv + BN + linear + LN + matmul + bilinear + GN, exactly', async () => {
  const net = tiny();
  const r = await countFlops(net, { size: [8, 8], convention: 'fvcore' });
  assert.equal(r.macs, CONV + BN + LINEAR + LN + MATMUL + BILINEAR + GN); // 42304
  assert.deepEqual(r.byKind, {
    conv: CONV,
    batch_norm: BN,
    linear: LINEAR,
    layer_norm: LN,
    matmul: MATMUL,
    upsample_bilinear: BILINEAR,
    group_norm: GN,
  });
  assert.deepEqual(r.uncounted, { max_pool: MAXPOOL });
  assert.equal(r.gflops, r.macs / 1e9);
  net.dispose();
});

test('tiny net: offseg-paper drops matmul, linear and BatchNorm', async () => {
  const net = tiny();
  const r = await countFlops(net, { size: [8, 8], convention: 'offseg-paper' });
  assert.equal(r.macs, CONV + LN + BILINEAR + GN); // 20032
  assert.deepEqual(r.uncounted, {
    batch_norm: BN,
    linear: LINEAR,
    matmul: MATMUL,
    max_pool: MAXPOOL,
  });
  net.dispose();
});

test('tiny net: per-layer rows follow module paths; params count every tensor', async () => {
  const net = tiny();
  const { records, reports } = await countFlopsAll(net, { size: [8, 8] });
  assert.equal(reports.fvcore.macs, 42304);
  assert.equal(reports['offseg-paper'].macs, 20032);
  const rows = perLayer(records);
  assert.deepEqual(
    rows.map((r) => [r.scope, r.macs.fvcore, r.macs['offseg-paper']]),
    [
      ['conv', CONV, CONV],
      ['bn', BN, 0],
      ['proj', LINEAR, 0],
      ['norm', LN, LN],
      ['', MATMUL + BILINEAR, BILINEAR], // the root's own ops (max-pool counted by neither)
      ['gn', GN, GN],
    ],
  );
  assert.match(formatPerLayer(rows), /\(root\)/);
  // conv 4·27+4, BN 8, Linear 20+5, LN 10, GN 10
  assert.equal(countParams(net), 112 + 8 + 25 + 10 + 10);
  assert.deepEqual(paramsByModule(net), { conv: 112, bn: 8, proj: 25, norm: 10, gn: 10 });
  net.dispose();
});

test('counting leaves no tensors behind and restores train mode', async () => {
  const net = tiny();
  net.train();
  const before = tf.memory().numTensors;
  await countFlops(net, { size: [8, 8] });
  await countFlops(net, { size: [8, 8], mode: 'dry-run' });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(net.training, true);
  net.dispose();
});

test('dry-run records exactly what a computed run records, for every model family', async () => {
  for (const name of [
    'segformer-b0',
    'segformer-b0-ol',
    'segnext-t-ol',
    'offseg-t',
    'offseg-t-conv-pp',
  ]) {
    const m = createModel(name, { numClasses: 19 });
    const computed = await traceModel(m, { size: [96, 128] });
    const dry = await traceModel(m, { size: [96, 128], mode: 'dry-run' });
    assert.ok(computed.length > 50, name);
    assert.deepEqual(dry, computed, name);
    // The model still computes real values afterwards (no dry-run zeros left in caches).
    m.eval();
    const x = tf.randomUniform([1, 96, 128, 3], -2, 2, 'float32', 1) as tf.Tensor4D;
    const y = m.forward(x);
    assert.ok(tf.max(tf.abs(y)).dataSync()[0] > 0, name);
    tf.dispose([x, y]);
    m.dispose();
  }
});
