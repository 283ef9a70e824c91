/**
 * Full OffSeg-T parity with the official implementation (fixture `offseg_t`, K=150): backbone
 * features, every decoder intermediate the fixture stores, the align output and the logits at
 * 256² (bias resize active) and 512² (bias tables at native size).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  expectParity,
  fixtureFile,
  preprocessFixtureImage,
  useBackend,
  PARITY_SKIP,
} from '../../test/helpers/parity.ts';
import { readNpyNhwc, nhwcToNchw } from '../io/tensor_npy.ts';
import { readTorchCheckpoint, loadStateDict } from '../io/checkpoint.ts';
import { createModel } from './registry.ts';
import type { OffSeg } from './offseg.ts';

await useBackend();

function build(): OffSeg {
  const model = createModel('offseg-t', { numClasses: 150 }) as OffSeg;
  const report = loadStateDict(
    model,
    readTorchCheckpoint(fixtureFile('offseg_t', 'checkpoint.pth')),
  );
  assert.equal(report.missing.length, 0, `missing: ${report.missing.slice(0, 5)}`);
  assert.equal(report.unexpected.length, 0, `unexpected: ${report.unexpected.slice(0, 5)}`);
  return model.eval();
}

test('offseg_t: our preprocessing reproduces input.npy', { skip: PARITY_SKIP }, async () => {
  const x = preprocessFixtureImage('offseg_t', 'image_rgb_uint8.npy');
  const ref = readNpyNhwc(fixtureFile('offseg_t', 'input.npy'));
  const d = tf.max(tf.abs(tf.sub(x, ref))).dataSync()[0];
  assert.ok(d < 1e-6, `max diff ${d}`);
});

test(
  'offseg_t at 256²: backbone, decoder intermediates, align output and logits',
  { skip: PARITY_SKIP },
  async () => {
    const model = build();
    const x = readNpyNhwc(fixtureFile('offseg_t', 'input.npy'));
    const feats = model.backbone.forward(x);
    for (let i = 0; i < 4; i++)
      await expectParity('offseg_t', `backbone_feat${i}`, nhwcToNchw(feats[i]));
    const taps = new Map<string, tf.Tensor>();
    model.decodeHead.debugHook = (name, t) => taps.set(name, tf.keep(tf.clone(t)));
    const align = model.decodeHead.features(feats);
    model.decodeHead.debugHook = undefined;
    const tol = { max_abs_diff: 1e-2, mean_abs_diff: 1e-4 }; // intermediates: the align_out limits
    for (let i = 0; i < 4; i++)
      await expectParity(
        'offseg_t',
        `debug_pre${i}`,
        nhwcToNchw(taps.get(`pre${i}`)!),
        undefined,
        tol,
      );
    for (const j of [0, 1]) {
      for (const k of ['hr_out', 'lr_out']) {
        await expectParity(
          'offseg_t',
          `debug_ff${j}_${k}`,
          nhwcToNchw(taps.get(`ff${j}_${k}`)!),
          undefined,
          tol,
        );
      }
    }
    await expectParity('offseg_t', 'align_out', nhwcToNchw(align));
    const logits = model.decodeHead.classify(align);
    await expectParity('offseg_t', 'logits', nhwcToNchw(logits));
    // The same through the public forward.
    const direct = model.forward(x);
    assert.equal(tf.max(tf.abs(tf.sub(direct, logits))).dataSync()[0], 0);
  },
);

test(
  'offseg_t at 512²: logits with the bias tables at native size',
  { skip: PARITY_SKIP },
  async () => {
    const model = build();
    const logits = model.forward(preprocessFixtureImage('offseg_t', 'image_512_rgb_uint8.npy'));
    assert.deepEqual(logits.shape, [1, 128, 128, 150]);
    await expectParity('offseg_t', 'logits_512', nhwcToNchw(logits));
  },
);
