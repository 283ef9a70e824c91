/**
 * `offseg export`: the file it writes and what it prints, and one clear line per bad input with
 * no .onnx left behind. One export runs as a user runs it (a child process); the error cases call
 * the command in-process (main.ts turns the UserError into the line and exit code 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, useBackend } from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import { exportPth } from '../io/checkpoint.ts';
import { readOnnxMeta } from '../engine/onnxruntime.ts';
import { writeFileAtomic, OutputPathError } from '../export/write.ts';
import { exportCommand } from './export_command.ts';

await useBackend();

const dir = mkdtempSync(join(tmpdir(), 'offseg-export-'));

function offseg(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/offseg.mjs'), ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('offseg export writes the file and prints its size, opset and shapes', () => {
  const out = join(dir, 'segformer-b0.onnx');
  const r = offseg(
    'export',
    '--model',
    'segformer-b0',
    '--classes',
    '19',
    '--size',
    '64x96',
    '--output',
    out,
  );
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /wrote .*segformer-b0\.onnx \(\d+\.\d MB\): opset 17, input 'input' float32 \[1, 3, 64, 96\] → output 'logits' float32 \[1, 19, 16, 24\]/,
  );
  const meta = readOnnxMeta(readFileSync(out), out);
  assert.equal(meta.model, 'segformer-b0');
  assert.equal(meta.numClasses, 19);
  assert.deepEqual(meta.input.shape, [1, 3, 64, 96]);
});

test('a bad input is one line with exit code 2 and leaves no file', () => {
  const out = join(dir, 'bad.onnx');
  const r = offseg('export', '--model', 'segformer-b0', '--size', '64x100', '--output', out);
  assert.equal(r.code, 2);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /64x100: H and W must be multiples of 32/);
  assert.equal(existsSync(out), false);
});

/** Run the command in-process and return the message it fails with. */
async function failure(...argv: string[]): Promise<string> {
  try {
    await exportCommand.run(argv);
  } catch (e) {
    assert.ok(!(e as Error).message.includes('\n    at '), 'no stack trace in the message');
    return (e as Error).message;
  }
  throw new Error(`export ${argv.join(' ')} succeeded`);
}

test('unknown model, bad path, checkpoint that does not fit: each says what is wrong', async () => {
  const out = join(dir, 'x.onnx');
  assert.match(
    await failure('--model', 'segfromer-b0', '--output', out),
    /Unknown model 'segfromer-b0'.*Did you mean segformer-b0/,
  );
  assert.match(
    await failure('--model', 'segformer-b0', '--output', join(dir, 'no/such/x.onnx')),
    /cannot write .*: folder .* does not exist/,
  );
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  assert.match(
    await failure('--model', 'segformer-b0', '--output', join(file, 'x.onnx')),
    /is not a folder/,
  );
  const ckpt = join(dir, 'segnext.pth');
  const other = createModel('segnext-t', { numClasses: 19 });
  exportPth(other, ckpt);
  other.dispose();
  assert.match(
    await failure(
      '--model',
      'segformer-b0',
      '--classes',
      '19',
      '--checkpoint',
      ckpt,
      '--output',
      out,
    ),
    /segnext\.pth/,
  );
  assert.equal(existsSync(out), false);
});

test('the atomic writer leaves neither a partial file nor its temporary', () => {
  const target = join(dir, 'occupied');
  mkdirSync(join(target, 'inside'), { recursive: true }); // renaming a file over it fails
  assert.throws(() => writeFileAtomic(target, new Uint8Array(10)), OutputPathError);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
  const ok = join(dir, 'ok.bin');
  writeFileAtomic(ok, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(ok)], [1, 2, 3]);
});
