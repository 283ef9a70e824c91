/**
 * `npm run reproduce`: execute every notebook headlessly with Jupyter (tslab kernel), in order,
 * then write REPORT.md from the notebooks' sections.
 *   1. compile lib/ for the notebooks (npm run build:notebooks);
 *   2. check the Debian packages (Jupyter's executor, the notebook server, Chromium): asks before
 *      installing them as root (or takes --yes), prints the command otherwise
 *      (scripts/system_setup.ts); write the tslab kernel spec into .cache/jupyter;
 *   3. pair each notebook's .ts and .ipynb (scripts/notebooks.ts: an edit made in Jupyter is
 *      carried to the .ts, never overwritten; both edited = stop and say so); with
 *      `--redis URL [--store DIR]`, train the proxy study's runs on that queue's workers and
 *      collect them into the checkout first (lib/sweep/study_queue.ts), so the notebooks find
 *      them cached;
 *   4. execute each notebook (Jupyter nbclient, lib/report/jupyter.ts), echoing the progress
 *      lines its long cells write; executed copies in <results>/notebooks/; then build the demo
 *      page into dist/demo with this workspace's trained model and screenshot it to
 *      <results>/figures/demo.png (demo/shipped_model.ts);
 *   5. <results>/REPORT.md = header (the proxy protocol once) + <results>/report/*.md; check
 *      every expected artefact, every figure embedded with a working link, and every figure's
 *      title, axis titles and legend (lib/report/figure_check.ts);
 *   6. list the work and cache folders with their sizes and the clean command.
 * <results> is results/ for a full run and results/quick/ with --quick, so a quick run never
 * replaces the full-run results. `--skip-train` runs the proxy notebooks on cached runs only,
 * `--only 00,06,demo` a subset (REPORT.md keeps the other sections already in <results>/report/).
 * Flags: scripts/reproduce_args.ts.
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
import { proxyProtocolMarkdown } from '../lib/report/proxy_protocol.ts';
import { describeGenerated } from './clean.ts';
import { notebookStems, syncNotebooks } from './notebooks.ts';
import { ensureSystemPackages } from './system_setup.ts';
import { runProxyStudyOnQueue } from '../lib/sweep/study_queue.ts';
import { shipDemo } from '../demo/shipped_model.ts';
import {
  parseReproduceArgs,
  PROXY_NOTEBOOKS,
  shownCommand,
  shownRedis,
  USAGE,
  type ReproduceArgs,
} from './reproduce_args.ts';

let args: ReproduceArgs;
try {
  args = parseReproduceArgs(process.argv.slice(2));
} catch (e) {
  console.error(`reproduce: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const root = repoRoot();
const log = (s: string) => console.log(`[reproduce] ${s}`);
const t0 = Date.now();

const nbDir = join(root, 'notebooks');
const stems = notebookStems(nbDir);
const selected = args.only ? stems.filter((s) => args.only!.includes(s.slice(0, 2))) : stems;
const wantDemo = !args.only || args.only.includes('demo');
if (!selected.length && !wantDemo) {
  console.error(`reproduce: no notebook matches --only ${args.only!.join(',')}`);
  process.exit(2);
}

// 1. The compiled library the notebooks import.
if (selected.length) {
  log('compiling lib/ for the notebooks (npm run build:notebooks)');
  buildNotebookLib();
}

// 2. Debian packages and the kernel spec.
if (!(await ensureSystemPackages({ yes: args.yes }))) process.exit(2);
if (selected.length) log(`tslab kernel spec: ${shownPath(writeKernelSpec())}`);

// 3. Each selected notebook's .ts and .ipynb paired.
if (selected.length) {
  const paired = syncNotebooks(nbDir, {
    write: true,
    only: selected,
    log: (l) => log(`notebooks: ${l}`),
  });
  if (paired.conflicts.length) process.exit(1);
}
const unlisted = stems.filter((s) => !artefactsOf(s));
if (unlisted.length)
  log(`note: ${unlisted.join(', ')} not in lib/report/artefacts.ts (outputs not checked)`);

// 3b. --redis: the proxy study's runs trained by `offseg worker` processes and collected into
// the checkout, where the notebooks find them cached (same config hashes) and train nothing.
if (args.redis) {
  if (selected.some((s) => PROXY_NOTEBOOKS.includes(s.slice(0, 2)))) {
    log(`proxy study on the queue at ${shownRedis(args.redis)} (store ${args.store ?? root})`);
    try {
      const r = await runProxyStudyOnQueue({
        redis: args.redis,
        quick: args.quick,
        store: args.store,
        log: (l) => log(`queue: ${l}`),
      });
      log(`proxy study: ${r.runs} runs finished on the queue and collected`);
    } catch (e) {
      const fix = (e as { fix?: string }).fix;
      console.error(`reproduce: ${(e as Error).message}${fix ? `\n  fix: ${fix}` : ''}`);
      process.exit(1);
    }
  } else log('--redis: no proxy notebook selected (04, 05, 07, 08), nothing to queue');
}

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

// 4b. The demo page with this workspace's trained model, and its screenshot.
if (wantDemo) {
  try {
    await shipDemo({
      site: join(root, 'dist', 'demo'),
      png: join(sub('figures'), 'demo.png'),
      log: (l) => log(`demo: ${l}`),
    });
  } catch (e) {
    console.error(`reproduce: the demo page failed: ${(e as Error).message}`);
    process.exit(1);
  }
}
if (!selected.length) {
  log(`done in ${((Date.now() - t0) / 60000).toFixed(1)} min (demo only: REPORT.md unchanged)`);
  process.exit(0);
}

// 5. REPORT.md, then what it must contain.
const backend = await selectBackend({ log: false });
const git = (a: string[]) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout.trim();
const sectionFiles = readdirSync(reportDir)
  .filter((f) => f.endsWith('.md'))
  .sort();
const sections = sectionFiles.map((f) => readFileSync(join(reportDir, f), 'utf8'));
const report = reportMarkdown({
  command: shownCommand(process.argv.slice(2)),
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
