/** The one atomic writer: content, chunk order, text, and failures that leave nothing behind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicTempPath, writeAtomic } from './atomic_write.ts';

const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('bytes, chunks in order, and UTF-8 text replace the file whole', () => {
  const f = join(dir, 'a.bin');
  writeFileSync(f, 'old contents that are longer');
  writeAtomic(f, [new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3])]);
  assert.deepEqual([...readFileSync(f)], [1, 2, 3]);
  writeAtomic(f, new Uint8Array([9]));
  assert.deepEqual([...readFileSync(f)], [9]);
  writeAtomic(f, 'héllo\n');
  assert.equal(readFileSync(f, 'utf8'), 'héllo\n');
  assert.deepEqual(readdirSync(dir), ['a.bin']); // no temporary file left
});

test('a failed rename leaves the target unchanged and removes the temporary file', () => {
  const sub = join(dir, 'case2');
  mkdirSync(join(sub, 'target'), { recursive: true }); // a folder where the file should go
  writeFileSync(join(sub, 'target', 'keep'), 'x');
  assert.throws(() => writeAtomic(join(sub, 'target'), 'data'), /EISDIR|ENOTEMPTY|EEXIST|EPERM/);
  assert.deepEqual(readdirSync(sub).sort(), ['target']);
  assert.equal(readFileSync(join(sub, 'target', 'keep'), 'utf8'), 'x');
});

test('a missing folder is the file system error, and the temporary name is hidden and local', () => {
  assert.throws(() => writeAtomic(join(dir, 'nope', 'f.json'), '{}'), /ENOENT/);
  const t = atomicTempPath('/x/y/z.pth');
  assert.match(t, /^\/x\/y\/\.z\.pth\.tmp-/);
});
