/**
 * Parameters and FLOPs of any model, counted by tracing the ops it really runs.
 *
 * `countFlops` builds a random input [1,H,W,3], runs the model once in eval mode under
 * `traceOps` (lib/ops/trace.ts) and sums the recorded multiply-adds under a named convention
 * (./conventions.ts): `fvcore` (what mmseg 1.x / mmengine report) or `offseg-paper` (what the
 * OffSeg paper's own rows follow). No per-model formula is involved, so a new model is counted
 * for free as long as its heavy ops go through lib/ops.
 *
 * CARAFE (FreqFusion's content-aware upsampling) is traced as kind `carafe` with C·k²·out-pixel
 * MACs but counted by NEITHER convention: mmcv's CARAFE is an opaque custom op that fvcore cannot
 * see, and the fvcore OffSeg targets (docs/flops.md) leave its gather work out. It is reported separately
 * (`uncounted.carafe`), as are softmax/elementwise/max-pool/bicubic records if an op emits them.
 *
 * `mode: 'dry-run'` (./dry_run.ts) runs the same forward on a shape-only backend (kernels return
 * right-shaped zeros without computing): identical records, a fraction of the time and memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../models/core/module.ts';
import { traceOps, type OpKind, type OpRecord } from '../ops/trace.ts';
import { CONVENTIONS, CONVENTION_NAMES, type ConventionName } from './conventions.ts';
import { withDryRun } from './dry_run.ts';

/** Anything with a forward over an NHWC image batch (every registry Segmentor). */
export interface Forwardable extends Module {
  forward(x: tf.Tensor4D): tf.Tensor | tf.Tensor[];
}

export type TraceMode = 'compute' | 'dry-run';

export interface TraceOptions {
  /** Input size [H, W]. */
  size: readonly [number, number];
  /** 'compute' (default) runs every kernel; 'dry-run' only propagates shapes (./dry_run.ts). */
  mode?: TraceMode;
  /** Seed of the random input (the count does not depend on it). */
  seed?: number;
}

export interface FlopsOptions extends TraceOptions {
  convention?: ConventionName;
}

export interface FlopsReport {
  convention: ConventionName;
  size: [number, number];
  /** Counted multiply-adds. */
  macs: number;
  /** macs / 1e9 ("GFLOPs" in the papers). */
  gflops: number;
  /** Counted MACs per op kind. */
  byKind: Partial<Record<OpKind, number>>;
  /** Traced but not counted by this convention, per kind (e.g. carafe, or matmul for offseg-paper). */
  uncounted: Partial<Record<OpKind, number>>;
}

/** All parameters (trainable tensors), the unused ones included — as mmseg counts them. */
export function countParams(model: Module): number {
  return model.numParams();
}

/** Parameters grouped by the first `depth` components of their key (e.g. backbone / decode_head). */
export function paramsByModule(model: Module, depth = 1): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of model.namedParameters()) {
    const key = e.key.split('.').slice(0, depth).join('.');
    out[key] = (out[key] ?? 0) + e.variable.size;
  }
  return out;
}

/** Drop per-input-size caches (e.g. resized attention biases) so dry-run zeros never linger. */
function clearCaches(model: Module): void {
  for (const [, m] of model.namedModules()) m.clearCache();
}

/** Run the model once in eval mode on a random [1,H,W,3] input and return every traced op. */
export async function traceModel(model: Forwardable, opts: TraceOptions): Promise<OpRecord[]> {
  const [h, w] = opts.size;
  const wasTraining = model.training;
  model.eval();
  const run = (): OpRecord[] => {
    const x = tf.randomUniform([1, h, w, 3], -2, 2, 'float32', opts.seed ?? 0) as tf.Tensor4D;
    try {
      const { result, records } = traceOps(() => model.forward(x));
      tf.dispose(result);
      return records;
    } finally {
      x.dispose();
    }
  };
  try {
    if (opts.mode !== 'dry-run') return run();
    clearCaches(model);
    try {
      return await withDryRun(run);
    } finally {
      clearCaches(model);
    }
  } finally {
    model.train(wasTraining);
  }
}

