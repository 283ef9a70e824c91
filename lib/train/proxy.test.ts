/**
 * Proxy engine (proxy.ts): config hashes, the frozen-backbone wrapper, the result cache
 * (reuse on a matching hash, OFFSEG_SKIP_TRAIN), and one tiny end-to-end quick fine-tuning run
 * in a temporary root with a stand-in pretrained backbone (no pretraining in the test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import type { OffSeg } from '../models/offseg.ts';
import { exportPth } from '../io/checkpoint.ts';
import {
  backbonePath,
  ensurePretrainedBackbone,
  finetuneConfig,
  FrozenBackbone,
  loadProxyModel,
  pretrainConfig,
  ProxyGateError,
  runProxy,
  type ProxyResult,
} from './proxy.ts';
import { runStudy, studySummary } from './proxy_study.ts';
import { CLAIMS } from '../analysis/claims.ts';

await useBackend('wasm');

test('fine-tuning hashes follow model, seed, mode and the backbone, not the checkout path', () => {
  const a = finetuneConfig('offseg-t', 0, '/x/effv2-s1-builtin-full-0123456789ab.pth', false);
  const b = finetuneConfig(
    'offseg-t',
    0,
    '/elsewhere/effv2-s1-builtin-full-0123456789ab.pth',
    false,
  );
  assert.equal(a.hash, b.hash);
  assert.notEqual(
    a.hash,
    finetuneConfig('offseg-t', 1, '/x/effv2-s1-builtin-full-0123456789ab.pth', false).hash,
  );
  assert.notEqual(
    a.hash,
    finetuneConfig('offseg-t-pp', 0, '/x/effv2-s1-builtin-full-0123456789ab.pth', false).hash,
  );
  assert.notEqual(
    a.hash,
    finetuneConfig('offseg-t', 0, '/x/effv2-s1-builtin-full-ba9876543210.pth', false).hash,
  );
  const q = finetuneConfig('offseg-t', 0, '/x/effv2-s1-builtin-quick-0123456789ab.pth', true);
  assert.ok(q.config.schedule.iterations < a.config.schedule.iterations);
  assert.equal(a.config.model.init?.prefix, 'backbone.');
  assert.notEqual(pretrainConfig(true).hash, pretrainConfig(false).hash);
});

test('FrozenBackbone: only decode_head.* trains; the backbone stays in eval mode', () => {
  const full = createModel('offseg-t', { numClasses: 5 }) as OffSeg;
  const m = new FrozenBackbone(full);
  const keys = m.namedParameters().map((p) => p.key);
  assert.ok(keys.length > 0 && keys.every((k) => k.startsWith('decode_head.')));
  m.train();
  assert.equal(full.decodeHead.training, true);
  assert.equal(full.backbone.training, false);
  const x = tf.randomNormal([1, 64, 64, 3]) as tf.Tensor4D;
  const y = m.forward(x);
  assert.deepEqual(y.shape, [1, 16, 16, 5]);
  tf.dispose([x, y]);
  full.dispose();
});

test('cache: a result with the current hash is reused; OFFSEG_SKIP_TRAIN gives undefined otherwise', async () => {
  const root = mkdtempSync(join(tmpdir(), 'proxy-cache-'));
  const prev = process.env.OFFSEG_SKIP_TRAIN;
  process.env.OFFSEG_SKIP_TRAIN = '1';
  try {
    assert.equal(await runProxy({ model: 'offseg-t', seed: 0, quick: true, root }), undefined);
    const { hash } = finetuneConfig('offseg-t', 0, backbonePath(true, root), true);
    const file = join(root, 'results', 'proxy', 'runs', 'offseg-t-s0-quick.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({ model: 'offseg-t', seed: 0, mIoU: 12.5, configHash: hash }),
    );
    assert.equal((await runProxy({ model: 'offseg-t', seed: 0, quick: true, root }))?.mIoU, 12.5);
    // Figs. 3/5 need the weights too: a result without its checkpoint on disk does not count.
    const withFiles = { checkpoint: 'work_dirs/x.ckpt', backbone: 'x.pth' };
    writeFileSync(file, JSON.stringify({ mIoU: 12.5, configHash: hash, ...withFiles }));
    assert.equal(
      await runProxy({ model: 'offseg-t', seed: 0, quick: true, root, needModel: true }),
      undefined,
    );
    writeFileSync(
      file,
      JSON.stringify({ model: 'offseg-t', seed: 0, mIoU: 12.5, configHash: 'stale' }),
    );
    assert.equal(await runProxy({ model: 'offseg-t', seed: 0, quick: true, root }), undefined);
  } finally {
    if (prev === undefined) delete process.env.OFFSEG_SKIP_TRAIN;
    else process.env.OFFSEG_SKIP_TRAIN = prev;
    rmSync(root, { recursive: true, force: true });
  }
});

test('end to end (quick): fine-tune from a stand-in backbone, cache, reload the trained model', async () => {
  const root = mkdtempSync(join(tmpdir(), 'proxy-e2e-'));
  try {
    // A stand-in "pretrained" backbone and its pretraining record (the real one takes minutes).
    const bb = backbonePath(true, root);
    mkdirSync(dirname(bb), { recursive: true });
    const donor = createModel('offseg-t-pp', { numClasses: 22, seed: 7 }) as OffSeg;
    exportPth(donor.backbone, bb);
    const pre = join(root, 'results', 'proxy', 'runs', 'pretrain-quick.json');
    mkdirSync(dirname(pre), { recursive: true });
    writeFileSync(pre, JSON.stringify({ configHash: pretrainConfig(true).hash, mIoU: 0 }));

    const r = (await runProxy({ model: 'offseg-t', seed: 0, quick: true, root })) as ProxyResult;
    assert.ok(r && r.mIoU >= 0 && r.mIoU <= 100);
    assert.equal(r.iterations, finetuneConfig('offseg-t', 0, bb, true).config.schedule.iterations);
    const numClasses = finetuneConfig('offseg-t', 0, bb, true).config.model.numClasses;
    assert.equal(Object.keys(r.IoU).length, numClasses);
    const cached = JSON.parse(
      readFileSync(join(root, 'results', 'proxy', 'runs', 'offseg-t-s0-quick.json'), 'utf8'),
    ) as ProxyResult;
    assert.equal(cached.configHash, r.configHash);
    assert.ok(existsSync(join(root, r.checkpoint)));

    // The trained model: the whole network was fine-tuned (protocol: freezeBackbone false), so
    // its backbone comes from the run's checkpoint and has moved away from the donor's.
    // (its class count defaults to the fine-tuning config's)
    const m = loadProxyModel(r, undefined, root);
    assert.equal(m.numClasses, numClasses);
    const a = m.backbone.namedParameters()[0].variable;
    const b = donor.backbone.namedParameters()[0].variable;
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] > 0);
    m.dispose();
    donor.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('pretraining gate: a full-mode backbone below protocol.pretrainGate stops the study; quick mode is not gated', async () => {
  const root = mkdtempSync(join(tmpdir(), 'proxy-gate-'));
  try {
    for (const quick of [false, true]) {
      const path = backbonePath(quick, root);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, 'stand-in');
      const mode = quick ? 'quick' : 'full';
      const runsDir = join(root, 'results', 'proxy', 'runs');
      mkdirSync(runsDir, { recursive: true });
      const record = (mIoU: number) =>
        writeFileSync(
          join(runsDir, `pretrain-${mode}.json`),
          JSON.stringify({
            mode,
            configHash: pretrainConfig(quick).hash,
            path,
            mIoU,
            iterations: 1,
            seconds: 1,
            backend: 'x',
            threads: 1,
          }),
        );
      record(12.5);
      if (quick) assert.equal((await ensurePretrainedBackbone(true, root))?.mIoU, 12.5);
      else
        await assert.rejects(ensurePretrainedBackbone(false, root), (e: Error) => {
          assert.ok(e instanceof ProxyGateError);
          assert.match(e.message, /reached 12\.5 val mIoU, below the gate of 60/);
          assert.match(e.hint, /configs\/proxy\/pretrain\.json/);
          return true;
        });
      if (!quick) {
        // the study stops without training a variant, and says why (notebooks render "not run")
        const study = await runStudy(['offseg-t', 'offseg-t-pp'], CLAIMS, { quick, root });
        assert.match(study.stopped ?? '', /below the gate of 60.*Fix: lengthen/s);
        assert.deepEqual(study.runs, { 'offseg-t': [], 'offseg-t-pp': [] });
        assert.match(studySummary(study)[0], /stopped by the pretraining gate/);
      }
      record(60);
      assert.equal((await ensurePretrainedBackbone(quick, root))?.mIoU, 60);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
