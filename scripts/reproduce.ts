/**
 * `npm run reproduce`: execute every notebook headlessly with Jupyter (tslab kernel), in order,
 * then write results/REPORT.md from the notebooks' sections (issue #6 §3).
 *   1. compile lib/ for the notebooks (npm run build:notebooks);
 *   2. check Jupyter + Chromium (install them from apt when root, else print the command);
 *      write the tslab kernel spec into .cache/jupyter;
 *   3. check that every notebooks/NN-*.ipynb matches its .ts source;
 *   4. execute each notebook headlessly (Jupyter nbclient, what nbconvert --execute runs; see
 *      lib/report/jupyter.ts), executed copies in results/notebooks/;
 *   5. results/REPORT.md = header + results/report/*.md, then check every expected artefact
 *      (lib/report/artefacts.ts).
 * `--quick` runs the notebooks with OFFSEG_QUICK=1 (tiny schedules), `--skip-train` with
 * OFFSEG_SKIP_TRAIN=1 (proxy notebooks use cached runs or say "not run"), `--only 00,06` runs
 * a subset (REPORT.md keeps the other sections already in results/report/).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describeBackend, selectBackend } from '../lib/backend/select.ts';
import { repoRoot } from '../lib/paths.ts';
import { EXPECTED, artefactsOf, missingArtefacts } from '../lib/report/artefacts.ts';
import {
  APT_COMMAND,
  buildNotebookLib,
  executeNotebook,
  jupyterMissing,
  writeKernelSpec,
} from '../lib/report/jupyter.ts';
import { resultsDir } from '../lib/report/paths.ts';
import { TAGS_NOTE } from '../lib/report/paper_tables.ts';
import { notebookSources, syncNotebooks } from './notebooks.ts';

const USAGE = `Usage: npm run reproduce [-- --quick] [-- --skip-train] [-- --only 00,06]
  --quick       tiny schedules (OFFSEG_QUICK=1), under 10 minutes
  --skip-train  no proxy training (OFFSEG_SKIP_TRAIN=1): cached runs or "not run"
  --only LIST   execute only the notebooks whose number is in LIST (comma-separated)`;

function parseArgs(argv: string[]): { quick: boolean; skipTrain: boolean; only?: string[] } {
  const out: { quick: boolean; skipTrain: boolean; only?: string[] } = {
    quick: false,
    skipTrain: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--quick') out.quick = true;
    else if (a === '--skip-train') out.skipTrain = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!v || !/^\d{2}(,\d{2})*$/.test(v)) {
        console.error('reproduce: --only takes notebook numbers, e.g. --only 00,06');
        process.exit(2);
      }
      out.only = v.split(',');
    } else {
      console.error(
        `reproduce: unknown option ${a} (valid: --quick, --skip-train, --only, --help)`,
      );
      process.exit(2);
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const root = repoRoot();
const log = (s: string) => console.log(`[reproduce] ${s}`);
const t0 = Date.now();

// 1. The compiled library the notebooks import.
log('compiling lib/ for the notebooks (npm run build:notebooks)');
buildNotebookLib();

// 2. Jupyter, Chromium and the kernel spec.
let missing = jupyterMissing();
if (missing.length) {
  if (process.getuid?.() === 0) {
    log(`missing ${missing.join(', ')}: ${APT_COMMAND}`);
    const apt = (a: string[]) => spawnSync('apt-get', a, { stdio: 'inherit' }).status === 0;
    if (!apt(APT_COMMAND.split(' ').slice(1))) {
      apt(['update']);
      apt(APT_COMMAND.split(' ').slice(1));
    }
    missing = jupyterMissing();
  }
  if (missing.length) {
    console.error(
      `reproduce: missing ${missing.join(', ')}. Install them (as root) with:\n  ${APT_COMMAND}`,
    );
    process.exit(2);
  }
}
log(`tslab kernel spec: ${writeKernelSpec()}`);

// 3. Notebooks in sync with their sources (the selected ones under --only).
const nbDir = join(root, 'notebooks');
const stems = notebookSources(nbDir).map((f) => basename(f, '.ts'));
const selected = args.only ? stems.filter((s) => args.only!.includes(s.slice(0, 2))) : stems;
if (!selected.length) {
  console.error(`reproduce: no notebook matches --only ${args.only!.join(',')}`);
  process.exit(2);
}
const stale = syncNotebooks(nbDir, false).stale.filter((f) =>
  selected.includes(basename(f, '.ipynb')),
);
if (stale.length) {
  console.error(
    `reproduce: ${stale.map((s) => basename(s)).join(', ')} out of date with the .ts source; run: npx tsx scripts/notebooks.ts sync`,
  );
  process.exit(1);
}
const unlisted = stems.filter((s) => !artefactsOf(s));
if (unlisted.length)
  log(`note: ${unlisted.join(', ')} not in lib/report/artefacts.ts (outputs not checked)`);
const absent = EXPECTED.map((a) => a.notebook).filter((n) => !stems.includes(n));

// 4. Execute in order.
const results = resultsDir();
const reportDir = resultsDir('report');
if (!args.only)
  for (const f of readdirSync(reportDir)) if (f.endsWith('.md')) rmSync(join(reportDir, f));
const env = {
  OFFSEG_QUICK: args.quick ? '1' : '0',
  OFFSEG_SKIP_TRAIN: args.skipTrain ? '1' : '0',
  OFFSEG_RESULTS_DIR: results,
};
const elapsed: [string, number][] = [];
for (const stem of selected) {
  log(`executing notebooks/${stem}.ipynb${args.quick ? ' (quick)' : ''}`);
  const r = await executeNotebook(join(nbDir, `${stem}.ipynb`), {
    outDir: resultsDir('notebooks'),
    env,
    cellTimeout: args.quick ? 1800 : 5400,
  });
  if (!r.ok) {
    console.error(`\nreproduce: notebook ${stem} failed after ${(r.ms / 1000).toFixed(0)} s:\n`);
    console.error(r.error);
    const errFile = join(resultsDir('notebooks'), `${stem}.error.txt`);
    writeFileSync(errFile, r.error ?? '');
    console.error(`\n(saved to ${errFile})`);
    console.error(`\nRun it alone: OFFSEG_QUICK=1 node --import tsx notebooks/${stem}.ts`);
    process.exit(1);
  }
  elapsed.push([stem, r.ms]);
  log(`${stem}: ${(r.ms / 1000).toFixed(1)} s`);
}

// 5. REPORT.md and the artefact check.
const backend = await selectBackend();
const git = (a: string[]) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout.trim();
const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (with local changes)' : '';
const sections = readdirSync(reportDir)
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => readFileSync(join(reportDir, f), 'utf8').trim());
const cmd = `npm run reproduce${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
const report = [
  '# OffSeg-ts reproduction report',
  '',
  `Generated by \`${cmd}\` on ${new Date().toISOString()}, commit ${commit}${dirty}, backend ${describeBackend(backend)}, ${args.quick ? '**quick** run (tiny schedules: proxy numbers are smoke tests)' : 'full run'}${args.skipTrain ? ', proxy training skipped' : ''}; ${((Date.now() - t0) / 60000).toFixed(1)} min in all.`,
  '',
  TAGS_NOTE,
  '',
  'Model parity: `npm run test:parity` compares OffSeg-T and its modules with the official implementation (see README).',
  '',
  '| notebook | executed in (s) |',
  '|---|---|',
  ...elapsed.map(([s, ms]) => `| [${s}](notebooks/${s}.ipynb) | ${(ms / 1000).toFixed(1)} |`),
  '',
  ...sections.flatMap((s) => [s, '']),
].join('\n');
writeFileSync(join(results, 'REPORT.md'), report);
log(`wrote ${join(results, 'REPORT.md')} (${sections.length} sections)`);

const checked = EXPECTED.filter((a) => selected.includes(a.notebook));
const lost = missingArtefacts(results, checked, { executed: true });
const problems = [
  ...lost.map((f) => `missing results/${f}`),
  ...(args.only ? [] : absent.map((n) => `missing notebook notebooks/${n}.ts`)),
];
if (problems.length) {
  console.error(`reproduce: incomplete:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
log(`done in ${((Date.now() - t0) / 60000).toFixed(1)} min; every expected artefact present`);