function add(map: Partial<Record<OpKind, number>>, kind: OpKind, v: number): void {
  map[kind] = (map[kind] ?? 0) + v;
}

/** Sum traced records under a convention. */
export function summarize(
  records: readonly OpRecord[],
  convention: ConventionName,
  size: readonly [number, number],
): FlopsReport {
  const counts = CONVENTIONS[convention].counts;
  const byKind: Partial<Record<OpKind, number>> = {};
  const uncounted: Partial<Record<OpKind, number>> = {};
  let macs = 0;
  for (const r of records) {
    if (counts.has(r.kind)) {
      macs += r.macs;
      add(byKind, r.kind, r.macs);
    } else {
      add(uncounted, r.kind, r.macs);
    }
  }
  return { convention, size: [size[0], size[1]], macs, gflops: macs / 1e9, byKind, uncounted };
}

/** FLOPs (MACs) of one forward at `size` under one convention (default fvcore). */
export async function countFlops(model: Forwardable, opts: FlopsOptions): Promise<FlopsReport> {
  return summarize(await traceModel(model, opts), opts.convention ?? 'fvcore', opts.size);
}

/** Both conventions from a single trace. */
export async function countFlopsAll(
  model: Forwardable,
  opts: TraceOptions,
): Promise<{ records: OpRecord[]; reports: Record<ConventionName, FlopsReport> }> {
  const records = await traceModel(model, opts);
  const reports = Object.fromEntries(
    CONVENTION_NAMES.map((c) => [c, summarize(records, c, opts.size)]),
  ) as Record<ConventionName, FlopsReport>;
  return { records, reports };
}

export interface LayerRow {
  /** Module path (truncated to `depth` components when grouping). */
  scope: string;
  /** Counted MACs per convention. */
  macs: Record<ConventionName, number>;
  /** All traced MACs per kind, counted or not. */
  byKind: Partial<Record<OpKind, number>>;
  /** Number of traced ops. */
  ops: number;
}

/**
 * Per-layer detail: records grouped by module path (or its first `depth` components), in the
 * order the model first ran them.
 */
export function perLayer(records: readonly OpRecord[], depth?: number): LayerRow[] {
  const rows = new Map<string, LayerRow>();
  for (const r of records) {
    const scope = depth === undefined ? r.scope : r.scope.split('.').slice(0, depth).join('.');
    let row = rows.get(scope);
    if (!row) {
      row = {
        scope,
        macs: Object.fromEntries(CONVENTION_NAMES.map((c) => [c, 0])) as Record<
          ConventionName,
          number
        >,
        byKind: {},
        ops: 0,
      };
      rows.set(scope, row);
    }
    row.ops++;
    add(row.byKind, r.kind, r.macs);
    for (const c of CONVENTION_NAMES) if (CONVENTIONS[c].counts.has(r.kind)) row.macs[c] += r.macs;
  }
  return [...rows.values()];
}

/** A plain-text table of `perLayer` rows (GMACs). */
export function formatPerLayer(rows: readonly LayerRow[]): string {
  const g = (v: number): string => (v / 1e9).toFixed(4);
  const width = Math.max(5, ...rows.map((r) => r.scope.length));
  const head = `${'layer'.padEnd(width)}  ${CONVENTION_NAMES.map((c) => c.padStart(12)).join('  ')}  kinds`;
  const lines = rows.map((r) => {
    const kinds = Object.entries(r.byKind)
      .map(([k, v]) => `${k} ${g(v)}`)
      .join(', ');
    return `${(r.scope || '(root)').padEnd(width)}  ${CONVENTION_NAMES.map((c) => g(r.macs[c]).padStart(12)).join('  ')}  ${kinds}`;
  });
  return [head, ...lines].join('\n');
}
