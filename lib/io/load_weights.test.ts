/**
 * `loadWeightsFile` on checkpoints re-saved the ways researchers have them, each built here from
 * a tiny backbone + head module: DataParallel `module.` keys, weights under `model` /
 * `state_dict_ema` / a bare dict, float16 tensors, a backbone-only file, a whole-model file given
 * a prefix, a `torch.compile` `_orig_mod.` prefix, another class count (skipMismatched), another
 * model, a partial file against `minLoaded`, and an offseg-ts `.ckpt`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { Module } from '../models/core/module.ts';
import { withInitSeed } from '../models/core/init.ts';
import { Conv2d } from '../models/layers/conv.ts';
import { BatchNorm2d } from '../models/layers/norm.ts';
import { Linear } from '../models/layers/linear.ts';
import { saveCheckpoint } from '../train/checkpoint.ts';
import {
  readTorchCheckpoint,
  saveTorchArchive,
  summarizeLoadReport,
  torchStateDict,
  type TorchTensor,
} from './checkpoint.ts';
import { CheckpointError } from './errors.ts';
import { loadWeightsFile } from './load_weights.ts';

await useBackend('cpu');

/** backbone.{conv,bn} (2 + 5 tensors) + decode_head.conv_seg (2 tensors, K classes): 9 tensors. */
class Net extends Module {
  constructor(numClasses = 3) {
    super();
    this.child('backbone.conv', new Conv2d(3, 8, { kernel: 3 }));
    this.child('backbone.bn', new BatchNorm2d(8));
    this.child('decode_head.conv_seg', new Conv2d(8, numClasses, { kernel: 1 }));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'offseg-weights-'));
const source = withInitSeed(1, () => new Net());
const SD = torchStateDict(source); // 9 tensors, torch layout
const file = (name: string) => join(dir, name);

function prefixed(p: string, sd: Map<string, TorchTensor> = SD): Map<string, TorchTensor> {
  return new Map([...sd].map(([k, t]) => [p + k, t]));
}

function sameWeights(a: Module, b: Module, keys?: (k: string) => boolean): void {
  const bv = new Map(b.stateEntries().map((e) => [e.key, e.variable]));
  for (const e of a.stateEntries())
    if (!keys || keys(e.key))
      assert.deepEqual(e.variable.arraySync(), bv.get(e.key)!.arraySync(), e.key);
}

function fresh(numClasses = 3): Net {
  return withInitSeed(2, () => new Net(numClasses));
}

test("DataParallel 'module.' keys load by default and the summary says so", () => {
  saveTorchArchive(file('ddp.pth'), {
    plain: { meta: {} },
    weights: { state_dict: prefixed('module.') },
  });
  const m = fresh();
  const r = loadWeightsFile(m, file('ddp.pth'));
  assert.equal(r.loaded.length, 9);
  sameWeights(m, source);
  assert.equal(
    summarizeLoadReport(r),
    "loaded 9/9 tensors from 'state_dict'; 0 missing; 0 unexpected; 0 skipped (shape mismatch); 0 ignored (known unused); 9 keys revised ('^module\\.' → '')",
  );
  // With no revisions the same file loads nothing, and the message finds the prefix.
  assert.throws(
    () => loadWeightsFile(fresh(), file('ddp.pth'), { reviseKeys: [] }),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message.startsWith(
        `${file('ddp.pth')} (weights under 'state_dict'): 0 of the model's 9 tensors would load; its keys carry the prefix 'module.': 9 of its 9 keys match with stripPrefix: "module."`,
      ) &&
      e.fix === 'load it with stripPrefix: "module."',
  );
});

test("weights under 'model', 'state_dict_ema' or a bare dict load, and the summary names where", () => {
  const ema = new Map([...SD].map(([k, t]) => [k, { ...t, data: t.data.map((v) => v + 1) }]));
  const cases: [string, Parameters<typeof saveTorchArchive>[1], string][] = [
    ['model.pth', { weights: { model: SD, optimizer: new Map() }, plain: { epoch: 3 } }, "'model'"],
    ['ema.pth', { weights: { state_dict_ema: SD } }, "'state_dict_ema'"],
    ['bare.pth', { bare: SD }, 'a bare dict of tensors'],
    ['both.pth', { weights: { state_dict: SD, state_dict_ema: ema } }, "'state_dict'"],
  ];
  for (const [name, archive, where] of cases) {
    saveTorchArchive(file(name), archive);
    const m = fresh();
    const r = loadWeightsFile(m, file(name));
    assert.match(summarizeLoadReport(r), new RegExp(`^loaded 9/9 tensors from ${where};`), name);
    sameWeights(m, source); // 'both': the state_dict, not the EMA copy
  }
  assert.deepEqual(readTorchCheckpoint(file('both.pth')).otherKeys, ['state_dict_ema']);
});

