/**
 * Config mistakes as users make them: a typo in a key gets the closest allowed key (from a file or
 * from --cfg-options), and a dataset folder comes from OFFSEG_<DATASET>_ROOT unless the command
 * line sets one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './compose.ts';
import { runConfigSchema } from './schema.ts';
import { closest, editDistance, schemaKeysAt } from './suggest.ts';

const LEAF = 'configs/offseg/offseg-t_ade20k-512_160k.json';
const FIX = 'correct the key or value (see lib/config/schema.ts for every key and its meaning)';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('no ConfigError');
}

test('edit distance ignores case; closest keeps only near candidates', () => {
  assert.equal(editDistance('batchsize', 'batchSize'), 0);
  assert.equal(editDistance('iteration', 'iterations'), 1);
  assert.equal(closest('iteration', ['iterations', 'warmupIters', 'power']), 'iterations');
  assert.equal(closest('zzz', ['iterations', 'power']), undefined);
  assert.equal(closest('power', ['power']), undefined);
});

test('the schema lists the keys allowed at a path, through optional and default wrappers', () => {
  assert.deepEqual(schemaKeysAt(runConfigSchema, ['schedule']), [
    'iterations',
    'warmupIters',
    'warmupFactor',
    'polyEnd',
    'power',
    'etaMin',
  ]);
  assert.deepEqual(schemaKeysAt(runConfigSchema, ['model', 'init']), [
    'checkpoint',
    'prefix',
    'stripPrefix',
    'reviseKeys',
    'skipMismatched',
    'minLoaded',
  ]);
  assert.deepEqual(schemaKeysAt(runConfigSchema, ['optimizer', 'customKeys']), []);
});

test('a key typo in --cfg-options gets "did you mean", naming the option', () => {
  const e = configError(() => loadConfig(LEAF, ['schedule.iteration=100']));
  assert.equal(
    e.message,
    `--cfg-options schedule.iteration=100: unknown key 'schedule.iteration' (did you mean 'schedule.iterations'?)\n  fix: ${FIX}`,
  );
  const e2 = configError(() => loadConfig(LEAF, ['data.batchsize=4']));
  assert.match(e2.message, /unknown key 'data\.batchsize' \(did you mean 'data\.batchSize'\?\)/);
});

test('a key typo in a file names the file; a key far from all gets the allowed list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-typo-'));
  const f = join(dir, 'leaf.json');
  writeFileSync(
    f,
    JSON.stringify({
      _base_: [join(process.cwd(), LEAF)],
      runtime: { chekpointInterval: 5, xyz: 1 },
    }),
  );
  const e = configError(() => loadConfig(f));
  assert.equal(
    e.message.split('\n').slice(0, 2).join('\n'),
    `${f}: unknown key 'runtime.chekpointInterval' (did you mean 'runtime.checkpointInterval'?)\n` +
      `${f}: unknown key 'runtime.xyz' (allowed here: seed, logInterval, evalInterval, checkpointInterval, keepCheckpoints, gradCheckpoint)`,
  );
});

test('OFFSEG_ADE20K_ROOT sets the data root of an ADE20K config; --cfg-options wins', () => {
  const env = { OFFSEG_ADE20K_ROOT: '/data/ade', OFFSEG_CITYSCAPES_ROOT: '/data/cs' };
  const a = loadConfig(LEAF, [], { env });
  assert.equal(a.config.data.dataset.dataRoot, '/data/ade');
  assert.deepEqual(a.dataRootFromEnv, { variable: 'OFFSEG_ADE20K_ROOT', value: '/data/ade' });
  const b = loadConfig(LEAF, ['data.dataset.dataRoot=/mine'], { env });
  assert.equal(b.config.data.dataset.dataRoot, '/mine');
  assert.equal(b.dataRootFromEnv, undefined);
  const c = loadConfig(LEAF, [], { env: {} });
  assert.equal(c.config.data.dataset.dataRoot, 'data/ade/ADEChallengeData2016');
  assert.equal(c.hash, loadConfig(LEAF).hash, 'no variable, same config');
  const cs = loadConfig('configs/offseg/offseg-t_cityscapes-1024_160k.json', [], { env });
  assert.equal(cs.config.data.dataset.dataRoot, '/data/cs');
});
