/**
 * The bench summary (docs/training_speed.md): the JSON object printed as the last line with `--json`
 * and written to results/bench/, the speed-up over the pure-JS baseline, the targets with
 * pass/fail, and a Markdown rendering. Pure functions over the case outcomes.
 */
import type { BenchCase, BenchTask } from './cases.ts';
import { TRAIN_BATCH, TRAIN_FLOPS_FACTOR } from './cases.ts';
import type { CaseOutcome } from './child.ts';
import { gflopsPerSecond, imagesPerSecond } from './stats.ts';
import { engineTargets, ratioMarkdown, rowEngine, type EngineRatio } from './engines.ts';
import type { Baseline, ResultRow, Target } from './summary_types.ts';

export type { Baseline, ResultRow, Target } from './summary_types.ts';

export interface BenchSummary {
  backend: string;
  threads: number;
  results: ResultRow[];
  baseline: Baseline | null;
  speedup: number | null;
  speedup_at_least?: number;
  targets: Target[];
  /** tfjs / ONNX Runtime inference time per model (./engines.ts). */
  engine_ratios?: EngineRatio[];
  simd: boolean;
  skipped_backends: { name: string; reason: string }[];
  flops_convention: string;
  started_at: string;
  duration_s: number;
  load_average: { start: number[]; end: number[] };
  cores: number;
  commit?: string;
  options: { runs: number; warmup: number; quick: boolean; gradCheckpoint?: boolean };
}

export const FLOPS_NOTE =
  'GFLOP/s = fvcore GFLOPs (1e9 multiply-adds, lib/analysis/complexity.ts, the convention of ' +
  'mmseg get_flops and of the paper tables) per second; an arithmetic FLOP rate counting the ' +
  `multiply and the add separately is 2× this. A training step is assumed to cost ${TRAIN_FLOPS_FACTOR}× ` +
  'the forward (forward + input gradient + weight gradient), times the batch.';

export function resultRow(c: BenchCase, o: CaseOutcome): ResultRow {
  const base = {
    model: c.model,
    task: c.task,
    engine: c.engine ?? 'tfjs',
    size: c.size,
    batch: c.batch,
    runs: c.runs,
    warmup: c.warmup,
  };
  if (o.status !== 'ok') {
    return {
      ...base,
      ms: null,
      gflops_per_s: null,
      peak_rss_mb: null,
      img_per_s: null,
      status: o.status,
      error: o.status === 'failed' ? o.error : `exceeded the ${o.cap_s} s cap`,
    };
  }
  const m = o.measurement;
  const row: ResultRow = {
    ...base,
    ms: m.median_ms,
    gflops_per_s: gflopsPerSecond(m.step_gflops, m.median_ms),
    peak_rss_mb: m.peak_rss_mb,
    img_per_s: imagesPerSecond(c.batch, m.median_ms),
    status: 'ok',
    times_ms: m.times_ms,
    step_gflops: m.step_gflops,
  };
  if (m.last_loss !== undefined) row.last_loss = m.last_loss;
  if (m.export_ms !== undefined) row.export_ms = m.export_ms;
  if (m.session_ms !== undefined) row.session_ms = m.session_ms;
  return row;
}

export function baselineFromOutcome(c: BenchCase, o: CaseOutcome): Baseline {
  const base = {
    backend: 'cpu' as const,
    task: 'train' as const,
    size: c.size,
    batch: c.batch,
    model: c.model,
    runs: 1 as const,
    warmup: 0 as const,
  };
  if (o.status === 'ok') {
    const m = o.measurement;
    return {
      ...base,
      ms: m.median_ms,
      status: 'measured',
      gflops_per_s: gflopsPerSecond(m.step_gflops, m.median_ms),
      peak_rss_mb: m.peak_rss_mb,
    };
  }
  if (o.status === 'timeout') {
    return { ...base, ms: null, status: 'timeout', ms_at_least: o.cap_s * 1000 };
  }
  return { ...base, ms: null, status: 'failed', error: o.error };
}

/** No measurement: the comparand step failed on the chosen backend (minutes saved). */
export function skippedBaseline(c: BenchCase, reason: string): Baseline {
  return {
    backend: 'cpu',
    task: 'train',
    size: c.size,
    batch: c.batch,
    model: c.model,
    ms: null,
    status: 'skipped',
    runs: 1,
    warmup: 0,
    error: reason,
  };
}

