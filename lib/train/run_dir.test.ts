import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRunDir, RunDirError } from './run_dir.ts';
import { writeLastCheckpoint } from './checkpoint.ts';

test('a work dir holding a run is never overwritten; --resume needs a checkpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offseg-run-'));
  assert.deepEqual(prepareRunDir(join(dir, 'new'), false), {});
  writeFileSync(join(dir, 'new', 'log.jsonl'), 'earlier result\n');
  writeLastCheckpoint(join(dir, 'new'), 'iter_10.ckpt');
  assert.throws(
    () => prepareRunDir(join(dir, 'new'), false),
    (e: Error) =>
      e instanceof RunDirError &&
      /already holds a run/.test(e.message) &&
      /--resume/.test(e.message),
  );
  assert.equal(readFileSync(join(dir, 'new', 'log.jsonl'), 'utf8'), 'earlier result\n');
  assert.equal(
    prepareRunDir(join(dir, 'new'), true).lastCheckpoint,
    join(dir, 'new', 'iter_10.ckpt'),
  );
  assert.throws(() => prepareRunDir(join(dir, 'empty'), true), /no checkpoint/);
});
