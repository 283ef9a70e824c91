/**
 * The Mask2Former training recipe (configs/mask2former/): both leaf configs compose and carry the
 * mmseg `mask2former_swin-t_8xb2-160k_ade20k-512x512.py` settings; its paramwise rules give every
 * norm and embedding no weight decay and the backbone lr ×0.1; and two iterations of the real
 * loop on a tiny Mask2Former + Offset Learning (the model's own set-prediction loss, grad clip,
 * the recipe's parameter groups) move every parameter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useBackend } from '../../test/helpers/parity.ts';
import { tinyMask2Former } from '../../test/helpers/tiny_mask2former.ts';
import { Mask2Former } from '../models/mask2former.ts';
import { tempDir, writeImage, writeLabel } from '../data/testing.ts';
import { buildDataset } from '../data/datasets.ts';
import { ConfigError, loadConfig } from '../config/compose.ts';
import { buildParamGroups } from './param_groups.ts';
import { buildModel, testPipeline, trainPipeline } from './build.ts';
import { train } from './loop.ts';

await useBackend('wasm'); // the tiny loop takes 12 s here, 48 s on the pure-JS cpu backend

const LEAVES = [
  'configs/mask2former/mask2former-swin-t_ade20k-512_160k.json',
  'configs/mask2former/mask2former-swin-t-ol_ade20k-512_160k.json',
];

/** Swin with 2 blocks per stage (a plain and a shifted one), C = 32 head, 3 decoder layers. */
const tinyModel = (seed: number): Mask2Former =>
  tinyMask2Former(seed, { numClasses: 150, offsetLearning: true, lossSeed: 4 });

test('both leaf configs validate and carry the mmseg Mask2Former Swin-T recipe', () => {
  for (const f of LEAVES) {
    const { config: c } = loadConfig(f);
    assert.equal(c.model.name, f.includes('-ol_') ? 'mask2former-swin-t-ol' : 'mask2former-swin-t');
    assert.equal(c.model.numClasses, 150);
    assert.deepEqual(c.model.loss, {
      type: 'mask2former',
      numPoints: 12544,
      oversample: 3,
      importance: 0.75,
      noObjectWeight: 0.1,
      weights: { cls: 2, mask: 5, dice: 5 },
      matchWeights: { cls: 2, mask: 5, dice: 5 },
      diceEps: 1,
    });
    const o = c.optimizer;
    assert.deepEqual(
      [o.lr, o.weightDecay, o.eps, o.betas, o.clipGrad],
      [1e-4, 0.05, 1e-8, [0.9, 0.999], { maxNorm: 0.01, normType: 2 }],
    );
    assert.equal(o.customKeys.head, undefined, 'the default runtime keys are replaced');
    const s = c.schedule;
    assert.deepEqual([s.iterations, s.warmupIters, s.power, s.etaMin], [160000, 0, 0.9, 0]);
    assert.deepEqual([c.data.batchSize, c.data.train.crop], [16, [512, 512]]);
    assert.equal(c.data.test.mode, 'whole');
  }
});

test('paramwise rules: backbone lr ×0.1; every norm, relative-position table and query/level embedding without decay', () => {
  const { config: c } = loadConfig(LEAVES[1]);
  const m = tinyModel(1);
  const keys = m.namedParameters().map((p) => p.key);
  m.dispose();
  const groups = buildParamGroups(keys, c.optimizer.customKeys);
  const noDecay =
    /(\.norm\d?\.|norms\.\d+\.|post_norm|\.gn\.|relative_position_bias_table|query_embed|query_feat|level_embed)/;
  for (const g of groups) {
    assert.equal(g.lrMult, g.key.startsWith('backbone.') ? 0.1 : 1, g.key);
    assert.equal(g.decayMult, noDecay.test(g.key) ? 0 : 1, g.key);
  }
  // As upstream, the pixel decoder's level_encoding (an nn.Embedding no custom key names) decays.
  assert.equal(
    groups.find((g) => g.key.endsWith('pixel_decoder.level_encoding.weight'))?.decayMult,
    1,
  );
});

test('model.loss on a model trained by cross-entropy is a ConfigError', () => {
  const { config: c } = loadConfig(LEAVES[0], ['model.name="segnext-t"']);
  assert.throws(
    () => buildModel(c),
    (e: Error) => e instanceof ConfigError && /model\.loss/.test(e.message),
  );
});

async function fixture(): Promise<string> {
  const root = join(tempDir('offseg-m2f-'), 'ADEChallengeData2016');
  for (const [split, prefix] of [
    ['training', 'ADE_train_'],
    ['validation', 'ADE_val_'],
  ] as const) {
    for (let i = 0; i < 2; i++) {
      const name = `${prefix}${String(i + 1).padStart(8, '0')}`;
      await writeImage(join(root, 'images', split, `${name}.jpg`), 80, 64, i + 1);
      // three classes in horizontal bands (ADE ids 1..3 → 0..2 after reduce_zero_label)
      const lab = new Uint8Array(80 * 64);
      for (let p = 0; p < lab.length; p++) lab[p] = 1 + ((Math.floor(p / 80 / 22) + i) % 3);
      writeLabel(join(root, 'annotations', split, `${name}.png`), lab, 80, 64);
    }
  }
  return root;
}

test('two iterations of the real loop on a tiny Mask2Former + OL update every parameter', async () => {
  const root = await fixture();
  // The recipe, at 64² with 2 images and 256 points; weight decay 0 so that a parameter moves
  // only through its gradient (AdamW moves every element with a non-zero gradient by ≈ lr).
  const { config: cfg } = loadConfig(LEAVES[1], [
    `data.dataset.dataRoot="${root}"`,
    'data.train.scale=[128,64]',
    'data.train.crop=[64,64]',
    'data.batchSize=2',
    'data.accumulate=1',
    'optimizer.weightDecay=0',
    'model.loss.numPoints=256',
    'schedule.iterations=2',
    'runtime.logInterval=1',
  ]);
  const model = tinyModel(2);
  const before = new Map(model.namedParameters().map((p) => [p.key, p.variable.dataSync()]));
  const losses: number[] = [];
  // Two steps: the deformable attention's offset and weight projections start at zero, which
  // blocks the gradient to the pixel decoder's level_encoding until they have moved once.
  const r = await train(cfg, 'h', tempDir('m2f-run-'), {
    model,
    trainSet: await buildDataset({ type: 'ade20k', dataRoot: root, split: 'train' }),
    trainPipeline: trainPipeline(cfg),
    testPipeline: testPipeline(cfg),
    onIteration: (e) => losses.push(e.loss),
  });
  assert.equal(r.iteration, 2);
  assert.equal(losses.length, 2);
  assert.ok(
    losses.every((l) => Number.isFinite(l) && l > 0),
    `losses ${losses}`,
  );
  const still = model
    .namedParameters()
    .filter((p) => {
      const a = before.get(p.key)!;
      const b = p.variable.dataSync();
      return a.every((v, i) => v === b[i]);
    })
    .map((p) => p.key);
  assert.deepEqual(still, []);
  model.dispose();
});
