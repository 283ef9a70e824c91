/**
 * Every registered model, at a tiny input (32×64, 3 classes): it builds, an eval forward gives
 * finite logits [1, 32/s, 64/s, 3] for its output stride s, and a second forward leaks no tensor.
 * For one model per family and every Table 6/7 variant, train-mode steps at 64×96 (the stride-32
 * map must hold more than two values, or its batch-norm passes no gradient back) with
 * cross-entropy against labels with ignored pixels give every trainable parameter a finite,
 * non-zero gradient within three steps (drop-path may skip a branch in one) — except the
 * `conv_seg` that mmseg's BaseDecodeHead creates but Offset Learning never calls, which must
 * get none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel, listModels } from './registry.ts';
import { segCrossEntropy } from '../train/loss.ts';
import { Rng } from '../rng.ts';

await useBackend();

const K = 3;
const H = 32;
const W = 64;
/** Train-step input: the stride-32 map is 2×3. */
const TH = 64;
const TW = 96;

/** Train-step models: one per family, both retrofits, and the OffSeg-T ablations of Tables 6/7. */
const TRAIN = [
  'offseg-t',
  'segformer-b0',
  'segformer-b0-ol',
  'segnext-t',
  'segnext-t-ol',
  ...listModels().filter((n) => /^offseg-t-/.test(n)),
];

function image(seed: number, h = H, w = W): tf.Tensor4D {
  const r = new Rng(seed);
  return tf.tensor4d(
    Float32Array.from({ length: h * w * 3 }, () => r.normal()),
    [1, h, w, 3],
  );
}

function labels(seed: number, h: number, w: number): tf.Tensor3D {
  const r = new Rng(seed);
  // Three classes and ~10 % ignored (255) pixels.
  const y = Int32Array.from({ length: h * w }, () => (r.next() < 0.1 ? 255 : r.int(K)));
  return tf.tensor3d(y, [1, h, w], 'int32');
}

test('the registry lists every family and the Table 6/7 variants', () => {
  const names = listModels();
  for (const n of ['offseg-t', 'offseg-b', 'offseg-l', 'segformer-b0', 'segnext-t'])
    assert.ok(names.includes(n), n);
  assert.equal(names.filter((n) => /^offseg-t-pp-c\d+$/.test(n)).length, 7);
  for (const n of TRAIN) assert.ok(names.includes(n), `${n} is registered`);
});

for (const name of listModels()) {
  test(`${name}: builds, [1,H/s,W/s,K] finite logits, no leak`, async () => {
    const before = tf.memory().numTensors;
    const model = createModel(name, { numClasses: K, seed: 1 });
    model.eval();
    const x = image(2);
    const s = model.outputStride;
    const warm = model.forward(x); // may fill per-size caches (resized attention biases)
    assert.deepEqual(warm.shape, [1, H / s, W / s, K]);
    const data = await warm.data();
    assert.ok(
      data.every((v) => Number.isFinite(v)),
      `${name}: non-finite logits`,
    );
    warm.dispose();
    const n0 = tf.memory().numTensors;
    model.forward(x).dispose();
    assert.equal(tf.memory().numTensors, n0, `${name}: a warm forward leaked tensors`);
    x.dispose();
    model.dispose();
    assert.ok(
      tf.memory().numTensors <= n0,
      `${name}: dispose left ${tf.memory().numTensors - before} tensors`,
    );
  });
}

for (const name of TRAIN) {
  test(`${name}: a train step gives every used parameter a gradient`, async () => {
    const model = createModel(name, { numClasses: K, seed: 3 });
    model.train();
    const params = model.namedParameters();
    const x = image(4, TH, TW);
    const y = labels(5, TH, TW);
    const olHead = params.some((p) => p.key.startsWith('decode_head.offset_learning.'));
    const isDead = (key: string) => olHead && key.startsWith('decode_head.conv_seg.');
    // Drop-path may skip a residual branch of the one sample in a step (MiT, MSCAN: up to
    // p = 0.1), which then gets no gradient that step; the seeded masks change from step to
    // step, so a parameter must get a gradient in one of three steps.
    let missing = params.filter((p) => !isDead(p.key)).map((p) => p.key);
    const dead: string[] = [];
    for (let step = 0; step < 3 && missing.length; step++) {
      const { value, grads } = tf.variableGrads(
        () => segCrossEntropy(model.forward(x), y),
        params.map((p) => p.variable),
      );
      assert.ok(Number.isFinite((await value.data())[0]), `${name}: loss is not finite`);
      const still: string[] = [];
      for (const p of params) {
        const g = grads[p.variable.name];
        const d = g ? await g.data() : undefined;
        if (isDead(p.key)) {
          if (d?.some((v) => v !== 0)) dead.push(p.key);
          continue;
        }
        assert.ok(
          !d || d.every((v) => Number.isFinite(v)),
          `${name}: ${p.key} non-finite gradient`,
        );
        if (missing.includes(p.key) && !d?.some((v) => v !== 0)) still.push(p.key);
      }
      missing = still;
      tf.dispose([value, ...Object.values(grads)]);
    }
    tf.dispose([x, y]);
    model.dispose();
    assert.deepEqual(missing, [], `${name}: parameters without a non-zero gradient in 3 steps`);
    assert.deepEqual(dead, [], `${name}: the unused conv_seg got a gradient`);
  });
}
