/**
 * Type-check the notebooks against the library sources (part of `npm run typecheck`). The
 * notebooks import `./lib/…`, which in Jupyter is the compiled copy (notebooks/lib → dist/lib);
 * here each notebook's code is copied to .cache/notebook-check/ with those imports pointed at
 * lib/ itself, so the check needs no build and sees the current sources. Line numbers are kept,
 * and errors are printed against notebooks/NN-name.ts. The notebooks are paired first
 * (scripts/notebooks.ts), so an edit made in Jupyter is what gets checked.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { notebookSources, syncNotebooks } from './notebooks.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const nbDir = join(root, 'notebooks');
const sync = syncNotebooks(nbDir, { write: true, log: (l) => console.log(`notebooks: ${l}`) });
if (sync.conflicts.length) process.exit(1);

const out = join(root, '.cache', 'notebook-check');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const sources = notebookSources(nbDir);
for (const f of sources) {
  const text = readFileSync(f, 'utf8').replace(/(from\s+['"])\.\/lib\//g, '$1../../lib/');
  writeFileSync(join(out, basename(f)), text);
}
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'] }, null, 1),
);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(
  process.execPath,
  [tsc, '-p', join(out, 'tsconfig.json'), '--pretty', 'false'],
  {
    cwd: root,
    encoding: 'utf8',
  },
);
const report = `${r.stdout}${r.stderr}`.replaceAll('.cache/notebook-check/', 'notebooks/').trim();
if (report) console.error(report);
console.log(
  `typecheck-notebooks: ${sources.length} notebooks ${r.status === 0 ? 'type-check' : 'have type errors'}`,
);
process.exit(r.status ?? 1);
