/**
 * `npm run bench` pieces: option parsing, the median, the summary schema, the speed-up and the
 * targets, the Markdown table, and one real case at 64² on wasm through the child protocol.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';
import { BenchArgError, DEFAULTS, parseBenchArgs } from './args.ts';
import { baselineCase, planCases, type BenchCase } from './cases.ts';
import { parseCaseOutput, spawnCase, type CaseOutcome } from './child.ts';
import {
  baselineFromOutcome,
  baselineFromSummary,
  computeSpeedup,
  evaluateTargets,
  resultRow,
  skippedBaseline,
  toMarkdown,
  FLOPS_NOTE,
  type BenchSummary,
} from './report.ts';
import { median } from './stats.ts';
import { engineRatios, engineTargets } from './engines.ts';

const SCRIPT = join(repoRoot(), 'scripts', 'bench.ts');

test('median of odd and even counts, unsorted input untouched', () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]));
});

test('parseBenchArgs: defaults, values, --quick and errors', () => {
  const d = parseBenchArgs([]);
  assert.equal(d.runs, DEFAULTS.runs);
  assert.equal(d.warmup, DEFAULTS.warmup);
  assert.deepEqual(d.models, ['offseg-t', 'segformer-b0', 'segnext-t']);
  assert.equal(d.backend, 'auto');
  assert.equal(d.baseline, true);
  const o = parseBenchArgs([
    '--json',
    '--runs',
    '7',
    '--warmup=0',
    '--models',
    'segnext-t,offseg-t',
    '--backend',
    'cpu',
    '--threads',
    '1',
    '--baseline-timeout',
    '60',
  ]);
  assert.equal(o.json, true);
  assert.equal(o.runs, 7);
  assert.equal(o.warmup, 0);
  assert.deepEqual(o.models, ['segnext-t', 'offseg-t']);
  assert.equal(o.backend, 'cpu');
  assert.equal(o.threads, 1);
  assert.equal(o.baselineTimeout, 60);
  assert.equal(parseBenchArgs(['--quick']).runs, DEFAULTS.quickRuns);
  assert.equal(parseBenchArgs(['--quick', '--runs', '9']).runs, 9);
  assert.equal(parseBenchArgs(['--no-baseline']).baseline, false);
  assert.equal(parseBenchArgs(['--baseline-from', 'x.json']).baselineFrom, 'x.json');
  assert.equal(parseBenchArgs([]).baselineSize, 256);
  assert.equal(planCases(parseBenchArgs(['--grad-checkpoint']), 'wasm')[0].gradCheckpoint, true);
  assert.equal(
    planCases(parseBenchArgs(['--no-grad-checkpoint']), 'wasm')[0].gradCheckpoint,
    undefined,
  );
  assert.equal(planCases(parseBenchArgs([]), 'wasm')[0].gradCheckpoint, true);
  assert.equal(parseBenchArgs(['--baseline-size', '128']).baselineSize, 128);
  // a non-standard comparison crop adds its comparand train cases
  const extra = planCases(parseBenchArgs(['--quick', '--baseline-size', '128']), 'wasm');
  assert.equal(extra.filter((c) => c.task === 'train' && c.size === 128).length, 3);
  for (const bad of [
    ['--frobnicate'],
    ['--runs', '0'],
    ['--runs', 'x'],
    ['--runs'],
    ['--models', 'resnet'],
    ['--backend', 'gpu'],
    ['--baseline-size', '100'],
    ['--baseline-only', '--no-baseline'],
    ['--no-baseline', '--baseline-from', 'x.json'],
  ]) {
    assert.throws(() => parseBenchArgs(bad), BenchArgError, bad.join(' '));
  }
});

test('planCases: inference 512 b1, training 512 and 256 b2, the proxy step 64² b8; --quick drops 512 training', () => {
  const full = planCases(parseBenchArgs([]), 'wasm');
  assert.deepEqual(
    full.map((c) => `${c.model}/${c.task}/${c.size}/${c.batch}${c.engine ? `/${c.engine}` : ''}`),
    [
      'offseg-t/infer/512/1',
      'segformer-b0/infer/512/1',
      'segnext-t/infer/512/1',
      'offseg-t/infer/512/1/onnxruntime',
      'segformer-b0/infer/512/1/onnxruntime',
      'segnext-t/infer/512/1/onnxruntime',
      'offseg-t/train/512/2',
      'segformer-b0/train/512/2',
      'segnext-t/train/512/2',
      'offseg-t/train/256/2',
      'segformer-b0/train/256/2',
      'segnext-t/train/256/2',
      'offseg-t-pp/train/64/8',
    ],
  );
  // the proxy study's step: its model, crop, batch and classes, without recomputation
  const proxy = full[full.length - 1];
  assert.deepEqual([proxy.numClasses, proxy.gradCheckpoint], [12, false]);
  assert.equal(
    planCases(parseBenchArgs(['--models', 'segnext-t']), 'wasm').at(-1)?.model,
    'segnext-t',
  );
  const quick = planCases(parseBenchArgs(['--quick']), 'wasm');
  assert.equal(quick.filter((c) => c.task === 'train' && c.size === 512).length, 0);
  const noOnnx = planCases(parseBenchArgs(['--no-onnx']), 'wasm');
  assert.equal(noOnnx.filter((c) => c.engine === 'onnxruntime').length, 0);
  const inferOnly = parseBenchArgs(['--infer-only']);
  assert.equal(inferOnly.baseline, false);
  assert.deepEqual(
    planCases(inferOnly, 'wasm').map((c) => c.task),
    ['infer', 'infer', 'infer', 'infer', 'infer', 'infer'],
  );
  const b = baselineCase(['segnext-t', 'offseg-t']);
  assert.deepEqual(
    [b.model, b.backend, b.size, b.batch, b.warmup, b.runs],
    ['offseg-t', 'cpu', 256, 2, 0, 1],
  );
});

const CASE = (over: Partial<BenchCase> = {}): BenchCase => ({
  model: 'offseg-t',
  task: 'train',
  size: 256,
  batch: 2,
  backend: 'wasm',
  warmup: 1,
  runs: 3,
  seed: 0,
  numClasses: 150,
  ...over,
});

const OK = (ms: number, gflops: number | null, rss = 1000): CaseOutcome => ({
  status: 'ok',
  wall_s: 1,
  measurement: {
    times_ms: [ms],
    median_ms: ms,
    forward_gflops_b1: gflops,
    step_gflops: gflops,
    peak_rss_mb: rss,
    backend: 'wasm',
    threads: 2,
    simd: true,
  },
});

test('ONNX Runtime rows: ratio to tfjs per model and the deployment targets', () => {
  const rows = [
    resultRow(CASE({ task: 'infer', size: 512, batch: 1 }), OK(1600, 9.5)),
    resultRow(CASE({ task: 'infer', size: 512, batch: 1, engine: 'onnxruntime' }), OK(400, 9.5)),
    resultRow(CASE({ model: 'segnext-t', task: 'infer', size: 512, batch: 1 }), OK(900, 6.5)),
    resultRow(
      CASE({ model: 'segnext-t', task: 'infer', size: 512, batch: 1, engine: 'onnxruntime' }),
      OK(450, 6.5),
    ),
  ];
  assert.deepEqual(
    engineRatios(rows).map((r) => [r.model, r.ratio]),
    [
      ['offseg-t', 4],
      ['segnext-t', 2],
    ],
  );
  const t = engineTargets(rows);
  assert.deepEqual(
    t.map((x) => [x.name, x.measured, x.pass]),
    [
      ['OffSeg-T inference 512² b1 on ONNX Runtime', 400, true],
      ['offseg-t 512² inference: ONNX Runtime vs tfjs', 4, true],
      ['segnext-t 512² inference: ONNX Runtime vs tfjs', 2, false],
    ],
  );
  // The tfjs target reads the tfjs row, not the faster ONNX Runtime one.
  const tfjsTarget = evaluateTargets(rows, { speedup: null })[0];
  assert.equal(tfjsTarget.measured, 1600);
  assert.equal(engineTargets(rows.filter((r) => r.engine === 'tfjs')).length, 0);
});

test('speed-up: measured, lower bound on a timed-out baseline, none without a baseline', () => {
  const measured = baselineFromOutcome(baselineCase(['offseg-t']), OK(200_000, 1));
  assert.equal(measured.status, 'measured');
  assert.deepEqual(computeSpeedup(measured, 1000), { speedup: 200 });
  const capped = baselineFromOutcome(baselineCase(['offseg-t']), {
    status: 'timeout',
    cap_s: 1800,
    wall_s: 1800,
  });
  assert.equal(capped.ms, null);
  assert.equal(capped.ms_at_least, 1_800_000);
  assert.deepEqual(computeSpeedup(capped, 1000), { speedup: null, speedup_at_least: 1800 });
  assert.deepEqual(computeSpeedup(null, 1000), { speedup: null });
  const skipped = skippedBaseline(baselineCase(['offseg-t']), 'comparand failed');
  assert.deepEqual([skipped.status, skipped.ms], ['skipped', null]);
  assert.deepEqual(computeSpeedup(skipped, 1000), { speedup: null });
  assert.deepEqual(computeSpeedup(measured, null), { speedup: null });
  // --baseline-from reads an earlier summary's baseline and refuses a file without one.
  const reused = baselineFromSummary({ baseline: measured }, 'old.json');
  assert.equal(reused.status, 'reused');
  assert.equal(reused.ms, 200_000);
  assert.throws(() => baselineFromSummary({ results: [] }, 'x.json'), /no pure-JS baseline/);
});

test('targets: pass/fail per figure; unmeasured and lower-bound cases are not passed', () => {
  const rows = [
    resultRow(CASE({ task: 'infer', size: 512, batch: 1 }), OK(400, 2)),
    resultRow(CASE({ size: 512 }), OK(6000, 6, 9000)),
  ];
  const t = evaluateTargets(rows, { speedup: 150 });
  assert.deepEqual(
    t.map((x) => x.pass),
    [true, false, true, false],
  );
  const none = evaluateTargets([], { speedup: null, speedup_at_least: 20 });
  assert.deepEqual(
    none.map((x) => x.pass),
    [null, null, null, null],
  );
  assert.equal(none[2].measured, 20);
  assert.equal(none[2].measured_is_lower_bound, true);
  assert.equal(evaluateTargets([], { speedup: null, speedup_at_least: 120 })[2].pass, true);
  // A step that cannot run misses its time target; its memory is unknown, not passed.
  const oom = resultRow(CASE({ size: 512 }), {
    status: 'failed',
    error: 'out of memory',
    wall_s: 1,
  });
  const f = evaluateTargets([oom], { speedup: null });
  assert.deepEqual([f[1].pass, f[3].pass], [false, null]);
  assert.match(f[1].note ?? '', /out of memory/);
});

test('summary schema: required keys and types; failed cases keep their row with nulls', () => {
  const rows = [
    resultRow(CASE({ task: 'infer', size: 512, batch: 1 }), OK(500, 10)),
    resultRow(CASE(), OK(2000, 4.5)),
    resultRow(CASE({ size: 512 }), { status: 'failed', error: 'out of memory', wall_s: 3 }),
  ];
  assert.equal(rows[0].gflops_per_s, 20);
  assert.equal(rows[0].img_per_s, 2);
  assert.equal(rows[2].ms, null);
  const baseline = baselineFromOutcome(baselineCase(['offseg-t']), OK(300_000, 1.5));
  const speed = computeSpeedup(baseline, rows[1].ms);
  const s: BenchSummary = {
    backend: 'wasm',
    threads: 2,
    results: rows,
    baseline,
    speedup: speed.speedup,
    targets: evaluateTargets(rows, speed),
    simd: true,
    skipped_backends: [{ name: 'tensorflow', reason: 'not installed' }],
    flops_convention: FLOPS_NOTE,
    started_at: '2025-01-01T00:00:00.000Z',
    duration_s: 1,
    load_average: { start: [1, 1, 1], end: [1, 1, 1] },
    cores: 2,
    options: { runs: 3, warmup: 1, quick: false },
  };
  const j = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
  assert.equal(typeof j.backend, 'string');
  assert.equal(typeof j.threads, 'number');
  assert.equal(j.speedup, 150);
  for (const r of j.results as Record<string, unknown>[]) {
    for (const k of ['model', 'task', 'size', 'batch', 'ms', 'gflops_per_s', 'peak_rss_mb']) {
      assert.ok(k in r, `result row lacks ${k}`);
    }
    assert.ok(r.task === 'infer' || r.task === 'train');
    assert.equal(typeof r.size, 'number');
    assert.ok(r.ms === null || typeof r.ms === 'number');
  }
  const b = j.baseline as Record<string, unknown>;
  assert.deepEqual(
    [b.backend, b.task, b.size, b.batch, typeof b.ms],
    ['cpu', 'train', 256, 2, 'number'],
  );
  const md = toMarkdown(s);
  assert.match(
    md,
    /\| offseg-t \| infer \| tfjs-wasm \| 512² \| 1 \| 500\.0 \| 2\.00 \| 20\.00 \| 1000 \| ok \|/,
  );
  assert.match(md, /failed: out of memory/);
  assert.match(md, /Speed-up of wasm over pure JS on that step: 150\.0×/);
  assert.match(md, /OffSeg-T inference 512² b1 \| ≤ 500 ms \| 500\.0 ms \| PASS/);
});

test('child protocol: last stdout line is the report; garbage is rejected', () => {
  assert.deepEqual(parseCaseOutput('noise\n{"ok":false,"error":"x"}\n'), { ok: false, error: 'x' });
  assert.equal(parseCaseOutput('no json here'), undefined);
  assert.equal(parseCaseOutput('{"ok":'), undefined);
});

test('CLI: unknown option exits 2 with a message; --help exits 0', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8' });
  const bad = run(['--frobnicate']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option '--frobnicate'/);
  const help = run(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--baseline-from/);
});

test('one real case (offseg-t infer 64², wasm) through a child process', async () => {
  const o = await spawnCase(CASE({ task: 'infer', size: 64, batch: 1, warmup: 1, runs: 2 }), {
    script: SCRIPT,
    timeoutS: 120,
  });
  assert.equal(o.status, 'ok', JSON.stringify(o));
  if (o.status !== 'ok') return;
  const m = o.measurement;
  assert.equal(m.times_ms.length, 2);
  assert.equal(m.backend, 'wasm');
  assert.ok(m.median_ms > 0);
  assert.ok(m.peak_rss_mb > 50);
  assert.ok(m.forward_gflops_b1 !== null && m.forward_gflops_b1 > 0);
  assert.equal(m.step_gflops, m.forward_gflops_b1);
});

test('one real ONNX Runtime case (segformer-b0 infer 64²) through a child process', async () => {
  const o = await spawnCase(
    CASE({
      model: 'segformer-b0',
      task: 'infer',
      size: 64,
      batch: 1,
      runs: 2,
      engine: 'onnxruntime',
    }),
    { script: SCRIPT, timeoutS: 120 },
  );
  assert.equal(o.status, 'ok', JSON.stringify(o));
  if (o.status !== 'ok') return;
  const m = o.measurement;
  assert.equal(m.backend, 'onnxruntime');
  assert.equal(m.times_ms.length, 2);
  assert.ok(m.median_ms > 0 && m.export_ms! > 0 && m.session_ms! > 0);
});
