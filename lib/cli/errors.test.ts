/**
 * Every user-error class prints its message and exactly one `fix:` line (the training-divergence
 * error keeps its fix apart from the message; the others embed it); other errors are not user
 * errors. Flags: a negative number after an option is its value, checked by the option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../config/compose.ts';
import { DatasetError } from '../data/errors.ts';
import { CheckpointError } from '../io/errors.ts';
import { TrainingDivergedError } from '../train/loop.ts';
import { RunDirError } from '../train/run_dir.ts';
import { intOption, parse } from './args.ts';
import { formatUserError, isUserError, UserError } from './errors.ts';

test('each user-error class prints its message and one fix line', () => {
  const cases: [Error, string][] = [
    [new UserError('bad flag', 2, 'drop it'), 'offseg: bad flag\n  fix: drop it\n'],
    [
      new CheckpointError('a.pth: 0 tensors', 'strip it'),
      'offseg: a.pth: 0 tensors\n  fix: strip it\n',
    ],
    [
      new ConfigError('c.json: bad key', 'rename it'),
      'offseg: c.json: bad key\n  fix: rename it\n',
    ],
    [
      new RunDirError('w holds a run', 'pass --resume'),
      'offseg: w holds a run\n  fix: pass --resume\n',
    ],
    [
      new DatasetError('missing-folder', 'no images/', 'check the root', 'root'),
      'offseg: no images/\n  fix: check the root\n',
    ],
    [
      new TrainingDivergedError(5, NaN, 'w/iter_3.ckpt'),
      'offseg: loss is NaN at iteration 5; last good checkpoint: w/iter_3.ckpt\n' +
        '  fix: lower the learning rate or check the data, then resume from the last good checkpoint\n',
    ],
    [new CheckpointError('x.pth is not a checkpoint'), 'offseg: x.pth is not a checkpoint\n'],
  ];
  for (const [e, text] of cases) {
    assert.ok(isUserError(e), e.name);
    assert.equal(formatUserError(e), text, e.name);
  }
  assert.equal(isUserError(new Error('internal')), false);
  assert.equal(isUserError(new TypeError('x is undefined')), false);
});

test('a negative number after an option is its value, and the option says what is wrong', () => {
  const opts = { classes: { type: 'string' }, json: { type: 'boolean' } } as const;
  const v = parse(['--classes', '-5', '--json'], opts);
  assert.deepEqual({ ...v }, { classes: '-5', json: true });
  assert.throws(
    () => intOption(v.classes, 'classes'),
    /--classes must be a positive integer, got '-5'/,
  );
  assert.throws(
    () => parse(['--classes'], opts),
    (e: Error) => e instanceof UserError && /argument missing/.test(e.message),
  );
});
