import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { lrAt } from './schedule.ts';
import { buildParamGroups, matchParam } from './param_groups.ts';
import { AdamW } from './optim.ts';
import { segCrossEntropy } from './loss.ts';

await useBackend();

const SCHED = { warmupIters: 1500, warmupFactor: 1e-6, polyEnd: 160000, power: 1, etaMin: 0 };
const OFFSEG_KEYS = { pos_block: { decayMult: 0 }, norm: { decayMult: 0 }, head: { lrMult: 10 } };

test('lr: 6e-11 at iteration 0, 6e-5 at 1500, 0 at the end, poly in between', () => {
  assert.ok(Math.abs(lrAt(0, 6e-5, SCHED) - 6e-11) < 1e-20);
  assert.ok(Math.abs(lrAt(750, 6e-5, SCHED) - 6e-5 * (1e-6 + (1 - 1e-6) * 0.5)) < 1e-18);
  assert.equal(lrAt(1500, 6e-5, SCHED), 6e-5);
  assert.ok(Math.abs(lrAt(159999, 6e-5, SCHED) - 6e-5 / 158500) < 1e-18);
  assert.equal(lrAt(160000, 6e-5, SCHED), 0);
  // COCO-Stuff T/L quirk: poly ends at 80k while the loop runs to 160k → lr stays 0.
  assert.equal(lrAt(120000, 6e-5, { ...SCHED, polyEnd: 80000 }), 0);
});

test('param groups follow mmengine: longest key first, head beats norm', () => {
  const g = (n: string) => matchParam(n, OFFSEG_KEYS);
  assert.deepEqual(
    [g('decode_head.pre.0.gn.weight').lrMult, g('decode_head.pre.0.gn.weight').decayMult],
    [10, 1],
  );
  assert.equal(g('decode_head.offset_learning.mask_norm.weight').matched, 'head');
  assert.deepEqual([g('backbone.network.4.7.token_mixer.talking_head1.weight').lrMult], [10]);
  assert.deepEqual(
    [
      g('backbone.network.0.0.mlp.norm1.weight').decayMult,
      g('backbone.network.0.0.mlp.norm1.weight').lrMult,
    ],
    [0, 1],
  );
  assert.deepEqual([g('backbone.network.4.7.token_mixer.q.1.weight').decayMult], [1]);
  assert.equal(g('backbone.patch_embed.1.weight').matched, '');
  assert.equal(buildParamGroups(['a.pos_block.x', 'b'], OFFSEG_KEYS)[0].decayMult, 0);
});

test('AdamW matches a hand-computed PyTorch step', () => {
  const p = tf.variable(tf.tensor1d([1, -2]));
  const opt = new AdamW(
    [{ key: 'w', variable: p, group: { key: 'w', lrMult: 10, decayMult: 1, matched: 'head' } }],
    {
      lr: 0.01,
      betas: [0.9, 0.999],
      weightDecay: 0.1,
      eps: 1e-8,
    },
  );
  opt.step(new Map([['w', tf.tensor1d([0.5, 0.25])]]), 1);
  // lr = 0.1; decay: p·(1 − 0.1·0.1); first step update = lr·g/|g| (m̂ = g, v̂ = g²)
  const want = [1 * 0.99 - 0.1, -2 * 0.99 - 0.1];
  const got = p.dataSync();
  assert.ok(Math.abs(got[0] - want[0]) < 1e-6 && Math.abs(got[1] - want[1]) < 1e-6, `${got}`);
});

test('cross-entropy averages over all pixels, ignored ones included (avg_non_ignore=False)', () => {
  const logits = tf.tensor4d([0, 0, Math.log(3), 0], [1, 1, 2, 2]); // two pixels, K=2
  const labels = tf.tensor3d([0, 255], [1, 1, 2], 'int32');
  const loss = segCrossEntropy(logits, labels).dataSync()[0];
  assert.ok(Math.abs(loss - Math.log(2) / 2) < 1e-6, `${loss}`);
  const l2 = segCrossEntropy(
    tf.tensor4d([0, 0, Math.log(3), 0], [1, 1, 2, 2]),
    tf.tensor3d([1, 0], [1, 1, 2], 'int32'),
  );
  assert.ok(Math.abs(l2.dataSync()[0] - (Math.log(2) + Math.log(4 / 3)) / 2) < 1e-6);
});
