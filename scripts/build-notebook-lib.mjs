/**
 * Compile lib/ to dist/lib/ (ESM .js + .d.ts) for the tslab notebooks:
 * tslab type-checks cells with its own compiler options, which reject `.ts` import paths, so
 * notebooks import the compiled copy through the symlink notebooks/lib -> ../dist/lib.
 * `npm run build:notebooks`; `npm run reproduce` runs it first.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The workspace's TypeScript (5.9), not tslab's bundled 5.0 that owns node_modules/.bin/tsc.
const tsc = require.resolve('typescript/bin/tsc');
const final = 'dist/lib';
// Build beside the live copy and swap it in at the end: a notebook running meanwhile (or a
// failed build) never sees a half-written dist/lib.
const out = `dist/lib.tmp-${process.pid}`;
rmSync(out, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.notebooks.json', '--outDir', out], {
  stdio: 'inherit',
});
if (r.status !== 0) {
  rmSync(out, { recursive: true, force: true });
  console.error('build-notebook-lib: tsc failed (see above); dist/lib left as it was');
  process.exit(r.status ?? 1);
}

// Declarations keep the `.ts` paths of the sources; point them at the compiled `.js` files.
const rel = /((?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.d.ts'))
      writeFileSync(p, readFileSync(p, 'utf8').replace(rel, '$1.js$2'));
  }
}
walk(out);
// Data files read at run time next to the code.
cpSync('lib/data/metainfo.json', join(out, 'data/metainfo.json'));
const old = `dist/lib.old-${process.pid}`;
if (existsSync(final)) renameSync(final, old);
renameSync(out, final);
rmSync(old, { recursive: true, force: true });
console.log(`build-notebook-lib: compiled lib/ -> ${final}/`);
