/**
 * mask2former-swin-t (ADE20K, K = 150): the plain model has 47,439,633 parameters and no Offset
 * Learning keys (its OL variant adds exactly 131,072, mask2former.test.ts), a forward pass on
 * a small input gives 10 predictions and class scores at the input resolution, and those scores
 * are mmseg's inference rule re-computed in float64 from the last prediction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from './registry.ts';
import { Mask2Former } from './mask2former.ts';

await useBackend('wasm');

const model = createModel('mask2former-swin-t', { numClasses: 150 }) as Mask2Former;

test('Mask2Former-Swin-T: 47,439,633 parameters, no Offset Learning', () => {
  assert.equal(model.numParams(), 47_439_633);
  assert.equal(model.numParams() + 131_072, 47_570_705);
  assert.ok(!model.stateEntries().some((e) => e.key.includes('offset_learning')));
  assert.equal(model.decodeHead.offsetLearning, undefined);
});

test('forward on 1×32×64: class scores at the input size; 10 predictions at stride 4', () => {
  const x = tf.randomNormal([1, 32, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = model.forward(x); // also builds the per-size caches (Swin bias one-hots, shift masks)
  assert.deepEqual(y.shape, [1, 32, 64, 150]);
  // Σ_k scores = Σ_q (1 − p_q(no object))·sigmoid(mask_q) ∈ (0, 100)
  const total = tf.tidy(() => tf.sum(y, -1));
  const [lo, hi] = [tf.min(total).dataSync()[0], tf.max(total).dataSync()[0]];
  assert.ok(lo > 0 && hi < 100 && Number.isFinite(hi), `${lo} … ${hi}`);
  tf.dispose([y, total]);
  const before = tf.memory().numTensors;
  const { cls, masks } = model.predictions(x);
  assert.equal(cls.length, 10);
  assert.equal(masks.length, 10);
  for (const c of cls) assert.deepEqual(c.shape, [1, 100, 151]);
  for (const m of masks) assert.deepEqual(m.shape, [1, 8, 16, 100]);
  tf.dispose([...cls, ...masks]);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked beyond the caches');
  x.dispose();
});

/** PyTorch's bilinear source taps (align_corners=False: half-pixel centres, clamped at 0). */
function taps(inSize: number, outSize: number, o: number): [number, number, number] {
  const src = Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  return [i0, Math.min(i0 + 1, inSize - 1), src - i0];
}

test('inference = einsum(softmax(cls)[…, :K], sigmoid(bilinear(masks))) of the last prediction, vs a float64 loop', () => {
  const x = tf.randomNormal([1, 32, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const y = model.forward(x);
  const { cls, masks } = model.predictions(x);
  const c = cls[cls.length - 1].dataSync(); // [1, Q, K+1]
  const m = masks[masks.length - 1].dataSync(); // [1, h, w, Q]
  const got = y.dataSync();
  const [, h, w, Q] = masks[masks.length - 1].shape;
  const K1 = cls[0].shape[2];
  const K = K1 - 1;
  const prob = new Float64Array(Q * K);
  for (let q = 0; q < Q; q++) {
    let mx = -Infinity;
    for (let k = 0; k < K1; k++) mx = Math.max(mx, c[q * K1 + k]);
    let z = 0;
    for (let k = 0; k < K1; k++) z += Math.exp(c[q * K1 + k] - mx);
    for (let k = 0; k < K; k++) prob[q * K + k] = Math.exp(c[q * K1 + k] - mx) / z;
  }
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  let worst = 0;
  const mq = new Float64Array(Q);
  for (let oy = 0; oy < 32; oy += 3) {
    const [y0, y1, ly] = taps(h, 32, oy);
    for (let ox = 0; ox < 64; ox += 5) {
      const [x0, x1, lx] = taps(w, 64, ox);
      for (let q = 0; q < Q; q++) {
        const at = (yy: number, xx: number): number => m[(yy * w + xx) * Q + q];
        const top = at(y0, x0) * (1 - lx) + at(y0, x1) * lx;
        const bot = at(y1, x0) * (1 - lx) + at(y1, x1) * lx;
        mq[q] = sig(top * (1 - ly) + bot * ly);
      }
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let q = 0; q < Q; q++) s += prob[q * K + k] * mq[q];
        worst = Math.max(worst, Math.abs(s - got[(oy * 64 + ox) * K + k]));
      }
    }
  }
  assert.ok(worst < 1e-4, `max |Δ| ${worst}`);
  tf.dispose([x, y, ...cls, ...masks]);
});
