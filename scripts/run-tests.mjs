#!/usr/bin/env node
// Runs every *.test.ts under lib/ and test/ with Node's built-in runner (through tsx).
// --parity: only the parity tests (files named *.parity.test.ts), which print max/mean |Δ|.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const parityOnly = process.argv.includes('--parity');
const extra = process.argv.slice(2).filter((a) => a !== '--parity');
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
let files = [...walk('lib'), ...walk('test')].sort();
if (parityOnly) files = files.filter((f) => f.endsWith('.parity.test.ts'));
if (extra.length) files = files.filter((f) => extra.some((e) => f.includes(e)));
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
