import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../lib/config/compose.ts';
import { tempDir } from '../lib/data/testing.ts';
import { findBuiltinRuns } from '../demo/prepare.ts';
import { REPO_ROOT } from './helpers/parity.ts';

/** A run folder with `cfg`, one checkpoint and optionally a final evaluation. */
function run(root: string, name: string, cfgFile: string, mIoU?: number, age = 0): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const cfg = loadConfig(join(REPO_ROOT, cfgFile)).config;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  const ckpt = join(dir, 'iter_10.ckpt');
  writeFileSync(ckpt, 'weights');
  const t = Date.now() / 1000 - age;
  utimesSync(ckpt, t, t);
  writeFileSync(join(dir, 'last_checkpoint'), 'iter_10.ckpt\n');
  if (mIoU !== undefined) writeFileSync(join(dir, 'final_eval.json'), JSON.stringify({ mIoU }));
  return dir;
}

test('the demo ships the best finished built-in run, else the newest one', () => {
  const root = tempDir('offseg-demo-runs-');
  const quick = 'configs/builtin/offseg-t_builtin-64_quickstart.json';
  const low = run(root, 'a', quick, 2.1);
  const high = run(join(root, 'proxy'), 'b', quick, 7.5);
  const newest = run(root, 'c', quick, undefined, 0);
  const older = run(root, 'd', quick, undefined, 3600);
  run(root, 'ade', 'configs/offseg/offseg-t_ade20k-512_160k.json', 40); // not built-in: ignored
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'empty', 'config.json'), '{}'); // no checkpoint: ignored
  const found = findBuiltinRuns([root]).map((r) => r.dir);
  assert.deepEqual(found, [high, low, newest, older]);
  assert.deepEqual(findBuiltinRuns([join(root, 'nothing-here')]), []);
});
