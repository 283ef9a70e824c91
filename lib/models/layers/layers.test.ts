import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../../test/helpers/parity.ts';
import { Conv2d } from './conv.ts';
import { BatchNorm2d, GroupNorm } from './norm.ts';
import { ConvModule } from './conv_module.ts';
import { oursToTorch, torchShape } from '../core/module.ts';
import { withInitSeed } from '../core/init.ts';

await useBackend();

test('Conv2d keys and torch layouts', () => {
  const c = new Conv2d(3, 8, { kernel: 3, stride: 2 });
  const keys = c.namedParameters().map((e) => [e.key, torchShape(e.variable.shape, e.layout)]);
  assert.deepEqual(keys, [
    ['weight', [8, 3, 3, 3]],
    ['bias', [8]],
  ]);
  const y = c.forward(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D);
  assert.deepEqual(y.shape, [1, 4, 4, 8]);
  const dw = new Conv2d(5, 5, { kernel: 3, groups: 5 });
  assert.deepEqual(torchShape(dw.weight.shape, 'dwconv'), [5, 1, 3, 3]);
  assert.deepEqual(oursToTorch(dw.weight, 'dwconv').shape, [5, 1, 3, 3]);
});

test('ConvModule names its norm like mmcv and drops the conv bias', () => {
  const m = new ConvModule(4, 32, { norm: { type: 'GN', groups: 32 } });
  assert.deepEqual(
    m.namedParameters().map((e) => e.key),
    ['conv.weight', 'gn.weight', 'gn.bias'],
  );
});

test('same seed gives the same weights', () => {
  const a = withInitSeed(7, () => new Conv2d(4, 4, { kernel: 3 }));
  const b = withInitSeed(7, () => new Conv2d(4, 4, { kernel: 3 }));
  assert.deepEqual(Array.from(a.weight.dataSync()), Array.from(b.weight.dataSync()));
});

test('GroupNorm normalises each contiguous channel group', () => {
  const gn = new GroupNorm(2, 4);
  const x = tf.tensor4d([1, 2, 10, 20, 3, 4, 30, 40], [1, 2, 1, 4]);
  const y = gn.forward(x).dataSync();
  // group 0 = channels {0,1} over both pixels: values 1,2,3,4 → mean 2.5
  assert.ok(Math.abs(y[0] + 1.3416) < 1e-3, `got ${y[0]}`);
  assert.ok(Math.abs(y[2] + 1.3416) < 1e-3, `got ${y[2]}`);
});

test('BatchNorm2d train mode uses batch stats and updates running stats', () => {
  const bn = new BatchNorm2d(1);
  bn.train();
  const x = tf.tensor4d([0, 2, 4, 6], [1, 2, 2, 1]);
  const y = bn.forward(x).dataSync();
  assert.ok(Math.abs(y[0] + 1.3416) < 1e-3);
  assert.ok(Math.abs(bn.runningMean.dataSync()[0] - 0.3) < 1e-6);
  // unbiased var = 20/3 → 0.9·1 + 0.1·6.667
  assert.ok(Math.abs(bn.runningVar.dataSync()[0] - (0.9 + 0.1 * (20 / 3))) < 1e-5);
  assert.equal(bn.numBatchesTracked.dataSync()[0], 1);
});
