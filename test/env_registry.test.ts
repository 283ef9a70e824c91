// Every OFFSEG_* environment variable is documented in lib/env.ts and docs/environment.md, and
// library code reads them only through lib/env.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { OFFSEG_ENV, OFFSEG_ENV_PATTERNS, envPatterned, envPositiveInt } from '../lib/env.ts';
import { tsFiles } from '../scripts/import-cycles.ts';
import { REPO_ROOT } from './helpers/parity.ts';

const READ = /(?:process\.env\.|process\.env\[['"`]|environ\.get\(['"])(OFFSEG_[A-Z0-9_]+)/g;

function reads(files: string[]): { file: string; name: string }[] {
  const out: { file: string; name: string }[] = [];
  for (const f of files)
    for (const m of readFileSync(f, 'utf8').matchAll(READ))
      out.push({ file: relative(REPO_ROOT, f), name: m[1] });
  return out;
}

const all = (dir: string): string[] => tsFiles(join(REPO_ROOT, dir));
/** The notebooks' .ts sides (notebooks/lib is a link to the compiled library: not walked). */
const notebooks = (): string[] =>
  readdirSync(join(REPO_ROOT, 'notebooks'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(REPO_ROOT, 'notebooks', f));

test('library and scripts read OFFSEG_* only through lib/env.ts', () => {
  const direct = reads([...all('lib'), ...all('scripts')].filter((f) => !f.endsWith('.test.ts')))
    .filter((r) => r.file !== 'lib/env.ts')
    .map((r) => `${r.file}: ${r.name}`);
  assert.deepEqual(direct, [], 'use envString/envFlag/envPositiveInt from lib/env.ts');
});

test('every variable read anywhere is in the registry, and docs/environment.md lists each', () => {
  const py = join(REPO_ROOT, 'test', 'fixtures', 'io', 'make_fixtures.py');
  const files = [...all('lib'), ...all('scripts'), ...all('test'), ...notebooks(), py];
  const unknown = reads(files)
    .filter((r) => !(r.name in OFFSEG_ENV) && !r.name.startsWith('OFFSEG_CKPT_'))
    .map((r) => `${r.file}: ${r.name}`);
  assert.deepEqual(unknown, [], 'add the variable to OFFSEG_ENV in lib/env.ts');
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'environment.md'), 'utf8');
  const missing = [...Object.keys(OFFSEG_ENV), ...Object.keys(OFFSEG_ENV_PATTERNS)].filter(
    (k) => !doc.includes(`\`${k}\``),
  );
  assert.deepEqual(missing, [], 'document these in docs/environment.md');
});

test('readers: positive integers only; an undocumented family is an error', () => {
  const prev = process.env.OFFSEG_THREADS;
  try {
    for (const [v, want] of [
      ['3', 3],
      ['0', undefined],
      ['-2', undefined],
      ['x', undefined],
      ['', undefined],
    ] as const) {
      process.env.OFFSEG_THREADS = v;
      assert.equal(envPositiveInt('OFFSEG_THREADS'), want, v);
    }
  } finally {
    if (prev === undefined) delete process.env.OFFSEG_THREADS;
    else process.env.OFFSEG_THREADS = prev;
  }
  assert.throws(() => envPatterned('OFFSEG_SOMETHING'), /not a documented OFFSEG_\* variable/);
  assert.equal(envPatterned('OFFSEG_CKPT_NO_SUCH_MODEL_ADE20K'), undefined);
});