test('float16 tensors load widened to float32 (to half precision)', () => {
  const half = new Map(
    [...SD].map(([k, t]) => [k, t.dtype === 'float32' ? { ...t, dtype: 'float16' as const } : t]),
  );
  saveTorchArchive(file('fp16.pth'), { weights: { state_dict: half } });
  assert.equal(
    readTorchCheckpoint(file('fp16.pth')).stateDict.get('backbone.conv.weight')?.dtype,
    'float16',
  );
  const m = fresh();
  assert.equal(loadWeightsFile(m, file('fp16.pth')).loaded.length, 9);
  const want = source.stateEntries();
  let worst = 0;
  let exact = 0;
  m.stateEntries().forEach((e, i) => {
    const a = e.variable.dataSync();
    const b = want[i].variable.dataSync();
    for (let j = 0; j < a.length; j++) {
      worst = Math.max(worst, Math.abs(a[j] - b[j]) / Math.max(Math.abs(b[j]), 2 ** -14));
      if (a[j] === b[j]) exact++;
    }
  });
  assert.ok(worst <= 2 ** -11, `relative error ${worst}`);
  assert.ok(exact < 3 * 8 * 9, 'conv weights were rounded to half'); // 216 conv weights
});

test('a backbone-only file needs addPrefix; a whole-model file must not get one', () => {
  const backbone = new Map(
    [...SD].filter(([k]) => k.startsWith('backbone.')).map(([k, t]) => [k.slice(9), t]),
  );
  saveTorchArchive(file('backbone.pth'), { weights: { model: backbone } });
  assert.throws(
    () => loadWeightsFile(fresh(), file('backbone.pth')),
    (e: Error) =>
      e.message.includes(
        "0 of the model's 9 tensors would load; it holds only part of the model (its keys lack 'backbone.'): 7 of its 7 keys match",
      ) && (e as CheckpointError).fix === 'load it with addPrefix: "backbone."',
  );
  const m = fresh();
  const head = m
    .stateEntries()
    .filter((e) => e.key.startsWith('decode_head.'))
    .map((e) => e.variable.arraySync());
  const r = loadWeightsFile(m, file('backbone.pth'), { addPrefix: 'backbone.' });
  assert.equal(
    summarizeLoadReport(r),
    "loaded 7/7 tensors under 'backbone.' from 'model'; 0 missing; 0 unexpected; 0 skipped (shape mismatch); 0 ignored (known unused); 2 model tensors outside 'backbone.' keep their initial value",
  );
  sameWeights(m, source, (k) => k.startsWith('backbone.'));
  assert.deepEqual(
    m
      .stateEntries()
      .filter((e) => e.key.startsWith('decode_head.'))
      .map((e) => e.variable.arraySync()),
    head,
  );
  // The whole-model file with the prefix: nothing lands, and the message says to drop it.
  saveTorchArchive(file('full.pth'), { weights: { state_dict: SD } });
  assert.throws(
    () => loadWeightsFile(fresh(), file('full.pth'), { addPrefix: 'backbone.', minLoaded: 0.5 }),
    (e: Error) =>
      e.message.includes(
        "0 of the model's 7 tensors under 'backbone.' would load (at least 4 required); it holds the whole model, so the prefix 'backbone.' does not belong: 9 of its 9 keys match with addPrefix: \"\"",
      ),
  );
});

test("a torch.compile '_orig_mod.' prefix is found; reviseKeys maps it as mmengine would", () => {
  saveTorchArchive(file('compiled.pth'), { weights: { state_dict: prefixed('_orig_mod.') } });
  assert.throws(
    () => loadWeightsFile(fresh(), file('compiled.pth')),
    /its keys carry the prefix '_orig_mod\.'/,
  );
  const m = fresh();
  const r = loadWeightsFile(m, file('compiled.pth'), { reviseKeys: [['^_orig_mod\\.', '']] });
  assert.equal(r.revised.count, 9);
  sameWeights(m, source);
});

