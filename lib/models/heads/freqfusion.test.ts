import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { fixtureFile, fixturesPresent, useBackend } from '../../../test/helpers/parity.ts';
import { torchShape } from '../core/module.ts';
import { Rng, withInitSeed } from '../core/init.ts';
import { FreqFusion, groupInterleave } from './freqfusion.ts';
import { initPos, localCosineSimilarity } from './freqfusion_sampler.ts';
import { traceOps } from '../../ops/trace.ts';

await useBackend();

const ff = (hr: number, lr: number, cc: number) =>
  new FreqFusion({ hrChannels: hr, lrChannels: lr, compressedChannels: cc });

test('parameter counts: fixture, OffSeg-T/B/L instances, SegNeXt-T (counted with torch)', () => {
  const cases: [number, number, number, number][] = [
    [64, 128, 48, 44466], // fixture = OffSeg-T FF1
    [32, 192, 56, 53170], // OffSeg-T FF2
    [32, 224, 64, 62386], // OffSeg-T FF3
    [128, 256, 96, 104370], // OffSeg-B/L FF1
    [64, 384, 112, 128434], // OffSeg-B/L FF2
    [32, 448, 120, 141234], // OffSeg-B/L FF3
    [160, 256, 104, 116146], // SegNeXt-T FF1
    [64, 64, 64, 54194], // FreqFusion(64, 64) with the sim resampler
  ];
  for (const [hr, lr, cc, n] of cases) {
    const m = ff(hr, lr, cc);
    assert.equal(m.numParams(), n, `FreqFusion(${hr}, ${lr}, ${cc})`);
    assert.equal(m.numParams(), (hr + lr + 672) * cc + 2994); // closed form
    m.dispose();
  }
});

test(
  'state-dict keys and torch shapes equal the official checkpoint list',
  { skip: !fixturesPresent() },
  () => {
    const manifest = JSON.parse(
      readFileSync(fixtureFile('freqfusion', 'manifest.json'), 'utf8'),
    ) as {
      checkpoint: { keys: { key: string; shape: number[] }[] };
    };
    const m = ff(64, 128, 48);
    const ours = new Map(
      m.stateEntries().map((e) => [e.key, torchShape(e.variable.shape, e.layout)]),
    );
    const want = new Map(manifest.checkpoint.keys.map((k) => [k.key, k.shape]));
    assert.deepEqual([...ours.keys()].sort(), [...want.keys()].sort());
    for (const [k, s] of want) assert.deepEqual(ours.get(k), s, k);
    m.dispose();
  },
);

test('init: Xavier-uniform convs (resampler included), zero biases, encoders N(0, 0.001)', () => {
  const m = withInitSeed(3, () => ff(64, 128, 48));
  for (const p of m.namedParameters()) {
    const v = p.variable.dataSync() as Float32Array;
    const absMax = v.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    if (p.key.endsWith('.bias') && !p.key.includes('norm_')) {
      assert.equal(absMax, 0, `${p.key} is zero`);
    } else if (p.key.startsWith('content_encoder')) {
      const std = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
      assert.ok(std > 0.0008 && std < 0.0012, `${p.key} std ${std}`);
    } else if (p.key.includes('norm_')) {
      assert.equal(absMax, p.key.endsWith('weight') ? 1 : 0, p.key);
    } else {
      const [kh, kw, cin, cout] = p.variable.shape;
      const bound = Math.sqrt(6 / ((cin + cout) * kh * kw));
      assert.ok(absMax <= bound && absMax > 0.9 * bound, `${p.key}: ${absMax} vs ±${bound}`);
    }
  }
  // Same seed → same weights.
  const m2 = withInitSeed(3, () => ff(64, 128, 48));
  const a = m.dysampler.offset.weight.dataSync();
  assert.deepEqual(Array.from(m2.dysampler.offset.weight.dataSync()), Array.from(a));
  m.dispose();
  m2.dispose();
});

test('init_pos channel (xy·G + g)·4 + dy·2 + dx is ±0.25 (LocalSimGuidedSampler.init_pos)', () => {
  const p = initPos(4);
  assert.equal(p.length, 32);
  assert.deepEqual(Array.from(p.slice(0, 4)), [-0.25, 0.25, -0.25, 0.25]); // x, g0: dx
  assert.deepEqual(Array.from(p.slice(12, 16)), [-0.25, 0.25, -0.25, 0.25]); // x, g3
  assert.deepEqual(Array.from(p.slice(16, 20)), [-0.25, -0.25, 0.25, 0.25]); // y, g0: dy
});

