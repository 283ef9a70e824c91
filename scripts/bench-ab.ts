/**
 * Before/after timing of training steps in one run, for a machine whose load other jobs set:
 *
 *   npx tsx scripts/bench-ab.ts --before <git rev> [--after <git rev>] [--rounds 2] [--runs 3] [--warmup 1]
 *     [--threads 2,1] [--cases proxy,offseg-t-128] [--out results/bench]
 *
 * The tree of `--before` is exported with `git archive` into a temporary directory (its
 * node_modules is this checkout's), and so is `--after`'s if given (else the working tree, with
 * whatever is uncommitted); each case runs alternately from the two trees, one child process per measurement (`scripts/bench.ts --case`, as `npm run
 * bench` does), `--rounds` times. Slow-downs from other jobs hit both sides alike, so the
 * ratio of medians is the figure to read; the 1-minute load average is recorded before every
 * child. Writes results/bench/ab-<timestamp>.{json,md}.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROXY_STEP, type BenchCase } from '../lib/bench/cases.ts';
import { spawnCase } from '../lib/bench/child.ts';
import { repoRoot } from '../lib/paths.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    cases: { type: 'string', default: 'proxy' },
    out: { type: 'string', default: 'results/bench' },
  },
});
if (!values.before) {
  throw new Error('scripts/bench-ab.ts: --before <git rev> is required (e.g. --before HEAD~3)');
}
const root = repoRoot();
const rounds = Number(values.rounds);
const common = { warmup: Number(values.warmup), runs: Number(values.runs), seed: 0, noFlops: true };

/** Named cases: the proxy study's step and the OffSeg-T steps of docs/training_speed.md. */
const CASES: Record<string, Omit<BenchCase, 'backend' | 'warmup' | 'runs' | 'seed'>> = {
  proxy: { ...PROXY_STEP },
  'offseg-t-infer': { model: 'offseg-t', task: 'infer', size: 512, batch: 1, numClasses: 150 },
  'segformer-b0-infer': {
    model: 'segformer-b0',
    task: 'infer',
    size: 512,
    batch: 1,
    numClasses: 150,
  },
  'offseg-t-128': { model: 'offseg-t', task: 'train', size: 128, batch: 2, numClasses: 150 },
  'offseg-t-256': {
    model: 'offseg-t',
    task: 'train',
    size: 256,
    batch: 2,
    numClasses: 150,
    gradCheckpoint: true,
  },
};

function exportTree(rev: string): { dir: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--short', rev], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  const dir = mkdtempSync(join(os.tmpdir(), `bench-ab-${commit}-`));
  const tar = execFileSync(
    'git',
    ['archive', commit, 'lib', 'scripts', 'test', 'package.json', 'tsconfig.json'],
    {
      cwd: root,
      maxBuffer: 1 << 30,
    },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return { dir, commit };
}

interface Sample {
  case: string;
  threads: number;
  side: 'before' | 'after';
  round: number;
  load1: number;
  times_ms: number[] | null;
  median_ms: number | null;
  error?: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const before = exportTree(values.before);
const after = values.after ? exportTree(values.after) : undefined;
const afterRoot = after?.dir ?? root;
const afterCommit =
  after?.commit ??
  execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const dirty =
  !after &&
  execFileSync('git', ['status', '--porcelain', 'lib'], { cwd: root, encoding: 'utf8' }).trim() !==
    '';
const samples: Sample[] = [];
const log = (s: string) => process.stderr.write(`[bench-ab] ${s}\n`);
try {
  for (const name of values.cases.split(',')) {
    const spec = CASES[name];
    if (!spec)
      throw new Error(
        `scripts/bench-ab.ts: unknown case '${name}' (valid: ${Object.keys(CASES).join(', ')})`,
      );
    for (const threads of values.threads.split(',').map(Number)) {
      for (let round = 0; round < rounds; round++) {
        // Alternate which side goes first so a load trend does not favour one side.
        const order: ('before' | 'after')[] = round % 2 ? ['after', 'before'] : ['before', 'after'];
        for (const side of order) {
          const script = join(side === 'before' ? before.dir : afterRoot, 'scripts', 'bench.ts');
          const c: BenchCase = { ...spec, ...common, backend: 'wasm', threads };
          const load1 = os.loadavg()[0];
          const o = await spawnCase(c, { script, timeoutS: 1800 });
          const s: Sample = {
            case: name,
            threads,
            side,
            round,
            load1,
            times_ms: o.status === 'ok' ? o.measurement.times_ms : null,
            median_ms: o.status === 'ok' ? o.measurement.median_ms : null,
            ...(o.status === 'failed' ? { error: o.error } : {}),
          };
          samples.push(s);
          log(
            `${name} t${threads} ${side} r${round}: ${s.median_ms?.toFixed(0) ?? s.error ?? 'timeout'} ms (load ${load1.toFixed(2)})`,
          );
        }
      }
    }
  }
} finally {
  rmSync(before.dir, { recursive: true, force: true });
  if (after) rmSync(after.dir, { recursive: true, force: true });
}

const rows: string[] = [];
const summary: Record<string, unknown>[] = [];
for (const name of values.cases.split(',')) {
  for (const threads of values.threads.split(',').map(Number)) {
    const pick = (side: string) =>
      samples
        .filter((s) => s.case === name && s.threads === threads && s.side === side && s.times_ms)
        .flatMap((s) => s.times_ms ?? []);
    const b = pick('before');
    const a = pick('after');
    const loads = samples
      .filter((s) => s.case === name && s.threads === threads)
      .map((s) => s.load1);
    const mb = b.length ? median(b) : null;
    const ma = a.length ? median(a) : null;
    const ratio = mb && ma ? mb / ma : null;
    summary.push({
      case: name,
      threads,
      before_ms: mb,
      after_ms: ma,
      speedup: ratio,
      load1: loads,
    });
    rows.push(
      `| ${name} | ${threads} | ${mb?.toFixed(0) ?? '—'} | ${ma?.toFixed(0) ?? '—'} | ${ratio ? `${ratio.toFixed(2)}×` : '—'} | ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} |`,
    );
  }
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19) + 'Z';
const outDir = join(root, values.out);
mkdirSync(outDir, { recursive: true });
const head = `before ${before.commit}, after ${afterCommit}${dirty ? ' + uncommitted lib/ changes' : ''}; ${rounds} rounds × ${common.runs} timed steps per side (after ${common.warmup} warm-up), sides alternating; wasm backend`;
writeFileSync(
  join(outDir, `ab-${stamp}.json`),
  JSON.stringify(
    { before: before.commit, after: afterCommit, dirty, rounds, ...common, summary, samples },
    null,
    2,
  ) + '\n',
);
const md = [
  `# Train step before/after (${stamp})`,
  '',
  head + '.',
  '',
  '| case | threads | before ms (median) | after ms (median) | speed-up | 1-min load |',
  '|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
writeFileSync(join(outDir, `ab-${stamp}.md`), md);
process.stdout.write(md);