test('another class count: an error listing both shapes, or skipMismatched loads the rest', () => {
  saveTorchArchive(file('k3.pth'), { weights: { state_dict: SD } });
  const m = fresh(5);
  const values = () => new Map(m.stateEntries().map((e) => [e.key, e.variable.arraySync()]));
  const before = values();
  assert.throws(
    () => loadWeightsFile(m, file('k3.pth')),
    (e: Error) =>
      e.message ===
      `${file('k3.pth')}: shape mismatch for 2 key(s) (torch layout): 'decode_head.conv_seg.weight': checkpoint [3,8,1,1] vs model [5,8,1,1], 'decode_head.conv_seg.bias': checkpoint [3] vs model [5]\n  fix: a checkpoint for another class count or size: check the model, or skipMismatched: true to load the other 7 tensors and keep these at their initial value`,
  );
  assert.deepEqual(values(), before, 'untouched');
  const r = loadWeightsFile(m, file('k3.pth'), { skipMismatched: true });
  assert.deepEqual(
    [r.loaded.length, r.missing.length, r.skipped.map((s) => s.key)],
    [7, 0, ['decode_head.conv_seg.weight', 'decode_head.conv_seg.bias']],
  );
  assert.match(
    summarizeLoadReport(r),
    /^loaded 7\/9 tensors from 'state_dict'; 0 missing; 0 unexpected; 2 skipped \(shape mismatch\) \(decode_head\.conv_seg\.weight \[3,8,1,1\] vs \[5,8,1,1\], decode_head\.conv_seg\.bias \[3\] vs \[5\]\);/,
  );
  sameWeights(m, source, (k) => k.startsWith('backbone.'));
  for (const k of ['decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'])
    assert.deepEqual(values().get(k), before.get(k), `${k} keeps its initial value`);
});

class Other extends Module {
  constructor() {
    super();
    this.child('stem', new Conv2d(3, 4, { kernel: 1 }));
    this.child('fc', new Linear(4, 2));
  }
}

test("another model: missing and unused keys, and the model named in the file's meta", () => {
  const other = new Other();
  saveTorchArchive(file('other.pth'), {
    plain: { meta: { config: JSON.stringify({ model: { name: 'tiny-other' } }) } },
    weights: { state_dict: torchStateDict(other) },
  });
  other.dispose();
  assert.throws(
    () => loadWeightsFile(fresh(), file('other.pth'), { minLoaded: 0.5 }),
    (e: Error) =>
      e.message ===
      `${file('other.pth')} (weights under 'state_dict'): 0 of the model's 9 tensors would load (at least 5 required); 9 missing (e.g. backbone.conv.weight, backbone.conv.bias, backbone.bn.weight, … (6 more)), 4 checkpoint keys unused (e.g. stem.weight, stem.bias, fc.weight, … (1 more)); the checkpoint's meta names the model 'tiny-other'\n  fix: use a checkpoint of this model (check the model)`,
  );
});

test('minLoaded: a partial file passes above the fraction and fails below it', () => {
  const part = new Map([...SD].filter(([k]) => !k.startsWith('backbone.bn.')));
  saveTorchArchive(file('part.pth'), { weights: { state_dict: part } }); // 4 of 9
  assert.throws(
    () => loadWeightsFile(fresh(), file('part.pth'), { minLoaded: 0.5 }),
    (e: Error) =>
      /: 4 of the model's 9 tensors would load \(at least 5 required\); 5 missing \(e\.g\. backbone\.bn\.weight/.test(
        e.message,
      ) && /lower minLoaded to accept a partial load$/.test(e.message),
  );
  const m = fresh();
  const r = loadWeightsFile(m, file('part.pth'), { minLoaded: 0.4 });
  assert.deepEqual([r.loaded.length, r.missing.length], [4, 5]);
  assert.throws(
    () => loadWeightsFile(fresh(), file('part.pth'), { minLoaded: 0 }),
    /minLoaded must be in \(0, 1\], got 0/,
  );
  assert.throws(
    () => loadWeightsFile(fresh(), file('nope.pth')),
    /Checkpoint file not found: .*nope\.pth/,
  );
});

test('an offseg-ts training checkpoint (.ckpt) loads through the same path', async () => {
  const tensors = new Map<string, tf.Tensor>();
  for (const e of source.stateEntries()) tensors.set(`model.${e.key}`, e.variable);
  tensors.set('optim.m.backbone.conv.weight', tf.zeros([1]));
  await saveCheckpoint(file('iter_4.ckpt'), { config: { model: { name: 'net' } } }, tensors);
  const m = fresh();
  const r = loadWeightsFile(m, file('iter_4.ckpt'));
  assert.match(
    summarizeLoadReport(r),
    /^loaded 9\/9 tensors from 'model'; 0 missing; 0 unexpected;/,
  );
  sameWeights(m, source);
});