test('groupInterleave orders channels [hr_g0, lr_g0, hr_g1, lr_g1, …]', () => {
  const hr = tf.reshape(tf.range(0, 8), [1, 1, 1, 8]) as tf.Tensor4D; // 4 groups of 2
  const lr = tf.reshape(tf.range(100, 112), [1, 1, 1, 12]) as tf.Tensor4D; // 4 groups of 3
  const y = groupInterleave(hr, lr, 4);
  assert.deepEqual(
    Array.from(y.dataSync()),
    [0, 1, 100, 101, 102, 2, 3, 103, 104, 105, 4, 5, 106, 107, 108, 6, 7, 109, 110, 111],
  );
});

test('local cosine similarity: 8 dilated neighbours, zero padding gives 0', () => {
  const [b, h, w, c] = [1, 5, 4, 3];
  const rng = new Rng(5);
  const xd = Float32Array.from({ length: b * h * w * c }, () => rng.normal());
  const y = localCosineSimilarity(tf.tensor4d(xd, [b, h, w, c])).dataSync();
  const at = (i: number, j: number) => xd.slice((i * w + j) * c, (i * w + j + 1) * c);
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      let ch = 0;
      for (let t = 0; t < 9; t++) {
        if (t === 4) continue;
        const ii = i + (Math.floor(t / 3) - 1) * 2;
        const jj = j + ((t % 3) - 1) * 2;
        let want = 0;
        if (ii >= 0 && ii < h && jj >= 0 && jj < w) {
          const a = at(i, j);
          const bb = at(ii, jj);
          want = a.reduce((s, x, k) => s + x * bb[k], 0) / (norm(a) * norm(bb));
        }
        const got = y[(i * w + j) * 8 + ch++];
        assert.ok(Math.abs(got - want) < 1e-5, `(${i},${j}) tap ${t}: ${got} vs ${want}`);
      }
    }
  }
});

test('with zero learned offsets the resampler is an identity (samples hit hr pixel centres)', () => {
  const m = ff(16, 32, 16);
  for (const conv of [m.dysampler.offset, m.dysampler.hrOffset]) {
    conv.weight.assign(tf.zerosLike(conv.weight));
    conv.bias?.assign(tf.zerosLike(conv.bias));
  }
  const rng = new Rng(9);
  const mk = (shape: [number, number, number, number]) =>
    tf.tensor4d(
      Float32Array.from({ length: shape.reduce((a, v) => a * v, 1) }, () => rng.normal()),
      shape,
    );
  const hr = mk([1, 8, 6, 16]);
  const lr = mk([1, 4, 3, 32]);
  const out = m.forward(hr, lr, { debug: true });
  assert.ok(out.debug);
  const d = tf.max(tf.abs(tf.sub(out.lrOut, out.debug.lrCarafeUpsampled))).dataSync()[0];
  assert.ok(d < 1e-5, `identity resampling: max |Δ| ${d}`);
  assert.deepEqual(out.hrOut.shape, [1, 8, 6, 16]);
  assert.deepEqual(out.maskLr.shape, [1, 8, 6, 25]);
  // Every kernel is a softmax over its taps.
  const sums = tf.sum(out.maskLr, -1).dataSync();
  assert.ok(sums.every((s) => Math.abs(s - 1) < 1e-5));
  m.dispose();
});

test('traced ops: convs, 2 GN, 2 nearest resizes, 5 CARAFEs, 1 grid_sample', () => {
  const m = ff(8, 16, 8).assignPaths('decode_head.freqfusions.0');
  const { records } = traceOps(() =>
    m.forward(tf.zeros([1, 8, 8, 8]) as tf.Tensor4D, tf.zeros([1, 4, 4, 16]) as tf.Tensor4D),
  );
  const count = (k: string) => records.filter((r) => r.kind === k).length;
  assert.equal(count('conv'), 10); // 2 compressors, E_h×2, E_l×2, 4 resampler convs
  assert.equal(count('group_norm'), 2);
  assert.equal(count('upsample_nearest'), 2);
  assert.equal(count('carafe'), 5);
  assert.equal(count('grid_sample'), 1);
  const carafeMacs = records.filter((r) => r.kind === 'carafe').reduce((a, r) => a + r.macs, 0);
  // C·k²·outPixels: ch (8·9), E_l(cl) (25·25), E_h(cl) (9·25), lr (16·25), hr (8·9); 64 pixels.
  assert.equal(carafeMacs, 64 * (8 * 9 + 25 * 25 + 9 * 25 + 16 * 25 + 8 * 9));
  assert.ok(records.every((r) => r.scope.startsWith('decode_head.freqfusions.0')));
  m.dispose();
});

test('rejects an hr input that is not exactly twice the lr size', () => {
  const m = ff(8, 16, 8);
  assert.throws(
    () => m.forward(tf.zeros([1, 8, 8, 8]) as tf.Tensor4D, tf.zeros([1, 5, 4, 16]) as tf.Tensor4D),
    /exactly twice/,
  );
  m.dispose();
});
