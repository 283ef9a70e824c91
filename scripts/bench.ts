/**
 * `npm run bench [-- --json --quick …]` (docs/training_speed.md): inference at 512² batch 1 and training
 * steps at crop 512 and 256 batch 2 of OffSeg-T, SegFormer-B0 and SegNeXt-T on the chosen
 * backend, the same inference on ONNX Runtime with its ratio to tfjs (lib/bench/engines.ts),
 * plus one pure-JS (cpu backend) OffSeg-T train step at crop 256 as the baseline of the
 * speed-up. Each case runs in its own child process (`--case <json>`, lib/bench/run_case.ts) so
 * its peak RSS is its own and a crash or a timeout is a reported result. Progress goes to stderr;
 * with --json the last stdout line is the summary object (lib/bench/report.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { writeAtomic } from '../lib/io/atomic_write.ts';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchArgError, HELP, parseBenchArgs, type BenchOptions } from '../lib/bench/args.ts';
import {
  baselineCase,
  baselineModel,
  caseLabel,
  planCases,
  type BenchCase,
  type CaseBackend,
  type CaseReport,
} from '../lib/bench/cases.ts';
import { spawnCase, type CaseOutcome } from '../lib/bench/child.ts';
import {
  baselineFromOutcome,
  baselineFromSummary,
  computeSpeedup,
  evaluateTargets,
  resultRow,
  skippedBaseline,
  targetLine,
  toMarkdown,
  FLOPS_NOTE,
  type Baseline,
  type BenchSummary,
  type ResultRow,
} from '../lib/bench/report.ts';
import { repoRoot } from '../lib/paths.ts';
import { engineRatios } from '../lib/bench/engines.ts';

const SCRIPT = fileURLToPath(import.meta.url);
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

// ---- child modes -------------------------------------------------------------------------------

interface ProbeReport {
  name: CaseBackend;
  threads: number;
  simd: boolean;
  skipped: { name: string; reason: string }[];
}

async function childCase(json: string): Promise<void> {
  let report: CaseReport;
  try {
    const { runCase } = await import('../lib/bench/run_case.ts');
    report = { ok: true, ...(await runCase(JSON.parse(json) as BenchCase)) };
  } catch (e) {
    report = { ok: false, error: (e as Error).message.split('\n')[0] };
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

async function childProbe(prefer: string, threads: number | undefined): Promise<void> {
  const { selectBackend } = await import('../lib/backend/select.ts');
  const b = await selectBackend({ prefer: prefer as CaseBackend | 'auto', threads, log: false });
  const r: ProbeReport = { name: b.name, threads: b.threads, simd: b.simd, skipped: b.skipped };
  process.stdout.write(JSON.stringify(r) + '\n');
}

// ---- parent ------------------------------------------------------------------------------------

function probeBackend(o: BenchOptions): ProbeReport {
  const args = ['--import', 'tsx', SCRIPT, '--probe', o.backend];
  if (o.threads) args.push(String(o.threads));
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    throw new Error(`backend '${o.backend}' is not usable: ${r.stderr.trim().split('\n').pop()}`);
  }
  return JSON.parse(line) as ProbeReport;
}

function gitCommit(): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function describeRow(r: ResultRow): string {
  if (r.status !== 'ok') return `${r.status}: ${r.error}`;
  const g = r.gflops_per_s === null ? '' : `, ${r.gflops_per_s.toFixed(2)} GFLOP/s`;
  const exp =
    r.export_ms === undefined
      ? ''
      : ` (export ${(r.export_ms / 1000).toFixed(1)} s, session ${((r.session_ms ?? 0) / 1000).toFixed(1)} s)`;
  return `${r.ms?.toFixed(1)} ms (median of ${r.runs}), ${r.img_per_s?.toFixed(2)} img/s${g}, peak RSS ${r.peak_rss_mb?.toFixed(0)} MiB${exp}`;
}

/** The baseline of --baseline-from, read before any case runs so a bad file fails fast. */
function reusedBaseline(o: BenchOptions): Baseline | undefined {
  if (!o.baselineFrom) return undefined;
  try {
    return baselineFromSummary(
      JSON.parse(readFileSync(o.baselineFrom, 'utf8')),
      o.baselineFrom,
      o.baselineSize,
    );
  } catch (e) {
    throw new BenchArgError(`--baseline-from: ${(e as Error).message}`);
  }
}

