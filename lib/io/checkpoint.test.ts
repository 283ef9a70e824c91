/**
 * Checkpoints on real data and into real modules: the official parity checkpoints (every
 * manifest key, shape and dtype; every tensor's sum / sum|x| / first value against an independent
 * numpy decoding in test/fixtures/io/parity_ckpt_stats.json; read time), and `loadStateDict`
 * into small modules built from lib/models/layers (layouts, shape mismatch, missing/unexpected).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixtureFile, fixturesPresent, REPO_ROOT, useBackend } from '../../test/helpers/parity.ts';
import { Module } from '../models/core/module.ts';
import { withInitSeed } from '../models/core/init.ts';
import { Conv2d } from '../models/layers/conv.ts';
import { BatchNorm2d } from '../models/layers/norm.ts';
import { Linear } from '../models/layers/linear.ts';
import {
  exportPth,
  loadStateDict,
  readTorchCheckpoint,
  saveTorchCheckpoint,
  summarizeLoadReport,
  type TorchCheckpoint,
  type TorchTensor,
} from './checkpoint.ts';

await useBackend('cpu');

const skipReal = fixturesPresent() ? false : 'parity fixtures not present';

interface ManifestKey {
  key: string;
  shape: number[];
  dtype: string;
}
type Stats = Record<string, Record<string, [number, number, number, string]>>;
const STATS = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test/fixtures/io/parity_ckpt_stats.json'), 'utf8'),
) as Stats;

function manifestKeys(fixture: string): ManifestKey[] {
  const m = JSON.parse(readFileSync(fixtureFile(fixture, 'manifest.json'), 'utf8')) as {
    checkpoint: { keys: ManifestKey[] };
  };
  return m.checkpoint.keys;
}

for (const fixture of ['offseg_t', 'ol', 'freqfusion']) {
  test(
    `${fixture}: every manifest key with its shape and dtype; values match numpy`,
    { skip: skipReal },
    () => {
      const path = fixtureFile(fixture, 'checkpoint.pth');
      const t0 = performance.now();
      const ck = readTorchCheckpoint(path);
      const ms = performance.now() - t0;
      const mb = statSync(path).size / 1e6;
      console.log(
        `[io] read ${fixture}/checkpoint.pth (${mb.toFixed(1)} MB, ${ck.stateDict.size} tensors) in ${ms.toFixed(0)} ms`,
      );
      const keys = manifestKeys(fixture);
      assert.deepEqual(
        [...ck.stateDict.keys()],
        keys.map((k) => k.key),
      );
      assert.deepEqual(ck.otherKeys, ['meta']);
      assert.equal(ck.meta?.fixture, fixture);
      for (const { key, shape, dtype } of keys) {
        const t = ck.stateDict.get(key) as TorchTensor;
        assert.deepEqual([t.dtype, t.shape], [dtype, shape], key);
        assert.equal(
          t.data.length,
          shape.reduce((a, b) => a * b, 1),
          key,
        );
        assert.ok(
          dtype === 'int64' ? t.data instanceof Int32Array : t.data instanceof Float32Array,
        );
        const [sum, sumAbs, first, npDtype] = STATS[fixture][key];
        assert.equal(npDtype, dtype, key);
        let s = 0;
        let sa = 0;
        for (const v of t.data) {
          s += v;
          sa += Math.abs(v);
        }
        const tol = 1e-9 * (sumAbs + 1); // float64 sums of the same float32 values
        assert.ok(
          Math.abs(s - sum) <= tol && Math.abs(sa - sumAbs) <= tol,
          `${key}: sum ${s} vs ${sum}`,
        );
        if (t.data.length) assert.equal(t.data[0], first, key);
      }
      assert.ok(ms < 5000, `reading took ${ms} ms`);
    },
  );
}

test(
  'offseg_t: bias index tables are integers inside their bias tables',
  { skip: skipReal },
  () => {
    const sd = readTorchCheckpoint(fixtureFile('offseg_t', 'checkpoint.pth')).stateDict;
    let tables = 0;
    for (const [key, t] of sd) {
      if (!key.endsWith('attention_bias_idxs_seg')) continue;
      const biases = sd.get(key.replace(/bias_idxs_seg$/, 'biases_seg')) as TorchTensor;
      const n = biases.shape[1];
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of t.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      assert.ok(lo === 0 && hi === n - 1, `${key}: range [${lo}, ${hi}] vs ${n} biases`);
      tables++;
    }
    assert.ok(tables >= 4);
  },
);

test('offseg_t: save → read round trip is exact (all 819 tensors)', { skip: skipReal }, () => {
  const ck = readTorchCheckpoint(fixtureFile('offseg_t', 'checkpoint.pth'));
  const dir = mkdtempSync(join(tmpdir(), 'offseg-ckpt-'));
  try {
    const path = join(dir, 'copy.pth');
    const t0 = performance.now();
    saveTorchCheckpoint(path, ck.stateDict, { note: 'copy' });
    const ms = performance.now() - t0;
    console.log(
      `[io] wrote 819 tensors (${(statSync(path).size / 1e6).toFixed(1)} MB) in ${ms.toFixed(0)} ms`,
    );
    const back = readTorchCheckpoint(path);
    assert.deepEqual([...back.stateDict.keys()], [...ck.stateDict.keys()]);
    for (const [k, t] of ck.stateDict) assert.deepEqual(back.stateDict.get(k), t, k);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// -------------------------------------------------------------------------------------------
// loadStateDict into small modules

class ConvBn extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(out = 4) {
    super();
    this.conv = this.child('conv', new Conv2d(3, out, { kernel: 3 }));
    this.bn = this.child('bn', new BatchNorm2d(out));
  }
}

const FOREIGN = join(REPO_ROOT, 'test/fixtures/io/foreign_outside.pth');

test('conv weights are transposed to (kH,kW,I,O); BN stats and int64 counter load', () => {
  const ck = readTorchCheckpoint(FOREIGN);
  const m = new ConvBn();
  const r = loadStateDict(m, ck);
  assert.equal(r.loaded.length, 7);
  assert.deepEqual([r.missing, r.unexpected, r.ignored], [[], [], []]);
  const w = ck.stateDict.get('conv.weight') as TorchTensor; // (O=4, I=3, 3, 3)
  const ours = m.conv.weight.arraySync() as number[][][][]; // (kH, kW, I, O)
  for (let o = 0; o < 4; o++)
    for (let i = 0; i < 3; i++)
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 3; x++)
          assert.equal(ours[y][x][i][o], w.data[((o * 3 + i) * 3 + y) * 3 + x]);
  assert.deepEqual(m.bn.runningMean.arraySync(), [1, 2, 3, 4]);
  assert.equal(m.bn.numBatchesTracked.dtype, 'int32');
  assert.equal(m.bn.numBatchesTracked.arraySync(), 7);
  assert.equal(
    summarizeLoadReport(r),
    "loaded 7/7 tensors from 'state_dict'; 0 missing; 0 unexpected; 0 skipped (shape mismatch); 0 ignored (known unused)",
  );
  m.dispose();
});

test('a shape mismatch names the key and both torch shapes, and loads nothing', () => {
  const m = new ConvBn(5);
  const before = m.bn.weight.arraySync();
  assert.throws(
    () => loadStateDict(m, readTorchCheckpoint(FOREIGN)),
    (e: Error) =>
      e.message.includes("'conv.weight': checkpoint [4,3,3,3] vs model [5,3,3,3]") &&
      e.message.includes("'bn.weight': checkpoint [4] vs model [5]") &&
      e.message.startsWith(FOREIGN),
  );
  assert.deepEqual(m.bn.weight.arraySync(), before);
  m.dispose();
});

class ConvOnly extends Module {
  constructor() {
    super();
    this.child('conv', new Conv2d(3, 4, { kernel: 3 }));
    this.child('head', new Conv2d(4, 2, { kernel: 1 }));
  }
}

test('missing and unexpected keys: strict throws listing them, non-strict reports', () => {
  const ck = readTorchCheckpoint(FOREIGN);
  const m = new ConvOnly();
  assert.throws(
    () => loadStateDict(m, ck),
    /does not fit the model: 2 missing \(head\.weight, head\.bias\); 4 unexpected \(bn\.weight, bn\.bias, bn\.running_mean, bn\.running_var\)/,
  );
  const r = loadStateDict(m, ck, { strict: false });
  assert.deepEqual(r.loaded, ['conv.weight', 'conv.bias']);
  assert.deepEqual(r.missing, ['head.weight', 'head.bias']);
  assert.deepEqual(r.unexpected, ['bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var']);
  assert.deepEqual(r.ignored, ['bn.num_batches_tracked']); // KNOWN_UNUSED
  assert.match(
    summarizeLoadReport(r),
    /^loaded 2\/4 tensors from 'state_dict'; 2 missing \(head\.weight, head\.bias\); 4 unexpected \(bn\.weight, bn\.bias, bn\.running_mean, … \(1 more\)\); 0 skipped \(shape mismatch\); 1 ignored/,
  );
  // With no allowance the counter is unexpected too.
  assert.equal(loadStateDict(m, ck, { strict: false, allowUnexpected: [] }).unexpected.length, 5);
  m.dispose();
});

test('stripPrefix keeps only prefixed keys; addPrefix maps a sub-module checkpoint', () => {
  const ck = readTorchCheckpoint(FOREIGN);
  const bn = new BatchNorm2d(4);
  const r = loadStateDict(bn, ck, { stripPrefix: 'bn.' });
  assert.equal(r.loaded.length, 5);
  assert.deepEqual([r.missing, r.unexpected], [[], []]);
  const sub: TorchCheckpoint = {
    stateDict: new Map(
      [...ck.stateDict].filter(([k]) => k.startsWith('conv.')).map(([k, t]) => [k.slice(5), t]),
    ),
    otherKeys: [],
  };
  const m = new ConvOnly();
  const r2 = loadStateDict(m, sub, { addPrefix: 'conv.', strict: false });
  assert.deepEqual(r2.loaded, ['conv.weight', 'conv.bias']);
  bn.dispose();
  m.dispose();
});

class Mixed extends Module {
  constructor() {
    super();
    this.child('dw', new Conv2d(4, 4, { kernel: 3, groups: 4 }));
    this.child('pw', new Conv2d(4, 6, { kernel: 1 }));
    this.child('fc', new Linear(6, 5));
    this.child('bn', new BatchNorm2d(6));
  }
}

test('exportPth → readTorchCheckpoint → loadStateDict restores every tensor (dwconv, linear)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offseg-ckpt-'));
  try {
    const a = withInitSeed(1, () => new Mixed());
    const b = withInitSeed(2, () => new Mixed());
    const path = join(dir, 'mixed.pth');
    exportPth(a, path, { model: 'mixed' });
    const ck = readTorchCheckpoint(path);
    const shapes = Object.fromEntries([...ck.stateDict].map(([k, t]) => [k, [t.dtype, t.shape]]));
    assert.deepEqual(shapes['dw.weight'], ['float32', [4, 1, 3, 3]]);
    assert.deepEqual(shapes['pw.weight'], ['float32', [6, 4, 1, 1]]);
    assert.deepEqual(shapes['fc.weight'], ['float32', [5, 6]]);
    assert.deepEqual(shapes['bn.num_batches_tracked'], ['int64', []]);
    const r = loadStateDict(b, ck);
    assert.equal(r.loaded.length, a.stateEntries().length);
    const av = a.stateEntries();
    b.stateEntries().forEach((e, i) => {
      assert.equal(e.variable.dtype, av[i].variable.dtype, e.key);
      assert.deepEqual(e.variable.arraySync(), av[i].variable.arraySync(), e.key);
    });
    a.dispose();
    b.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

class FreqFusionCompressors extends Module {
  constructor() {
    super();
    this.child('hr_channel_compressor', new Conv2d(64, 48, { kernel: 1 }));
    this.child('lr_channel_compressor', new Conv2d(128, 48, { kernel: 1 }));
  }
}

test('freqfusion: partial load; hamming buffers count as known-unused', { skip: skipReal }, () => {
  const ck = readTorchCheckpoint(fixtureFile('freqfusion', 'checkpoint.pth'));
  const m = new FreqFusionCompressors();
  const r = loadStateDict(m, ck, { strict: false });
  assert.equal(r.loaded.length, 4);
  assert.deepEqual(r.missing, []);
  assert.deepEqual(r.ignored, ['hamming_lowpass', 'hamming_highpass']);
  assert.equal(r.unexpected.length, ck.stateDict.size - 6);
  const w = ck.stateDict.get('hr_channel_compressor.weight') as TorchTensor; // (48, 64, 1, 1)
  const ours = tf.tidy(() =>
    tf.reshape(m.namedParameters()[0].variable, [64, 48]).arraySync(),
  ) as number[][];
  assert.equal(ours[5][7], w.data[7 * 64 + 5]); // ours (1,1,I,O)[i=5,o=7] = torch[o=7,i=5]
  m.dispose();
});
