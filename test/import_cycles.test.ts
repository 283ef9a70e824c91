// The import graph of lib/, scripts/ and test/ has no cycle (type-only imports included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative, resolve } from 'node:path';
import { importCycles, importGraph, tsFiles } from '../scripts/import-cycles.ts';
import { REPO_ROOT } from './helpers/parity.ts';

/**
 * Known cycles awaiting a fix (none today); each entry must still be a cycle (a stale entry
 * fails), and no other cycle may appear.
 */
const PENDING = new Set<string>([]);

test('the detector finds a two-file and a three-file cycle and nothing in a chain', () => {
  const g = new Map<string, string[]>([
    ['a', ['b']],
    ['b', ['a', 'c']],
    ['c', ['d']],
    ['d', ['e']],
    ['e', ['c']],
    ['f', ['a']],
  ]);
  assert.deepEqual(importCycles(g), [
    ['c', 'd', 'e'],
    ['a', 'b'],
  ]);
  assert.deepEqual(
    importCycles(
      new Map([
        ['x', ['y']],
        ['y', []],
      ]),
    ),
    [],
  );
});

test('lib/, scripts/ and test/ import no file that imports them back', () => {
  const files = ['lib', 'scripts', 'test'].flatMap((d) => tsFiles(resolve(REPO_ROOT, d)));
  const cycles = importCycles(importGraph(files)).map((c) =>
    c.map((f) => relative(REPO_ROOT, f)).join(' ↔ '),
  );
  const fresh = cycles.filter((c) => !PENDING.has(c));
  assert.deepEqual(
    fresh,
    [],
    'import cycle(s): move the shared type or helper into a file of its own',
  );
  const gone = [...PENDING].filter((c) => !cycles.includes(c));
  assert.deepEqual(
    gone,
    [],
    'cycle(s) broken: remove them from PENDING in test/import_cycles.test.ts',
  );
});
