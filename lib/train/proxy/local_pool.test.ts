/**
 * The local pool of proxy runs: width and order of the lanes, the first failure rejects, a
 * failing child is reported with its exit code and output, OFFSEG_PROXY_JOBS wins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { localJobs, pool, ProxyChildError, trainInChild } from './local_pool.ts';

test('pool: never more than `width` jobs at once, every item once, in start order', async () => {
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  await pool([0, 1, 2, 3, 4, 5, 6], 3, async (i) => {
    started.push(i);
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5 + ((i * 7) % 11)));
    running--;
  });
  assert.equal(peak, 3);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
});

test('pool: a failing job rejects the pool', async () => {
  await assert.rejects(
    pool([1, 2, 3], 2, async (i) => {
      if (i === 2) throw new Error('boom 2');
    }),
    /boom 2/,
  );
});

test('trainInChild: a child that fails is a ProxyChildError with its exit code and output', async () => {
  // an empty model name is refused by the child's argument check (exit 2) before any training
  const err = await trainInChild('', 0, true).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProxyChildError, String(err));
  assert.equal(err.code, 2);
  assert.match(err.tail, /usage: run_child/);
  assert.match(err.message, /OFFSEG_PROXY_JOBS=1/);
});

test('localJobs: OFFSEG_PROXY_JOBS wins, else at least one', () => {
  const prev = process.env.OFFSEG_PROXY_JOBS;
  try {
    process.env.OFFSEG_PROXY_JOBS = '3';
    assert.equal(localJobs(), 3);
    delete process.env.OFFSEG_PROXY_JOBS;
    assert.ok(localJobs() >= 1);
  } finally {
    if (prev === undefined) delete process.env.OFFSEG_PROXY_JOBS;
    else process.env.OFFSEG_PROXY_JOBS = prev;
  }
});

test('run_child --pretrain: anything but one mode is a usage error (exit 2) before any training', () => {
  const file = fileURLToPath(new URL('./run_child.ts', import.meta.url));
  for (const extra of [[], ['full', 'x'], ['weekly']]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file, '--pretrain', ...extra], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, `--pretrain ${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: run_child .*--pretrain <quick\|full>/);
  }
});
