/**
 * The two-way pairing of notebooks/NN-name.ts and .ipynb: an edit on either side reaches the
 * other, outputs of unchanged cells survive, an edit on both sides is a conflict that writes
 * nothing until a side is taken, and the repository's notebooks are paired.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ipynbCells,
  parsePercent,
  toIpynb,
  toPercent,
  type Ipynb,
} from '../scripts/notebook_format.ts';
import { pairState, syncNotebooks } from '../scripts/notebooks.ts';

const tmp = mkdtempSync(join(tmpdir(), 'offseg-pair-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const SRC = `// %% [markdown]
// # Title
//
// text **measured**

// %%
const a = 1;

// %%
// quoted: comment in code
console.log(a);
`;

function fresh(name: string): { dir: string; ts: string; nb: string } {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  const ts = join(dir, '09-demo.ts');
  writeFileSync(ts, SRC);
  writeFileSync(join(dir, 'notes.ts'), '// not a notebook');
  syncNotebooks(dir, { write: true });
  return { dir, ts, nb: join(dir, '09-demo.ipynb') };
}
const readNb = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Ipynb;

test('percent format ↔ cells ↔ .ipynb (tslab kernel, stable ids, pairing record)', () => {
  const cells = parsePercent(SRC);
  assert.deepEqual(cells, [
    { kind: 'markdown', source: '# Title\n\ntext **measured**' },
    { kind: 'code', source: 'const a = 1;' },
    { kind: 'code', source: '// quoted: comment in code\nconsole.log(a);' },
  ]);
  assert.equal(toPercent(cells), SRC);
  const nb = JSON.parse(toIpynb(cells, '09-demo')) as Ipynb & {
    cells: { id: string; source: string[] }[];
  };
  assert.equal((nb.metadata.kernelspec as { name: string }).name, 'tslab');
  assert.deepEqual(
    nb.cells.map((c) => c.id),
    ['09-demo-00', '09-demo-01', '09-demo-02'],
  );
  assert.deepEqual(nb.cells[0].source, ['# Title\n', '\n', 'text **measured**']);
  assert.deepEqual(ipynbCells(nb), cells);
  assert.match(nb.metadata.offseg!.paired, /^[0-9a-f]{16}$/);
  assert.throws(
    () => toPercent([{ kind: 'code', source: 'x\n// %% oops' }]),
    /would start a new cell/,
  );
});

test('a .ts edit reaches the .ipynb, keeping the outputs of unchanged cells', () => {
  const { dir, ts, nb } = fresh('ts');
  assert.equal(pairState(dir, '09-demo').state, 'paired');
  const withOut = readNb(nb);
  withOut.cells[1].outputs = [{ output_type: 'stream', name: 'stdout', text: ['1\n'] }];
  writeFileSync(nb, JSON.stringify(withOut));
  writeFileSync(ts, SRC.replace('console.log(a);', 'console.log(a + 1);'));
  assert.equal(pairState(dir, '09-demo').state, 'ts-changed');
  const r = syncNotebooks(dir, { write: true });
  assert.deepEqual(r.wrote, [nb]);
  const after = readNb(nb);
  assert.deepEqual(after.cells[1].outputs, withOut.cells[1].outputs);
  assert.deepEqual(after.cells[2].source, ['// quoted: comment in code\n', 'console.log(a + 1);']);
  assert.equal(pairState(dir, '09-demo').state, 'paired');
});

test('an edit made in Jupyter reaches the .ts and is never overwritten', () => {
  const { dir, ts, nb } = fresh('nb');
  const edited = readNb(nb);
  edited.cells[1].source = ['const a = 2; // edited in Jupyter\n'];
  edited.cells.push({
    cell_type: 'code',
    id: 'new',
    metadata: {},
    source: ['a * 3'],
    outputs: [],
    execution_count: 4,
  });
  writeFileSync(nb, JSON.stringify(edited, null, 2)); // Jupyter's own layout
  assert.equal(pairState(dir, '09-demo').state, 'ipynb-changed');
  syncNotebooks(dir, { write: true });
  const text = readFileSync(ts, 'utf8');
  assert.match(text, /\/\/ %%\nconst a = 2; \/\/ edited in Jupyter\n/);
  assert.match(text, /\/\/ %%\na \* 3\n$/);
  assert.equal(readNb(nb).cells[3].execution_count, 4);
  assert.equal(pairState(dir, '09-demo').state, 'paired');
});

test('both sides edited: a conflict naming the cells, nothing written until a side is taken', () => {
  const { dir, ts, nb } = fresh('both');
  const edited = readNb(nb);
  edited.cells[1].source = ['const a = 3;'];
  writeFileSync(nb, JSON.stringify(edited));
  writeFileSync(ts, SRC.replace('const a = 1;', 'const a = 4;'));
  const [tsBefore, nbBefore] = [readFileSync(ts, 'utf8'), readFileSync(nb, 'utf8')];
  const lines: string[] = [];
  const r = syncNotebooks(dir, { write: true, log: (l) => lines.push(l) });
  assert.equal(r.conflicts.length, 1);
  assert.equal(r.wrote.length, 0);
  assert.match(lines[0], /both changed.*cell 1.*--take ipynb 09/);
  assert.equal(readFileSync(ts, 'utf8'), tsBefore);
  assert.equal(readFileSync(nb, 'utf8'), nbBefore);
  syncNotebooks(dir, { write: true, take: 'ipynb' });
  assert.match(readFileSync(ts, 'utf8'), /const a = 3;/);
  assert.equal(pairState(dir, '09-demo').state, 'paired');
});

test('a notebook started in Jupyter gets its .ts; the repository notebooks are paired', () => {
  const dir = mkdtempSync(join(tmp, 'new-'));
  writeFileSync(
    join(dir, '10-mine.ipynb'),
    toIpynb([{ kind: 'code', source: 'let x = 1;' }], '10-mine'),
  );
  const nb = readNb(join(dir, '10-mine.ipynb'));
  delete nb.metadata.offseg;
  writeFileSync(join(dir, '10-mine.ipynb'), JSON.stringify(nb));
  assert.equal(pairState(dir, '10-mine').state, 'new-ts');
  syncNotebooks(dir, { write: true });
  assert.equal(readFileSync(join(dir, '10-mine.ts'), 'utf8'), '// %%\nlet x = 1;\n');
  const repo = join(import.meta.dirname, '..', 'notebooks');
  const states = syncNotebooks(repo, { write: false }).pairs.map((p) => `${p.stem}: ${p.state}`);
  assert.ok(states.length >= 9 && existsSync(join(repo, '00-quickstart.ts')));
  assert.deepEqual(
    states.filter((s) => !s.endsWith(': paired')),
    [],
  );
});
