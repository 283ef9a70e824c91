/**
 * ONNX Runtime beside tfjs in one bench run: the speed ratio per model (tfjs ms / ONNX Runtime ms
 * for the same 512² batch-1 inference) and the deployment targets — OffSeg-T on ONNX Runtime
 * ≤ 0.5 s, and ONNX Runtime ≥ 3× faster than tfjs for OffSeg-T, SegFormer-B0 and SegNeXt-T.
 * Pure functions over the result rows.
 */
import { INFER_SIZE } from './cases.ts';
import type { ResultRow, Target } from './summary_types.ts';

export interface EngineRatio {
  model: string;
  tfjs_ms: number | null;
  onnxruntime_ms: number | null;
  /** tfjs ms / ONNX Runtime ms (> 1: ONNX Runtime is faster); null unless both ran. */
  ratio: number | null;
}

/** The engine of a row (rows written before engines existed are tfjs). */
export function rowEngine(r: ResultRow): 'tfjs' | 'onnxruntime' {
  return r.engine ?? 'tfjs';
}

function inferRow(
  rows: readonly ResultRow[],
  model: string,
  engine: string,
): ResultRow | undefined {
  return rows.find(
    (r) =>
      r.model === model && r.task === 'infer' && r.size === INFER_SIZE && rowEngine(r) === engine,
  );
}

/** One ratio per model that has an ONNX Runtime inference row. */
export function engineRatios(rows: readonly ResultRow[]): EngineRatio[] {
  const models = [
    ...new Set(rows.filter((r) => rowEngine(r) === 'onnxruntime').map((r) => r.model)),
  ];
  return models.map((model) => {
    const t = inferRow(rows, model, 'tfjs')?.ms ?? null;
    const o = inferRow(rows, model, 'onnxruntime')?.ms ?? null;
    return {
      model,
      tfjs_ms: t,
      onnxruntime_ms: o,
      ratio: t !== null && o !== null && o > 0 ? t / o : null,
    };
  });
}

function target(
  name: string,
  op: '≤' | '≥',
  limit: number,
  unit: string,
  m: number | null,
): Target {
  const pass = m === null ? null : op === '≤' ? m <= limit : m >= limit;
  return { name, op, limit, unit, measured: m, pass };
}

/** The deployment targets; empty when the run has no ONNX Runtime rows (--no-onnx). */
export function engineTargets(rows: readonly ResultRow[]): Target[] {
  const ratios = engineRatios(rows);
  if (!ratios.length) return [];
  const out: Target[] = [];
  const t = ratios.find((r) => r.model === 'offseg-t');
  if (t)
    out.push(
      target('OffSeg-T inference 512² b1 on ONNX Runtime', '≤', 500, 'ms', t.onnxruntime_ms),
    );
  for (const r of ratios) {
    out.push(target(`${r.model} 512² inference: ONNX Runtime vs tfjs`, '≥', 3, '×', r.ratio));
  }
  return out;
}

/** Markdown lines of the ratio table. */
export function ratioMarkdown(ratios: readonly EngineRatio[]): string[] {
  if (!ratios.length) return [];
  const n = (x: number | null, d: number): string => (x === null ? '–' : x.toFixed(d));
  return [
    `| model (512² b1 inference) | tfjs ms | ONNX Runtime ms | tfjs / ONNX Runtime |`,
    '|---|---|---|---|',
    ...ratios.map(
      (r) => `| ${r.model} | ${n(r.tfjs_ms, 1)} | ${n(r.onnxruntime_ms, 1)} | ${n(r.ratio, 2)}× |`,
    ),
    '',
  ];
}