/** Read the baseline of an earlier summary (results/bench/*.json). Throws if it has none. */
export function baselineFromSummary(json: unknown, source: string, size = 256): Baseline {
  const b = (json as { baseline?: Partial<Baseline> } | null)?.baseline;
  const ok =
    b &&
    b.backend === 'cpu' &&
    b.task === 'train' &&
    b.size === size &&
    b.batch === TRAIN_BATCH &&
    typeof b.model === 'string' &&
    (typeof b.ms === 'number' || typeof b.ms_at_least === 'number');
  if (!ok) {
    throw new Error(
      `${source} holds no pure-JS baseline (cpu train ${size}² b${TRAIN_BATCH} with ms)`,
    );
  }
  const out: Baseline = {
    backend: 'cpu',
    task: 'train',
    size,
    batch: TRAIN_BATCH,
    model: b.model as string,
    ms: typeof b.ms === 'number' ? b.ms : null,
    status: typeof b.ms === 'number' ? 'reused' : 'timeout',
    runs: 1,
    warmup: 0,
    source,
  };
  if (out.ms === null) out.ms_at_least = b.ms_at_least as number;
  if (b.gflops_per_s !== undefined) out.gflops_per_s = b.gflops_per_s;
  if (b.peak_rss_mb !== undefined) out.peak_rss_mb = b.peak_rss_mb;
  return out;
}

/**
 * Speed-up of the chosen backend's train step (crop 256 by default, batch 2) over the pure-JS baseline:
 * baseline ms / chosen ms. A baseline over its cap gives only a lower bound.
 */
export function computeSpeedup(
  baseline: Baseline | null,
  chosenMs: number | null,
): { speedup: number | null; speedup_at_least?: number } {
  if (!baseline || chosenMs === null || !(chosenMs > 0)) return { speedup: null };
  if (baseline.ms !== null) return { speedup: baseline.ms / chosenMs };
  if (baseline.ms_at_least !== undefined) {
    return { speedup: null, speedup_at_least: baseline.ms_at_least / chosenMs };
  }
  return { speedup: null };
}

/** The tfjs row of a case. */
function find(rows: readonly ResultRow[], model: string, task: BenchTask, size: number) {
  return rows.find(
    (r) => r.model === model && r.task === task && r.size === size && rowEngine(r) === 'tfjs',
  );
}

function target(
  name: string,
  op: '≤' | '≥',
  limit: number,
  unit: string,
  measured: number | null,
): Target {
  const pass = measured === null ? null : op === '≤' ? measured <= limit : measured >= limit;
  return { name, op, limit, unit, measured, pass };
}

/** A target whose case did not run: a time target is missed, anything else is unknown. */
function notRun(t: Target, row: ResultRow | undefined, missed: boolean): Target {
  if (!row || row.status === 'ok') return t;
  return { ...t, pass: missed ? false : null, note: `the case did not complete: ${row.error}` };
}

/**
 * The speed and memory targets (benchmark figures, not timed tests). `cmp` names the train step the
 * speed-up compares (OffSeg-T at crop 256 unless --models/--baseline-size say otherwise).
 */
export function evaluateTargets(
  rows: readonly ResultRow[],
  speed: { speedup: number | null; speedup_at_least?: number },
  cmp: { model: string; size: number } = { model: 'offseg-t', size: 256 },
): Target[] {
  const inf = find(rows, 'offseg-t', 'infer', 512);
  const tr = find(rows, 'offseg-t', 'train', 512);
  const c = find(rows, cmp.model, 'train', cmp.size);
  const sp = target(
    `speed-up over pure-JS (${cmp.model} train ${cmp.size}² b${TRAIN_BATCH})`,
    '≥',
    100,
    '×',
    speed.speedup,
  );
  if (speed.speedup === null && speed.speedup_at_least !== undefined) {
    sp.measured = speed.speedup_at_least;
    sp.measured_is_lower_bound = true;
    // A lower bound proves "≥ limit" but cannot prove the opposite.
    sp.pass = speed.speedup_at_least >= sp.limit ? true : null;
  }
  return [
    notRun(target('OffSeg-T inference 512² b1', '≤', 500, 'ms', inf?.ms ?? null), inf, true),
    notRun(target('OffSeg-T train step 512² b2', '≤', 5000, 'ms', tr?.ms ?? null), tr, true),
    notRun(sp, c, false),
    notRun(
      target(
        'OffSeg-T training memory 512² b2 (peak RSS)',
        '≤',
        8192,
        'MiB',
        tr?.peak_rss_mb ?? null,
      ),
      tr,
      false,
    ),
    ...engineTargets(rows),
  ];
}

