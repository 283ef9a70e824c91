/**
 * The `offseg` CLI as a user runs it: exact parameter counts, `forward` reproducing the official
 * logits from an .npy, and one clear message (no stack trace, exit code 2) per user error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  useBackend,
  fixtureFile,
  expectParity,
  REPO_ROOT,
  PARITY_SKIP,
} from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { npyToTensor } from '../io/tensor_npy.ts';

await useBackend();

function offseg(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/offseg.mjs'), ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const TARGETS: [string, number, number][] = [
  ['offseg-t', 150, 6222176],
  ['offseg-b', 150, 12955400],
  ['offseg-l', 150, 26414008],
  ['offseg-t', 19, 6154711],
  ['offseg-b', 19, 12887935],
  ['offseg-l', 19, 26346543],
  ['offseg-t', 171, 6232991],
];

test('parameter counts of the built models equal the official ones exactly', () => {
  for (const [name, k, want] of TARGETS) {
    const m = createModel(name, { numClasses: k });
    assert.equal(m.numParams(), want, `${name} K=${k}`);
    m.dispose();
  }
});

test('offseg params --json prints {model, classes, params} and nothing else', () => {
  const r = offseg('params', '--model', 'offseg-b', '--classes', '19', '--json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), { model: 'offseg-b', classes: 19, params: 12887935 });
  assert.equal(r.err, '', 'nothing on stderr (no tfjs "install our node backend" banner)');
});

test(
  'offseg forward reproduces the official logits from an NCHW .npy',
  { skip: PARITY_SKIP },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offseg-fwd-'));
    const out = join(dir, 'logits.npy');
    const r = offseg(
      'forward',
      '--model',
      'offseg-t',
      '--classes',
      '150',
      '--checkpoint',
      fixtureFile('offseg_t', 'checkpoint.pth'),
      '--input',
      fixtureFile('offseg_t', 'input.npy'),
      '--output',
      out,
    );
    assert.equal(r.code, 0, r.err);
    await expectParity('offseg_t', 'logits', npyToTensor(readNpy(out)));
  },
);

test('user errors: one message, exit code 2, no stack trace', { skip: PARITY_SKIP }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'offseg-err-'));
  const notCkpt = join(dir, 'notes.pth');
  writeFileSync(notCkpt, 'hello');
  const badNpy = join(dir, 'bad.npy');
  writeNpy(badNpy, { dtype: '<f4', shape: [1, 3, 100, 64], data: new Float32Array(3 * 100 * 64) });
  const ck = fixtureFile('offseg_t', 'checkpoint.pth');
  const inp = fixtureFile('offseg_t', 'input.npy');
  const cases: [string[], RegExp][] = [
    [['params', '--model', 'offseg-q'], /Unknown model 'offseg-q'.*Valid models: offseg-t/],
    [['params', '--model', 'offseg-t', '--classes', 'abc'], /--classes must be a positive integer/],
    [['params', '--modle', 'offseg-t'], /Unknown option '--modle'/],
    [['nonsense'], /Unknown command 'nonsense'/],
    [
      [
        'forward',
        '--model',
        'offseg-t',
        '--classes',
        '150',
        '--checkpoint',
        join(dir, 'none.pth'),
        '--input',
        inp,
        '--output',
        join(dir, 'o.npy'),
      ],
      /checkpoint file not found/,
    ],
    [
      [
        'forward',
        '--model',
        'offseg-t',
        '--classes',
        '150',
        '--checkpoint',
        notCkpt,
        '--input',
        inp,
        '--output',
        join(dir, 'o.npy'),
      ],
      /not a PyTorch checkpoint|not a checkpoint/i,
    ],
    [
      [
        'forward',
        '--model',
        'offseg-t',
        '--classes',
        '19',
        '--checkpoint',
        ck,
        '--input',
        inp,
        '--output',
        join(dir, 'o.npy'),
      ],
      /decode_head\.offset_learning\.cls_repr.*\[1,\s*150,\s*256\].*\[1,\s*19,\s*256\]|\[1,\s*19,\s*256\].*\[1,\s*150,\s*256\]/,
    ],
    [
      [
        'forward',
        '--model',
        'offseg-t',
        '--classes',
        '150',
        '--checkpoint',
        ck,
        '--input',
        badNpy,
        '--output',
        join(dir, 'o.npy'),
      ],
      /divisible by 32/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = offseg(...args);
    assert.equal(r.code, 2, `${args.join(' ')} → exit ${r.code}\n${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.doesNotMatch(r.err, /\n\s+at /, `stack trace for ${args.join(' ')}`);
  }
});
