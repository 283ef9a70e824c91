/**
 * Reading and writing `.pth` files: the hand-made fixtures in test/fixtures/io (written by
 * make_fixtures.py with CPython's pickler and zipfile, fake torch globals), error messages, and
 * save → read round trips (also checked by an independent Python reader when python3 + numpy are
 * available).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/helpers/parity.ts';
import { readTorchCheckpoint, saveTorchCheckpoint, type TorchTensor } from './checkpoint.ts';
import { readZipEntries } from './zip.ts';

const FIX = join(REPO_ROOT, 'test/fixtures/io');
const fx = (name: string) => join(FIX, name);

interface Expected {
  dtype: TorchTensor['dtype'];
  shape: number[];
  values: (number | 'inf' | '-inf')[];
}

function assertTensor(t: TorchTensor | undefined, e: Expected, key: string): void {
  assert.ok(t, `missing ${key}`);
  assert.equal(t.dtype, e.dtype, key);
  assert.deepEqual(t.shape, e.shape, key);
  const want = e.values.map((v) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v));
  assert.equal(t.data.length, want.length, key);
  // Python wrote the expected floats after a cast to float32, so compare as float32.
  const cast = t.data instanceof Float32Array ? Math.fround : (x: number) => x;
  want.forEach((w, i) => assert.equal(t.data[i], cast(w), `${key}[${i}]`));
}

test('every dtype, views, storage offsets and strides; other folder name; DEFLATE', () => {
  const expected = JSON.parse(readFileSync(fx('mixed_expected.json'), 'utf8')) as Record<
    string,
    Expected
  >;
  for (const file of ['other_folder.pth', 'deflated.pth']) {
    const ck = readTorchCheckpoint(fx(file));
    assert.deepEqual([...ck.stateDict.keys()], Object.keys(expected), file);
    for (const [k, e] of Object.entries(expected))
      assertTensor(ck.stateDict.get(k), e, `${file}:${k}`);
    assert.ok(ck.stateDict.get('f64')?.data instanceof Float32Array);
    assert.ok(ck.stateDict.get('i64')?.data instanceof Int32Array);
    assert.deepEqual(ck.meta, { note: 'mixed' });
  }
  const folders = readZipEntries(readFileSync(fx('other_folder.pth'))).map(
    (e) => e.name.split('/')[0],
  );
  assert.ok(folders.every((f) => f === 'my_weights_v2'));
});

test('foreign objects outside the state_dict load fine (mmengine-like checkpoint)', () => {
  const ck = readTorchCheckpoint(fx('foreign_outside.pth'));
  assert.deepEqual(
    [...ck.stateDict.keys()],
    [
      'conv.weight',
      'conv.bias',
      'bn.weight',
      'bn.bias',
      'bn.running_mean',
      'bn.running_var',
      'bn.num_batches_tracked',
    ],
  );
  assert.deepEqual(ck.otherKeys, ['meta', 'message_hub', 'optimizer']);
  const nbt = ck.stateDict.get('bn.num_batches_tracked');
  assert.deepEqual([nbt?.dtype, nbt?.shape, [...(nbt?.data ?? [])]], ['int64', [], [7]]);
  const meta = ck.meta ?? {};
  assert.equal(meta.seed, 1234);
  assert.equal(meta.iter, 2 ** 40);
  assert.equal(meta.neg, -5);
  assert.equal(meta.lr, 0.01);
  assert.equal(meta.none, null);
  assert.deepEqual(meta.dataset_meta, { classes: ['sky', 'road'], palette: [[1, 2, 3]] });
  assert.match(String(meta.np_scalar), /^<numpy\._?core\.multiarray\.scalar>$/);
  assert.equal(meta.blob, '<bytes 2>');
});

test('a foreign object inside the state_dict is an error naming the key and the global', () => {
  assert.throws(
    () => readTorchCheckpoint(fx('foreign_inside.pth')),
    /foreign_inside\.pth: state_dict key 'x\.weight' holds numpy\._?core\.multiarray\._reconstruct, not a tensor/,
  );
});

test('legacy, non-checkpoint, missing and odd files get clear messages', () => {
  assert.throws(
    () => readTorchCheckpoint(fx('legacy.pth')),
    (e: Error) =>
      e.message.startsWith(
        `${fx('legacy.pth')} is a legacy (non-zip) PyTorch checkpoint; re-save it`,
      ) && e.message.includes('_use_new_zipfile_serialization=True'),
  );
  assert.throws(
    () => readTorchCheckpoint(fx('not_a_checkpoint.pth')),
    new RegExp(`${fx('not_a_checkpoint.pth')} is not a PyTorch checkpoint`),
  );
  assert.throws(
    () => readTorchCheckpoint(fx('nope.pth')),
    /Checkpoint file not found: .*nope\.pth/,
  );
  assert.throws(() => readTorchCheckpoint(FIX), /is a directory/);
  assert.throws(
    () => readTorchCheckpoint(fx('int64_overflow.pth')),
    /state_dict key 'idx': int64 value at flat index 1 does not fit in int32/,
  );
  assert.throws(
    () => readTorchCheckpoint(fx('bf16_inside.pth')),
    /state_dict key 'w' is a torch\.BFloat16Storage tensor \(supported: FloatStorage, /,
  );
  assert.throws(
    () => readTorchCheckpoint(fx('no_state_dict.pth')),
    /no_state_dict\.pth holds no weights: no dict of tensors under 'state_dict', 'model', 'state_dict_ema' and the top level is not one \(top-level keys: meta, model; 'model' holds a string\)$/,
  );
});

test('a bare state_dict (top-level dict of tensors) is used as the state_dict', () => {
  const ck = readTorchCheckpoint(fx('bare.pth'));
  assert.deepEqual([...ck.stateDict.keys()], ['w']);
  assert.deepEqual([...(ck.stateDict.get('w')?.data ?? [])], [1, 0, 0, 1]);
  assert.deepEqual(ck.otherKeys, []);
});

function sample(): Map<string, TorchTensor> {
  const f = (n: number, s = 1) =>
    Float32Array.from({ length: n }, (_, i) => Math.fround((i - 3) * 0.37 * s));
  return new Map<string, TorchTensor>([
    ['backbone.conv.weight', { dtype: 'float32', shape: [4, 3, 3, 3], data: f(108) }],
    ['backbone.bn.num_batches_tracked', { dtype: 'int64', shape: [], data: Int32Array.of(123) }],
    [
      'idx',
      { dtype: 'int64', shape: [2, 3], data: Int32Array.of(-2147483648, -1, 0, 1, 5, 2147483647) },
    ],
    ['i32', { dtype: 'int32', shape: [2], data: Int32Array.of(-5, 6) }],
    ['f64', { dtype: 'float64', shape: [3], data: f(3, 10) }],
    ['f16', { dtype: 'float16', shape: [4], data: Float32Array.of(1, -0.5, 65504, 2 ** -24) }],
    ['mask', { dtype: 'bool', shape: [3], data: Int32Array.of(1, 0, 1) }],
    ['u8', { dtype: 'uint8', shape: [2], data: Int32Array.of(0, 255) }],
    ['empty', { dtype: 'float32', shape: [0, 2], data: new Float32Array(0) }],
  ]);
}

test('save → read round trip gives identical tensors and meta; the write is atomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offseg-pth-'));
  try {
    const path = join(dir, 'iter_100.pth');
    const entries = sample();
    const meta = { iter: 100, cfg: { model: 'offseg-t', lr: 6e-5, flags: [true, null] } };
    saveTorchCheckpoint(path, entries, meta);
    assert.deepEqual(readdirSync(dir), ['iter_100.pth']); // no temporary file left behind
    const ck = readTorchCheckpoint(path);
    assert.deepEqual(ck.meta, meta);
    assert.deepEqual(ck.otherKeys, ['meta']);
    assert.deepEqual([...ck.stateDict.keys()], [...entries.keys()]);
    for (const [k, t] of entries) assert.deepEqual(ck.stateDict.get(k), t, k);
    const names = readZipEntries(readFileSync(path)).map((e) => e.name);
    assert.equal(names[0], 'iter_100/data.pkl'); // torch takes the folder from the first entry
    assert.ok(names.includes('iter_100/version') && names.includes('iter_100/byteorder'));
    // Overwriting an existing file goes through the same rename.
    saveTorchCheckpoint(path, new Map([['a', entries.get('i32') as TorchTensor]]));
    assert.deepEqual([...readTorchCheckpoint(path).stateDict.keys()], ['a']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('saving rejects data that does not match the shape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offseg-pth-'));
  try {
    const bad = new Map<string, TorchTensor>([
      ['w', { dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }],
    ]);
    assert.throws(
      () => saveTorchCheckpoint(join(dir, 'x.pth'), bad),
      /'w' has 3 values for shape \[2,2\]/,
    );
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// An independent reader: CPython's zipfile (checks every CRC) and an Unpickler that only admits
// the globals torch.load(weights_only=True) admits, rebuilding tensors with numpy.
const PY_CHECK = String.raw`
import sys, json, zipfile, pickle, collections, numpy as np
path = sys.argv[1]
z = zipfile.ZipFile(path)
assert z.testzip() is None, 'bad CRC'
names = z.namelist()
folder = names[0].split('/')[0]
assert names[0] == folder + '/data.pkl' and all(n.startswith(folder + '/') for n in names)
assert z.read(folder + '/version') == b'3\n'
NP = {'FloatStorage': '<f4', 'DoubleStorage': '<f8', 'HalfStorage': '<f2', 'LongStorage': '<i8',
      'IntStorage': '<i4', 'ByteStorage': '|u1', 'BoolStorage': '|b1'}
def rebuild(storage, offset, size, stride, requires_grad, hooks):
    assert isinstance(hooks, collections.OrderedDict) and requires_grad is False
    arr = np.frombuffer(z.read(folder + '/data/' + storage[1]), NP[storage[0]])
    assert arr.size == storage[2]
    return np.lib.stride_tricks.as_strided(arr[offset:], size, [s * arr.itemsize for s in stride])
class U(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ('collections', 'OrderedDict'): return collections.OrderedDict
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'): return rebuild
        if module == 'torch' and name in NP: return name
        raise pickle.UnpicklingError('forbidden global ' + module + '.' + name)
    def persistent_load(self, pid):
        assert pid[0] == 'storage' and pid[3] == 'cpu'
        return (pid[1], pid[2], pid[4])
obj = U(z.open(folder + '/data.pkl')).load()
assert set(obj) == {'meta', 'state_dict'} and isinstance(obj['state_dict'], collections.OrderedDict)
out = {k: [str(v.dtype), list(v.shape), [float(x) for x in v.ravel()]] for k, v in obj['state_dict'].items()}
print(json.dumps({'meta': obj['meta'], 'sd': out}))
`;

const hasPythonNumpy =
  spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

test(
  'files we save are read by an independent Python reader (weights_only globals only)',
  {
    skip: hasPythonNumpy ? false : 'python3 with numpy not available',
  },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'offseg-pth-'));
    try {
      const path = join(dir, 'export.pth');
      const entries = sample();
      saveTorchCheckpoint(path, entries, { iter: 7, name: 'x' });
      const r = spawnSync('python3', ['-c', PY_CHECK, path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as {
        meta: unknown;
        sd: Record<string, [string, number[], number[]]>;
      };
      assert.deepEqual(got.meta, { iter: 7, name: 'x' });
      const npDtype = {
        float32: 'float32',
        float64: 'float64',
        float16: 'float16',
        int64: 'int64',
        int32: 'int32',
        bool: 'bool',
        uint8: 'uint8',
      };
      for (const [k, t] of entries) {
        const [dtype, shape, values] = got.sd[k];
        assert.deepEqual([dtype, shape], [npDtype[t.dtype], t.shape], k);
        assert.deepEqual(values, Array.from(t.data, Number), k);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
