/**
 * `model.init` as configs use it, on SegFormer-B0 (the smallest registered model) with
 * checkpoints made here from the model itself: DataParallel keys load and say so, a full-model
 * file given `prefix: 'backbone.'` is refused naming the key to change, a K=150 checkpoint
 * fine-tunes onto K=22 with `skipMismatched`, and config contradictions are ConfigErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useBackend } from '../../test/helpers/parity.ts';
import { ConfigError, validateConfig } from '../config/compose.ts';
import { tempDir, twoValueLabel, writeImage, writeLabel } from '../data/testing.ts';
import { createModel } from '../models/registry.ts';
import { CheckpointError } from '../io/errors.ts';
import { saveTorchArchive, torchStateDict, type TorchTensor } from '../io/checkpoint.ts';
import { buildDatasets, buildModel } from './build.ts';

await useBackend('cpu');

const dir = tempDir('offseg-build-');
const reference = createModel('segformer-b0', { numClasses: 150, seed: 7 });
const SD = torchStateDict(reference);
const N = SD.size;

function cfg(model: Record<string, unknown>, dataRoot = 'unused') {
  return validateConfig(
    {
      model: { name: 'segformer-b0', numClasses: 150, ...model },
      data: {
        dataset: { type: 'ade20k', dataRoot },
        train: { scale: [64, 32], crop: [32, 32] },
        test: { scale: [64, 32] },
        batchSize: 1,
      },
      optimizer: { type: 'AdamW', lr: 0.001, weightDecay: 0.01 },
      schedule: { iterations: 1 },
      runtime: {},
    },
    'test.json',
  );
}

function rekey(f: (k: string) => string | undefined): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  for (const [k, t] of SD) {
    const nk = f(k);
    if (nk !== undefined) out.set(nk, t);
  }
  return out;
}

test("model.init: 'module.' keys load in full and the load is reported", () => {
  const path = join(dir, 'ddp.pth');
  saveTorchArchive(path, { weights: { state_dict: rekey((k) => `module.${k}`) } });
  const seen: string[] = [];
  const m = buildModel(cfg({ init: { checkpoint: path } }), {
    onInit: (r, summary) => seen.push(`${r.loaded.length} ${summary}`),
  });
  assert.equal(seen.length, 1);
  assert.match(
    seen[0],
    new RegExp(
      `^${N} loaded ${N}/${N} tensors from 'state_dict'; 0 missing; 0 unexpected; 0 skipped \\(shape mismatch\\); 0 ignored \\(known unused\\); ${N} keys revised`,
    ),
  );
  const ref = new Map(reference.stateEntries().map((e) => [e.key, e.variable]));
  for (const e of m.stateEntries().slice(0, 5))
    assert.deepEqual(e.variable.arraySync(), ref.get(e.key)!.arraySync(), e.key);
  m.dispose();
  // skipInit (a resumed run) does not read the file at all.
  const r = buildModel(cfg({ init: { checkpoint: join(dir, 'absent.pth') } }), { skipInit: true });
  r.dispose();
});

test("model.init: a full-model file with prefix 'backbone.' is refused, naming the key", () => {
  const path = join(dir, 'full.pth');
  saveTorchArchive(path, { weights: { state_dict: SD } });
  const backbone = reference.stateEntries().filter((e) => e.key.startsWith('backbone.')).length;
  assert.throws(
    () => buildModel(cfg({ init: { checkpoint: path, prefix: 'backbone.' } })),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message.startsWith(
        `${path} (weights under 'state_dict'): 0 of the model's ${backbone} tensors under 'backbone.' would load (at least ${Math.ceil(backbone / 2)} required); it holds the whole model, so the prefix 'backbone.' does not belong: ${N} of its ${N} keys match with model.init.prefix=""`,
      ) &&
      e.fix === 'load it with model.init.prefix=""',
  );
  // A backbone-only file loads with that prefix, and the head keeps its initialisation.
  const bb = join(dir, 'backbone.pth');
  saveTorchArchive(bb, {
    weights: { model: rekey((k) => (k.startsWith('backbone.') ? k.slice(9) : undefined)) },
  });
  let summary = '';
  buildModel(cfg({ init: { checkpoint: bb, prefix: 'backbone.' } }), {
    onInit: (_r, s) => (summary = s),
  }).dispose();
  assert.match(
    summary,
    new RegExp(`^loaded ${backbone}/${backbone} tensors under 'backbone\\.' from 'model';`),
  );
  assert.match(summary, new RegExp(`; ${N - backbone} model tensors outside 'backbone\\.' keep`));
});

test('model.init: K=150 weights onto K=22 need skipMismatched, which loads the rest', () => {
  const path = join(dir, 'k150.pth');
  saveTorchArchive(path, { weights: { state_dict: SD } });
  const k22 = (init: Record<string, unknown>) => ({
    numClasses: 22,
    init: { checkpoint: path, ...init },
  });
  assert.throws(
    () => buildModel(cfg(k22({}))),
    (e: Error) =>
      e instanceof CheckpointError &&
      /: shape mismatch for 2 key\(s\) \(torch layout\): 'decode_head\.conv_seg\.weight': checkpoint \[150,256,1,1\] vs model \[22,256,1,1\], 'decode_head\.conv_seg\.bias': checkpoint \[150\] vs model \[22\]/.test(
        e.message,
      ) &&
      e.fix ===
        `a checkpoint for another class count or size: check model.name and model.numClasses, or model.init.skipMismatched=true to load the other ${N - 2} tensors and keep these at their initial value`,
  );
  let skipped: string[] = [];
  buildModel(cfg(k22({ skipMismatched: true })), {
    onInit: (r) => (skipped = r.skipped.map((s) => s.key)),
  }).dispose();
  assert.deepEqual(skipped, ['decode_head.conv_seg.weight', 'decode_head.conv_seg.bias']);
});

test('config contradictions are ConfigErrors naming both values', async () => {
  assert.throws(
    () =>
      buildModel(
        validateConfig({ ...cfg({}), model: { name: 'segformer-b9', numClasses: 150 } }, 'x.json'),
      ),
    (e: Error) =>
      e instanceof ConfigError &&
      /^model\.name: Unknown model 'segformer-b9'\. Did you mean segformer-b0/.test(e.message),
  );
  const root = join(tempDir('offseg-build-ade-'), 'ADEChallengeData2016');
  await writeImage(join(root, 'images/validation/ADE_val_00000001.jpg'), 40, 32, 1);
  writeLabel(
    join(root, 'annotations/validation/ADE_val_00000001.png'),
    twoValueLabel(40, 32, 1, 2),
    40,
    32,
  );
  await assert.rejects(
    buildDatasets(cfg({ numClasses: 22 }, root), ['val']),
    (e: Error) =>
      e instanceof ConfigError &&
      e.message ===
        'model.numClasses is 22 but the ade20k dataset (data.dataset) has 150 classes\n  fix: set model.numClasses to 150 (--cfg-options model.numClasses=150)',
  );
});
