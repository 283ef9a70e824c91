/**
 * Work dirs as runs leave them: a run with a checkpoint is never overwritten and resumes; a
 * start that failed before training (config.json, run.json only) counts as empty; a run that
 * logged iterations but never checkpointed can neither be resumed nor silently replaced. Each
 * refusal names what the folder holds and the command that fits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRunDir, createRunDir, prepareRunDir, RunDirError } from './run_dir.ts';
import { writeLastCheckpoint } from './checkpoint.ts';

function runDirError(fn: () => unknown): RunDirError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RunDirError, String(e));
    return e;
  }
  assert.fail('no RunDirError');
}

test('a work dir holding a run is never overwritten; --resume needs a checkpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offseg-run-'));
  const run = join(dir, 'new');
  assert.deepEqual(prepareRunDir(run, false), {});
  writeFileSync(join(run, 'log.jsonl'), '{"event":"train","iteration":10}\n');
  writeFileSync(join(run, 'iter_10.ckpt'), 'x');
  writeLastCheckpoint(run, 'iter_10.ckpt');
  const e = runDirError(() => checkRunDir(run, false));
  assert.match(e.message, /already holds a run \(last checkpoint .*iter_10\.ckpt\)/);
  assert.equal(e.fix, 'pass --resume to continue that run, or choose another --work-dir');
  assert.equal(readFileSync(join(run, 'log.jsonl'), 'utf8'), '{"event":"train","iteration":10}\n');
  assert.equal(checkRunDir(run, true).lastCheckpoint, join(run, 'iter_10.ckpt'));
  const absent = runDirError(() => checkRunDir(join(dir, 'absent'), true));
  assert.equal(
    absent.message.split('\n')[0],
    `--resume: ${join(dir, 'absent')} does not exist, so there is no run to continue`,
  );
  assert.equal(absent.fix, 'run the same command without --resume to start the run there');
});

test('a failed start (config.json, run.json, a log without iterations) counts as empty', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'offseg-run-')), 'failed');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), '{}');
  writeFileSync(join(dir, 'run.json'), '{}');
  writeFileSync(join(dir, 'log.jsonl'), '{"event":"load","loaded":9}\n');
  assert.deepEqual(checkRunDir(dir, false), {});
  const e = runDirError(() => checkRunDir(dir, true));
  assert.equal(
    e.message.split('\n')[0],
    `--resume: ${dir} holds no checkpoint, only what a start that failed before training left (config.json, log.jsonl, run.json)`,
  );
  assert.match(e.fix, /^run the same command without --resume/);
  createRunDir(dir);
  assert.equal(readFileSync(join(dir, 'log.jsonl'), 'utf8'), '', 'the leftover log starts over');
});

test('iterations logged but no checkpoint: refused both ways, saying so', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'offseg-run-')), 'killed');
  mkdirSync(dir);
  const log = '{"event":"train","iteration":10}\n{"event":"train","iteration":30}\n{"event":"tra';
  writeFileSync(join(dir, 'log.jsonl'), log); // the last line cut short by a kill
  writeLastCheckpoint(dir, 'iter_40.ckpt'); // names a file that is not there
  const fresh = runDirError(() => checkRunDir(dir, false));
  assert.match(fresh.message, /already holds a run that logged iteration 30 but no checkpoint/);
  assert.equal(fresh.fix, `choose another --work-dir, or delete ${dir} to start over there`);
  const resume = runDirError(() => checkRunDir(dir, true));
  assert.match(resume.message, /holds no checkpoint: its run logged iteration 30 and stopped/);
  assert.match(resume.fix, /^nothing to resume: start again with another --work-dir/);
  createRunDir(dir);
  assert.equal(readFileSync(join(dir, 'log.jsonl'), 'utf8'), log, 'a log with iterations is kept');
});