const num = (x: number | null | undefined, d = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d);

function verdict(t: Target): string {
  const v =
    t.pass === null
      ? t.measured === null
        ? 'not measured'
        : 'undetermined'
      : t.pass
        ? 'PASS'
        : 'FAIL';
  return t.note ? `${v} (${t.note})` : v;
}

export function targetLine(t: Target): string {
  const m =
    t.measured === null ? '–' : `${t.measured_is_lower_bound ? '> ' : ''}${num(t.measured)}`;
  return `${t.name}: target ${t.op} ${t.limit} ${t.unit}, measured ${m} ${t.unit} → ${verdict(t)}`;
}

export function toMarkdown(s: BenchSummary): string {
  const lines: string[] = [];
  lines.push(`# Benchmark: ${s.backend}, ${s.threads} thread${s.threads > 1 ? 's' : ''}`);
  lines.push('');
  lines.push(
    `${s.started_at}; ${s.duration_s.toFixed(0)} s; ${s.cores} cores, load average ` +
      `${s.load_average.start.map((l) => l.toFixed(2)).join(' ')} at start, ` +
      `${s.load_average.end.map((l) => l.toFixed(2)).join(' ')} at end` +
      (s.commit ? `; commit ${s.commit}` : '') +
      `; SIMD ${s.simd ? 'on' : 'off'}; warm-up ${s.options.warmup}, median of ${s.options.runs}` +
      (s.options.quick ? ' (--quick)' : '') +
      (s.options.gradCheckpoint
        ? '; train steps with gradient checkpointing (the pure-JS baseline without)'
        : ''),
  );
  lines.push('');
  lines.push(
    '| model | task | engine | size | batch | ms (median) | img/s | GFLOP/s | peak RSS MiB | status |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of s.results) {
    const engine = rowEngine(r) === 'tfjs' ? `tfjs-${s.backend}` : 'onnxruntime';
    lines.push(
      `| ${r.model} | ${r.task} | ${engine} | ${r.size}² | ${r.batch} | ${num(r.ms)} | ${num(r.img_per_s, 2)} | ` +
        `${num(r.gflops_per_s, 2)} | ${num(r.peak_rss_mb, 0)} | ${r.status}${r.error ? `: ${r.error}` : ''} |`,
    );
  }
  lines.push('');
  lines.push(...ratioMarkdown(s.engine_ratios ?? []));
  const b = s.baseline;
  if (!b) lines.push('Pure-JS baseline: not run (--no-baseline).');
  else {
    const ms =
      b.ms !== null ? `${num(b.ms, 0)} ms` : b.ms_at_least ? `> ${b.ms_at_least} ms (cap)` : '–';
    lines.push(
      `Pure-JS baseline (cpu backend, ${b.model} train ${b.size}² b${b.batch}, one step, no warm-up): ` +
        `${ms}, ${b.status}${b.source ? ` from ${b.source}` : ''}${b.error ? ` (${b.error})` : ''}` +
        (b.gflops_per_s ? `, ${num(b.gflops_per_s, 3)} GFLOP/s` : '') +
        (b.peak_rss_mb ? `, peak RSS ${num(b.peak_rss_mb, 0)} MiB` : '') +
        '.',
    );
    const sp =
      s.speedup !== null
        ? `${num(s.speedup)}×`
        : s.speedup_at_least !== undefined
          ? `> ${num(s.speedup_at_least)}× (lower bound)`
          : '–';
    lines.push('');
    lines.push(`Speed-up of ${s.backend} over pure JS on that step: ${sp}.`);
  }
  lines.push('');
  lines.push('| target | limit | measured | result |');
  lines.push('|---|---|---|---|');
  for (const t of s.targets) {
    const m =
      t.measured === null
        ? '–'
        : `${t.measured_is_lower_bound ? '> ' : ''}${num(t.measured)} ${t.unit}`;
    lines.push(`| ${t.name} | ${t.op} ${t.limit} ${t.unit} | ${m} | ${verdict(t)} |`);
  }
  lines.push('');
  lines.push(`- ${s.flops_convention}`);
  lines.push(
    '- Peak RSS: process.resourceUsage().maxRSS of the case’s own child process (node, tfjs, ' +
      'the wasm heap and the model), measured before the FLOPs trace.',
  );
  lines.push(
    '- Timings are wall-clock on a shared machine; the load average above shows how busy it was.',
  );
  for (const k of s.skipped_backends) lines.push(`- Skipped backend ${k.name}: ${k.reason}.`);
  return lines.join('\n') + '\n';
}