async function runBaseline(
  o: BenchOptions,
  reused: Baseline | undefined,
  comparand: ResultRow | undefined,
): Promise<Baseline | null> {
  if (!o.baseline) return null;
  if (reused) {
    log(`baseline reused from ${reused.source}: ${reused.ms ?? `> ${reused.ms_at_least}`} ms`);
    return reused;
  }
  const c = baselineCase(o.models, o.baselineSize);
  if (!o.baselineOnly && comparand?.status !== 'ok') {
    const why = `the same step failed on the chosen backend (${comparand?.error ?? 'not run'}), so there is nothing to compare`;
    log(`pure-JS baseline skipped: ${why}`);
    return skippedBaseline(c, why);
  }
  log(
    `pure-JS baseline: ${caseLabel(c)}, ONE step without warm-up (minutes on this backend; ` +
      `cap ${o.baselineTimeout} s; --baseline-from FILE reuses an earlier measurement)`,
  );
  const outcome = await spawnCase(c, {
    script: SCRIPT,
    timeoutS: o.baselineTimeout,
    heartbeatS: 60,
    onHeartbeat: (s) =>
      log(`  baseline still running: ${s.toFixed(0)} s of at most ${o.baselineTimeout} s`),
  });
  const b = baselineFromOutcome(c, outcome);
  log(
    `  baseline: ${b.ms !== null ? `${b.ms.toFixed(0)} ms` : b.status === 'timeout' ? `> ${b.ms_at_least} ms (cap)` : `failed: ${b.error}`}`,
  );
  return b;
}

async function parent(o: BenchOptions): Promise<void> {
  const t0 = Date.now();
  const loadStart = os.loadavg();
  const reused = reusedBaseline(o);
  const probe = probeBackend(o);
  log(
    `backend ${probe.name} (${probe.threads} thread${probe.threads > 1 ? 's' : ''}, SIMD ${probe.simd ? 'on' : 'off'})` +
      probe.skipped.map((s) => `; skipped ${s.name}: ${s.reason}`).join(''),
  );
  const cases = o.baselineOnly ? [] : planCases(o, probe.name);
  const rows: ResultRow[] = [];
  for (const [i, c] of cases.entries()) {
    log(`(${i + 1}/${cases.length}) ${caseLabel(c)}: warm-up ${c.warmup}, ${c.runs} runs …`);
    const outcome: CaseOutcome = await spawnCase(c, { script: SCRIPT, timeoutS: o.caseTimeout });
    const row = resultRow(c, outcome);
    rows.push(row);
    log(`  ${describeRow(row)} [${outcome.wall_s.toFixed(0)} s]`);
  }

  const bm = baselineModel(o.models);
  const chosen = rows.find(
    (r) => r.model === bm && r.task === 'train' && r.size === o.baselineSize,
  );
  const baseline = await runBaseline(o, reused, chosen);
  const speed = computeSpeedup(baseline, chosen?.ms ?? null);
  const summary: BenchSummary = {
    backend: probe.name,
    threads: probe.threads,
    results: rows,
    baseline,
    speedup: speed.speedup,
    ...(speed.speedup_at_least !== undefined ? { speedup_at_least: speed.speedup_at_least } : {}),
    targets: evaluateTargets(rows, speed, { model: bm, size: o.baselineSize }),
    engine_ratios: engineRatios(rows),
    simd: probe.simd,
    skipped_backends: probe.skipped,
    flops_convention: FLOPS_NOTE,
    started_at: new Date(t0).toISOString(),
    duration_s: (Date.now() - t0) / 1000,
    load_average: { start: loadStart, end: os.loadavg() },
    cores: os.availableParallelism(),
    commit: gitCommit(),
    options: { runs: o.runs, warmup: o.warmup, quick: o.quick, gradCheckpoint: o.gradCheckpoint },
  };

  const dir = join(repoRoot(), 'results', 'bench');
  mkdirSync(dir, { recursive: true });
  const stamp = summary.started_at.replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  const name = o.baselineOnly ? `baseline-cpu-${stamp}` : `bench-${probe.name}-${stamp}`;
  const json = JSON.stringify(summary, null, 2) + '\n';
  writeAtomic(join(dir, `${name}.json`), json);
  writeAtomic(join(dir, `${name}.md`), toMarkdown(summary));
  // latest.json is the latest full benchmark, not a baseline-only or inference-only run.
  const full = !o.baselineOnly && !o.inferOnly;
  if (full) writeAtomic(join(dir, 'latest.json'), json);
  for (const t of summary.targets) log(targetLine(t));
  log(`wrote results/bench/${name}.{json,md}${full ? ' and results/bench/latest.json' : ''}`);

  process.stdout.write(toMarkdown(summary));
  if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--case') {
    await childCase(argv[1] ?? '');
    return 0;
  }
  if (argv[0] === '--probe') {
    await childProbe(argv[1] ?? 'auto', argv[2] ? Number(argv[2]) : undefined);
    return 0;
  }
  let o: BenchOptions;
  try {
    o = parseBenchArgs(argv);
  } catch (e) {
    if (e instanceof BenchArgError) {
      process.stderr.write(`bench: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    await parent(o);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return e instanceof BenchArgError ? 2 : 1;
  }
  return 0;
}

// The wasm backend's worker threads would keep a child alive: exit explicitly, after stdout drains.
const code = await main();
process.stdout.write('', () => process.exit(code));
