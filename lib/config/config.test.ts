import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfig, ConfigError, deepMerge } from './compose.ts';

/** JSON in configs/ that is not a run config (the proxy protocol's seeds and quick overrides). */
const NOT_RUN_CONFIGS = new Set([join('configs', 'proxy', 'protocol.json')]);

function leafConfigs(dir = 'configs'): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) {
      if (n !== '_base_') out.push(...leafConfigs(p));
    } else if (n.endsWith('.json') && !NOT_RUN_CONFIGS.has(p)) out.push(p);
  }
  return out;
}

test('every leaf config in configs/ composes and validates', () => {
  const files = leafConfigs();
  assert.ok(files.length >= 9, `found ${files.length}`);
  for (const f of files) loadConfig(f);
});

test('the paper setting for OffSeg-T on ADE20K', () => {
  const { config: c } = loadConfig('configs/offseg/offseg-t_ade20k-512_160k.json');
  assert.equal(c.model.name, 'offseg-t');
  assert.equal(c.model.numClasses, 150);
  assert.equal(c.data.batchSize, 16);
  assert.deepEqual(c.data.train.crop, [512, 512]);
  assert.equal(c.schedule.iterations, 160000);
  assert.deepEqual(
    [c.data.test.mode, c.data.test.crop, c.data.test.stride],
    ['slide', [512, 512], [480, 480]],
  );
  assert.equal(c.optimizer.customKeys.head.lrMult, 10);
  assert.ok(Object.isFrozen(c.data.train));
});

test('COCO-Stuff T config keeps the official poly-end quirk', () => {
  const { config: c } = loadConfig('configs/offseg/offseg-t_coco-stuff164k-512_160k.json');
  assert.deepEqual([c.schedule.iterations, c.schedule.polyEnd], [160000, 80000]);
});

test('unknown or mistyped keys are rejected naming the file and the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const f = join(dir, 'bad.json');
  writeFileSync(
    f,
    JSON.stringify({
      _base_: [join(process.cwd(), 'configs/offseg/offseg-t_ade20k-512_160k.json')],
      optimizer: { lrr: 1 },
    }),
  );
  assert.throws(
    () => loadConfig(f),
    (e: Error) =>
      e instanceof ConfigError && /bad\.json/.test(e.message) && /optimizer\.lrr/.test(e.message),
  );
  assert.throws(
    () => loadConfig('configs/offseg/offseg-t_ade20k-512_160k.json', ['data.batchSize="sixteen"']),
    (e: Error) => /data\.batchSize/.test(e.message),
  );
  assert.throws(() => loadConfig(join(dir, 'missing.json')), /not found/);
  assert.throws(
    () => loadConfig('configs/offseg/offseg-t_ade20k-512_160k.json', ['data.accumulate=3']),
    /divisible/,
  );
});

test('overrides and _delete_', () => {
  const { config: c, hash } = loadConfig('configs/offseg/offseg-t_ade20k-512_160k.json', [
    'schedule.iterations=100',
  ]);
  assert.equal(c.schedule.iterations, 100);
  assert.match(hash, /^[0-9a-f]{12}$/);
  assert.deepEqual(deepMerge({ a: { x: 1, y: 2 } }, { a: { _delete_: true, z: 3 } }), {
    a: { z: 3 },
  });
});
