/**
 * A run's life through the `offseg` CLI as a user lives it, on SegFormer-B0 with 32×32 crops and
 * a 6-image ADE20K folder built here: a start that fails on a wrong dataset path writes nothing
 * and the corrected command (folder from OFFSEG_ADE20K_ROOT) runs in the same work dir; Ctrl-C
 * before the first interval checkpoint saves one and says how to continue; re-running without
 * --resume would be refused naming the run, with --resume it continues from there and says so;
 * `eval` scores the result reporting its load and the number of images it really scores. No
 * third-party banner appears on stderr. (≈ 35 s: three CLI processes, a few 2 s WASM steps.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, useBackend } from '../../test/helpers/parity.ts';
import { tempDir, twoValueLabel, writeImage, writeLabel } from '../data/testing.ts';
import { checkRunDir, type RunDirError } from '../train/run_dir.ts';
import { formatUserError, isUserError } from './errors.ts';
import { trainCommand } from './train_commands.ts';

await useBackend(); // quietly, before the in-process command selects it

const BIN = join(REPO_ROOT, 'bin/offseg.mjs');
const tmp = tempDir('offseg-life-');
const root = join(tmp, 'ADEChallengeData2016');
const config = join(tmp, 'segformer-b0_ade-tiny.json');
const workDir = join(tmp, 'work');
const env = { ...process.env, OFFSEG_ADE20K_ROOT: root, OFFSEG_BACKEND: 'wasm' };

for (const [split, prefix, n] of [
  ['training', 'ADE_train_', 4],
  ['validation', 'ADE_val_', 2],
] as const)
  for (let i = 0; i < n; i++) {
    const name = `${prefix}${String(i + 1).padStart(8, '0')}`;
    await writeImage(join(root, 'images', split, `${name}.jpg`), 40, 32, i + 1);
    writeLabel(
      join(root, 'annotations', split, `${name}.png`),
      twoValueLabel(40, 32, 1 + (i % 3), 2 + (i % 3)),
      40,
      32,
    );
  }
writeFileSync(
  config,
  JSON.stringify({
    model: { name: 'segformer-b0', numClasses: 150 },
    data: {
      dataset: { type: 'ade20k', dataRoot: join(tmp, 'ADEChallengeData2061') }, // a typo
      train: { scale: [64, 32], crop: [32, 32], photometric: false },
      test: { scale: [64, 32] },
      batchSize: 1,
    },
    optimizer: { type: 'AdamW', lr: 0.001, weightDecay: 0.01 },
    schedule: { iterations: 1000, warmupIters: 0 },
    runtime: { logInterval: 1, evalInterval: 1000, checkpointInterval: 500 },
  }),
);

function offseg(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
  return { code: r.status, err: r.stderr, out: r.stdout };
}

function loggedIteration(): number {
  const p = join(workDir, 'log.jsonl');
  if (!existsSync(p)) return 0;
  const lines = readFileSync(p, 'utf8').trim().split('\n').filter(Boolean);
  return lines.length ? ((JSON.parse(lines.at(-1)!) as { iteration?: number }).iteration ?? 0) : 0;
}

test('failed start, Ctrl-C before the first checkpoint, refused re-run, resume, eval', async () => {
  const train = ['train', '--config', config, '--work-dir', workDir];

  // 1. The config's dataset path is wrong (and no variable set): a dataset error, nothing written.
  //    In this process, to save a start-up; the command is the same function.
  const saved = process.env.OFFSEG_ADE20K_ROOT;
  delete process.env.OFFSEG_ADE20K_ROOT;
  try {
    await assert.rejects(trainCommand.run(train.slice(1)), (e: Error) => {
      assert.ok(isUserError(e), String(e));
      assert.match(formatUserError(e), /ADEChallengeData2061[^]*\n {2}fix: /);
      return true;
    });
  } finally {
    if (saved !== undefined) process.env.OFFSEG_ADE20K_ROOT = saved;
  }
  assert.equal(existsSync(workDir), false, 'nothing written by a failed start');
  // An older failed start's leftovers do not block the run either.
  mkdirSync(workDir);
  writeFileSync(join(workDir, 'config.json'), '{}');
  writeFileSync(join(workDir, 'run.json'), '{}');

  // 2. With OFFSEG_ADE20K_ROOT the same command trains; Ctrl-C once a few steps are logged.
  const child = spawn(process.execPath, [BIN, ...train], { env });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const t0 = Date.now();
  while (loggedIteration() < 2 && Date.now() - t0 < 120_000) await sleep(200);
  assert.ok(loggedIteration() >= 2, `no iterations logged:\n${err}`);
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, err);
  assert.match(err, /\[offseg\] dataset folder from OFFSEG_ADE20K_ROOT: /);
  assert.match(
    err,
    /\[offseg\] SIGINT: stopping after the current iteration and saving a checkpoint/,
  );
  const m =
    /\[offseg\] interrupted \(SIGINT\) at iteration (\d+) of 1000; last checkpoint (\S+)\n/.exec(
      err,
    );
  assert.ok(m, err);
  const reached = Number(m[1]);
  assert.equal(m[2], join(workDir, `iter_${reached}.ckpt`));
  assert.ok(existsSync(m[2]));
  assert.match(
    err,
    new RegExp(`continue with: offseg train --config ${config} --work-dir ${workDir} --resume`),
  );
  assert.doesNotMatch(err, /node backend|Hi, looks like/);
  const run = JSON.parse(readFileSync(join(workDir, 'run.json'), 'utf8')) as {
    dataRootFrom?: string;
  };
  assert.equal(run.dataRootFrom, 'OFFSEG_ADE20K_ROOT', 'run.json is this run, not the leftover');

  // 3. The same command again would be refused, naming the run and the flag.
  assert.throws(
    () => checkRunDir(workDir, false),
    (e: Error) =>
      e.message.startsWith(`work dir ${workDir} already holds a run (last checkpoint ${m[2]})`) &&
      (e as RunDirError).fix === 'pass --resume to continue that run, or choose another --work-dir',
  );

  // 4. --resume continues from there (one more step) and says so.
  const end = reached + 1;
  const resumed = offseg([...train, '--resume', '--cfg-options', `schedule.iterations=${end}`]);
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.err, new RegExp(`resuming from ${m[2]}: iteration ${reached} of ${end}\\n`));
  assert.ok(existsSync(join(workDir, 'final.pth')));
  assert.ok(readdirSync(workDir).includes(`iter_${end}.ckpt`));

  // 5. eval --limit 1 scores one image and reports the load.
  const final = join(workDir, 'final.pth');
  const ev = offseg(['eval', '--config', config, '--checkpoint', final, '--limit', '1', '--json']);
  assert.equal(ev.code, 0, ev.err);
  assert.match(
    ev.err,
    new RegExp(`weights ${final}: loaded (\\d+)/\\1 tensors from 'state_dict'; 0 missing;`),
  );
  assert.match(ev.err, /evaluating 1 of 2 validation images/);
  assert.equal((JSON.parse(ev.out) as { numImages: number }).numImages, 1);
  assert.doesNotMatch(ev.err + resumed.err, /node backend|Hi, looks like/);
});
