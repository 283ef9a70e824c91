/**
 * `npm run reproduce`: execute every notebook headlessly with Jupyter (tslab kernel), in order,
 * then write REPORT.md from the notebooks' sections.
 *   1. compile lib/ for the notebooks (npm run build:notebooks);
 *   2. check the Debian packages (Jupyter's executor, the notebook server, Chromium): asks before
 *      installing them as root (or takes --yes), prints the command otherwise
 *      (scripts/system_setup.ts); write the tslab kernel spec into .cache/jupyter;
 *   3. pair each notebook's .ts and .ipynb (scripts/notebooks.ts: an edit made in Jupyter is
 *      carried to the .ts, never overwritten; both edited = stop and say so);
 *   4. execute each notebook (Jupyter nbclient, lib/report/jupyter.ts), echoing the progress
 *      lines its long cells write; executed copies in <results>/notebooks/;
 *   5. <results>/REPORT.md = header (the proxy protocol once) + <results>/report/*.md; check
 *      every expected artefact, every figure embedded with a working link, and every figure's
 *      title, axis titles and legend (lib/report/figure_check.ts);
 *   6. list the work and cache folders with their sizes and the clean command.
 * <results> is results/ for a full run and results/quick/ with --quick, so a quick run never
 * replaces the full-run results. `--skip-train` runs the proxy notebooks on cached runs only,
 * `--only 00,06` a subset (REPORT.md keeps the other sections already in <results>/report/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend, selectBackend } from '../lib/backend/select.ts';
import { repoRoot } from '../lib/paths.ts';
import { EXPECTED, artefactsOf, missingArtefacts } from '../lib/report/artefacts.ts';
import { figureProblems, inspectFigure } from '../lib/report/figure_check.ts';
import { closeBrowser, CHROMIUM } from '../lib/report/figure.ts';
import { buildNotebookLib, executeNotebook, writeKernelSpec } from '../lib/report/jupyter.ts';
import { TAGS_NOTE } from '../lib/report/paper_tables.ts';
import { missingEmbeds, reportLinkProblems, reportMarkdown } from '../lib/report/report_md.ts';
import { shownPath } from '../lib/report/paths.ts';
import { proxyProtocolMarkdown } from '../lib/train/proxy.ts';
import { describeGenerated } from './clean.ts';
import { notebookStems, syncNotebooks } from './notebooks.ts';
import { ensureSystemPackages } from './system_setup.ts';

const USAGE = `Usage: npm run reproduce [-- --quick] [-- --skip-train] [-- --only 00,06] [-- --yes]
  --quick       tiny schedules (OFFSEG_QUICK=1), results in results/quick/ (never results/)
  --skip-train  no proxy training (OFFSEG_SKIP_TRAIN=1): cached runs or "not run"
  --only LIST   execute only the notebooks whose number is in LIST (comma-separated)
  --yes         install missing Debian packages without asking (as root)`;

interface Args {
  quick: boolean;
  skipTrain: boolean;
  yes: boolean;
  only?: string[];
}

function parseArgs(argv: string[]): Args {
  const out: Args = { quick: false, skipTrain: false, yes: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--quick') out.quick = true;
    else if (a === '--skip-train') out.skipTrain = true;
    else if (a === '--yes' || a === '-y') out.yes = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!v || !/^\d{2}(,\d{2})*$/.test(v)) {
        console.error('reproduce: --only takes notebook numbers, e.g. --only 00,06');
        process.exit(2);
      }
      out.only = v.split(',');
    } else {
      console.error(`reproduce: unknown option ${a}\n${USAGE}`);
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

// 2. Debian packages and the kernel spec.
if (!(await ensureSystemPackages({ yes: args.yes }))) process.exit(2);
log(`tslab kernel spec: ${shownPath(writeKernelSpec())}`);

// 3. Each selected notebook's .ts and .ipynb paired.
const nbDir = join(root, 'notebooks');
const stems = notebookStems(nbDir);
const selected = args.only ? stems.filter((s) => args.only!.includes(s.slice(0, 2))) : stems;
if (!selected.length) {
  console.error(`reproduce: no notebook matches --only ${args.only!.join(',')}`);
  process.exit(2);
}
const paired = syncNotebooks(nbDir, {
  write: true,
  only: selected,
  log: (l) => log(`notebooks: ${l}`),
});
if (paired.conflicts.length) process.exit(1);
const unlisted = stems.filter((s) => !artefactsOf(s));
if (unlisted.length)
  log(`note: ${unlisted.join(', ')} not in lib/report/artefacts.ts (outputs not checked)`);

// 4. Execute in order, echoing the progress lines of long cells.
const results = join(root, 'results', ...(args.quick ? ['quick'] : []));
const sub = (...p: string[]) => {
  const d = join(results, ...p);
  mkdirSync(d, { recursive: true });
  return d;
};
const reportDir = sub('report');
if (!args.only)
  for (const f of readdirSync(reportDir)) if (f.endsWith('.md')) rmSync(join(reportDir, f));
const progressFile = join(sub('notebooks'), '.progress.log');
const env = {
  OFFSEG_QUICK: args.quick ? '1' : '0',
  OFFSEG_SKIP_TRAIN: args.skipTrain ? '1' : '0',
  OFFSEG_RESULTS_DIR: results,
  OFFSEG_PROGRESS_FILE: progressFile,
};
log(
  `results go to ${shownPath(results)}/${args.quick ? ' (quick mode: results/ is left alone)' : ''}`,
);
const elapsed: [string, number][] = [];
for (const stem of selected) {
  log(`executing notebooks/${stem}.ipynb${args.quick ? ' (quick)' : ''}`);
  writeFileSync(progressFile, '');
  let shown = 0;
  const echo = () => {
    const text = existsSync(progressFile) ? readFileSync(progressFile, 'utf8') : '';
    const lines = text.slice(shown).split('\n');
    const done = lines.pop() ?? ''; // an unfinished last line waits for the next poll
    shown = text.length - done.length;
    for (const l of lines) log(`${stem.slice(0, 2)} │ ${l}`);
  };
  const timer = setInterval(echo, 2000);
  const r = await executeNotebook(join(nbDir, `${stem}.ipynb`), {
    outDir: sub('notebooks'),
    env,
    cellTimeout: args.quick ? 1800 : 5400,
  });
  clearInterval(timer);
  echo();
  if (!r.ok) {
    console.error(`\nreproduce: notebook ${stem} failed after ${(r.ms / 1000).toFixed(0)} s:\n`);
    console.error(r.error);
    const errFile = join(sub('notebooks'), `${stem}.error.txt`);
    writeFileSync(errFile, r.error ?? '');
    console.error(`\n(saved to ${shownPath(errFile)})`);
    console.error(`\nRun it alone: OFFSEG_QUICK=1 npx tsx notebooks/${stem}.ts`);
    process.exit(1);
  }
  elapsed.push([stem, r.ms]);
  log(`${stem}: ${(r.ms / 1000).toFixed(1)} s`);
}
rmSync(progressFile, { force: true });

// 5. REPORT.md, then what it must contain.
const backend = await selectBackend({ log: false });
const git = (a: string[]) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout.trim();
const sectionFiles = readdirSync(reportDir)
  .filter((f) => f.endsWith('.md'))
  .sort();
const sections = sectionFiles.map((f) => readFileSync(join(reportDir, f), 'utf8'));
const report = reportMarkdown({
  command: `npm run reproduce${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
  date: new Date().toISOString(),
  commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
  dirty: Boolean(git(['status', '--porcelain', '--untracked-files=no'])),
  backend: describeBackend(backend),
  quick: args.quick,
  skipTrain: args.skipTrain,
  minutes: (Date.now() - t0) / 60000,
  // this run's notebooks with their time, the others whose executed copy is there (--only)
  executed: stems
    .filter((s) => existsSync(join(results, 'notebooks', `${s}.ipynb`)))
    .map((s) => [s, elapsed.find(([e]) => e === s)?.[1]] as const),
  sections,
  tags: TAGS_NOTE,
  protocol: proxyProtocolMarkdown(args.quick),
});
const reportFile = join(results, 'REPORT.md');
writeFileSync(reportFile, report);
log(`wrote ${shownPath(reportFile)} (${sections.length} sections)`);

const checked = EXPECTED.filter((a) => selected.includes(a.notebook));
const problems = [
  ...missingArtefacts(results, checked, { executed: true }).map((f) => `missing ${f}`),
  ...(args.only ? [] : EXPECTED.filter((a) => !stems.includes(a.notebook))).map(
    (a) => `missing notebook notebooks/${a.notebook}.ts`,
  ),
  ...reportLinkProblems(results, report).map((p) => `REPORT.md link ${p}`),
  ...checked.flatMap((a) => {
    const i = sectionFiles.indexOf(`${a.section}.md`);
    return i < 0
      ? []
      : missingEmbeds(sections[i], [...a.figures, ...a.images]).map(
          (f) => `section ${a.section} does not show figures/${f}.png`,
        );
  }),
];
if (existsSync(CHROMIUM)) {
  for (const f of checked.flatMap((a) => a.figures)) {
    const html = join(results, 'figures', `${f}.html`);
    if (!existsSync(html)) continue;
    for (const p of figureProblems(await inspectFigure(html))) problems.push(`figure ${f}: ${p}`);
  }
  await closeBrowser();
  log(`figures checked in Chromium: ${checked.flatMap((a) => a.figures).length}`);
} else log(`figures not checked: ${CHROMIUM} missing`);

// 6. What the runs left on disk.
log('work and cache folders (npm run clean removes the cheap ones; -- --all everything):');
for (const l of describeGenerated(root)) log(`  ${l}`);
if (problems.length) {
  console.error(`reproduce: incomplete:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
log(`done in ${((Date.now() - t0) / 60000).toFixed(1)} min; every expected artefact present`);
