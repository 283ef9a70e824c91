/** The plain (non-terminal) progress line: a resumed count's ETA uses only the steps since. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressBar } from './progress.ts';

test('a progress count resumed at 50 of 100 estimates from the steps done since', () => {
  let t = 0;
  const lines: string[] = [];
  const bar = progressBar(100, 'train', 'loss {loss}', {
    start: 50,
    tty: false,
    now: () => t,
    write: (l) => lines.push(l),
  });
  t = 10_000;
  bar.update(60, { loss: '0.5' }); // 10 steps in 10 s: 40 left → 40 s
  t = 12_000;
  bar.update(62); // within 5 s of the last line: not printed
  t = 20_000;
  bar.update(70, { loss: '0.4' });
  assert.deepEqual(lines, [
    'train 60/100 loss 0.5 | ETA 40s\n',
    'train 70/100 loss 0.4 | ETA 30s\n',
  ]);
  const fresh: string[] = [];
  t = 0;
  const b2 = progressBar(100, 'eval', '', {
    tty: false,
    now: () => t,
    write: (l) => fresh.push(l),
  });
  t = 10_000;
  b2.update(0);
  b2.update(100);
  assert.deepEqual(fresh, ['eval 0/100  | ETA ?\n', 'eval 100/100  | ETA 0s\n']);
});
