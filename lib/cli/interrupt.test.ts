/**
 * SIGINT / SIGTERM during `offseg train` (delivered here with process.emit): before training a
 * signal exits at once saying nothing was written; during training the first one aborts the loop
 * (it checkpoints and returns), the second exits at once naming the iteration and checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleInterrupts } from './interrupt.ts';

test('a signal exits before training, stops training cleanly, and forces an exit when repeated', () => {
  const lines: string[] = [];
  const exits: number[] = [];
  const status = { iteration: 0, lastCheckpoint: undefined as string | undefined };
  const h = handleInterrupts({
    workDir: 'work_dirs/x',
    status: () => status,
    write: (l) => lines.push(l.trim()),
    exit: (c) => exits.push(c),
  });
  try {
    process.emit('SIGINT');
    assert.deepEqual(exits, [130]);
    assert.equal(
      lines.pop(),
      '[offseg] SIGINT before training started: nothing was written to work_dirs/x',
    );
    assert.equal(h.signal.aborted, false);

    h.trainingStarted();
    process.emit('SIGTERM');
    assert.deepEqual([h.signal.aborted, h.signal.reason, exits], [true, 'SIGTERM', [130]]);
    assert.match(
      lines.pop()!,
      /^\[offseg\] SIGTERM: stopping after the current iteration and saving a checkpoint/,
    );

    Object.assign(status, { iteration: 37, lastCheckpoint: 'work_dirs/x/iter_20.ckpt' });
    process.emit('SIGINT');
    assert.deepEqual(exits, [130, 130]);
    assert.equal(
      lines.pop(),
      '[offseg] SIGINT again: quitting now at iteration 37; last checkpoint work_dirs/x/iter_20.ckpt',
    );
  } finally {
    h.dispose();
  }
  assert.equal(process.listenerCount('SIGINT'), 0);
});
