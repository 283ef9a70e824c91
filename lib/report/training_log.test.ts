/**
 * Training logs as a researcher looks at them: log.jsonl parsed (a partial last line skipped),
 * the curves figure (one point per logged iteration), `offseg plot-log` writing HTML + PNG with
 * its refusals, progress lines with an ETA that cached steps do not distort, and the run
 * watcher reporting what a run appends to its log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM } from './figure.ts';
import { CellProgress, formatDuration } from './progress.ts';
import { watchTrainingRuns } from './run_watch.ts';
import { trainingCurvesFigure } from './training_curves.ts';
import { parseTrainingLog, readTrainingLog } from './training_log.ts';
import { plotLogCommand } from '../cli/plot_log_command.ts';

const tmp = mkdtempSync(join(tmpdir(), 'offseg-log-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const line = (o: object) => JSON.stringify({ time: '2026-01-01T00:00:00Z', ...o }) + '\n';
function makeRun(name: string, iterations: number, logInterval: number): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ schedule: { iterations }, runtime: { logInterval } }),
  );
  let text = '';
  for (let it = logInterval; it <= iterations; it += logInterval)
    text += line({
      event: 'train',
      iteration: it,
      loss: 3 / it,
      lr: 1e-3 * (1 - it / iterations),
      itPerSec: 2,
    });
  text += line({ event: 'eval', iteration: iterations, mIoU: 12.5, aAcc: 60 });
  writeFileSync(join(dir, 'log.jsonl'), text + '{"event":"train","iter');
  return dir;
}

test('log.jsonl: train/eval/resume events; a partial last line is skipped', () => {
  const p = parseTrainingLog(
    line({ event: 'train', iteration: 10, loss: 1, lr: 0.1, itPerSec: 3 }) +
      line({ event: 'resume', iteration: 10, from: 'x' }) +
      line({ event: 'checkpoint', iteration: 10 }) +
      line({ event: 'eval', iteration: 20, mIoU: 5, aAcc: 50 }) +
      '{"event":"tra',
  );
  assert.deepEqual(p.train, [{ iteration: 10, loss: 1, lr: 0.1, itPerSec: 3 }]);
  assert.deepEqual(p.eval, [{ iteration: 20, mIoU: 5, aAcc: 50 }]);
  assert.deepEqual(p.resumedAt, [10]);
  const log = readTrainingLog(makeRun('run-a', 20, 10));
  assert.equal(log.train.length, 2);
  assert.equal(log.logInterval, 10);
  assert.equal(log.iterations, 20);
  assert.throws(() => readTrainingLog(tmp), /has no log.jsonl/);
});

test('curves: one point per logged iteration in loss and lr, eval mIoU, labelled axes', () => {
  const a = readTrainingLog(makeRun('run-b', 40, 10));
  const b = readTrainingLog(makeRun('run-c', 40, 20));
  const fig = trainingCurvesFigure([a, b]);
  const traces = fig.data as {
    name: string;
    x: number[];
    y: number[];
    yaxis: string;
    showlegend?: boolean;
  }[];
  assert.equal(traces.length, 6);
  assert.deepEqual(traces[0].x, [10, 20, 30, 40]);
  assert.deepEqual(traces[3].x, [20, 40]);
  assert.deepEqual(traces[2].y, [12.5]);
  assert.deepEqual(
    traces.filter((t) => t.showlegend !== false).map((t) => t.name),
    ['run-b', 'run-c'],
  );
  const layout = fig.layout as Record<string, { title?: { text: string } }>;
  assert.equal(layout.yaxis.title?.text, 'training loss');
  assert.equal(layout.yaxis2.title?.text, 'learning rate');
  assert.equal(layout.yaxis3.title?.text, 'val mIoU (%)');
  const title = (fig.layout as { title: { text: string } }).title.text;
  assert.match(title, /every 10 \/ 20 iterations/);
});

test('offseg plot-log writes RUN_DIR/curves.{html,png}; refuses a folder without a log', async () => {
  const dir = makeRun('run-d', 30, 10);
  const out: string[] = [];
  const log = console.log;
  console.log = (s: string) => out.push(s);
  try {
    assert.equal(await plotLogCommand.run([dir]), 0);
  } finally {
    console.log = log;
  }
  assert.match(
    out[0],
    /run-d: 3 loss\/lr points \(every 10 iterations\) up to iteration 30\/30, 1 val mIoU/,
  );
  assert.ok(existsSync(join(dir, 'curves.html')));
  assert.equal(existsSync(join(dir, 'curves.png')), existsSync(CHROMIUM));
  await assert.rejects(plotLogCommand.run([tmp]), /has no log.jsonl/);
  await assert.rejects(plotLogCommand.run([dir, dir]), /no --out/);
  await assert.rejects(plotLogCommand.run([]), /at least one run folder/);
});

test('progress: i/n, elapsed and an ETA from the steps that did work', () => {
  let t = 0;
  const lines: string[] = [];
  const p = new CellProgress('proxy runs', 4, { now: () => t, write: (l) => lines.push(l) });
  p.step('cached'); // no time: says nothing about the others
  t = 60_000;
  p.step('a');
  t = 180_000;
  p.step('b');
  t = 240_000;
  p.step('c');
  assert.equal(lines[0], 'proxy runs: 1/4 (cached) — 0 s elapsed, ETA ?');
  assert.equal(lines[1], 'proxy runs: 2/4 (a) — 1 min 00 s elapsed, ETA 2 min 00 s');
  assert.equal(lines[2], 'proxy runs: 3/4 (b) — 3 min 00 s elapsed, ETA 1 min 30 s');
  assert.equal(lines[3], 'proxy runs: 4/4 (c) — 4 min 00 s elapsed, done');
  assert.equal(formatDuration(3725), '1 h 02 min');
});

test('run watcher: reports iterations appended to a run log, not what was there before', async () => {
  const dir = join(tmp, 'watch');
  const old = makeRun(join('watch', 'old'), 20, 10);
  const lines: string[] = [];
  const w = watchTrainingRuns(dir, { intervalMs: 20, everyMs: 0, write: (l) => lines.push(l) });
  const fresh = join(dir, 'fresh');
  mkdirSync(fresh);
  writeFileSync(join(fresh, 'config.json'), JSON.stringify({ schedule: { iterations: 100 } }));
  writeFileSync(
    join(fresh, 'log.jsonl'),
    line({ event: 'train', iteration: 50, loss: 0.5, lr: 1, itPerSec: 10 }),
  );
  appendFileSync(
    join(old, 'log.jsonl'),
    '\n' + line({ event: 'train', iteration: 15, loss: 0.25, lr: 1, itPerSec: 2 }),
  );
  await new Promise((r) => setTimeout(r, 120));
  w.stop();
  assert.deepEqual(lines.sort(), [
    '  fresh: iteration 50/100, loss 0.500, ETA 5 s',
    '  old: iteration 15/20, loss 0.250, ETA 3 s',
  ]);
});
