/**
 * Op tracing for the complexity counter (lib/analysis/complexity).
 *
 * Every op wrapper in lib/ops reports what it ran — its kind, its multiply-add count (MACs, the
 * "FLOPs" of every paper here) and the module that called it — to the recorder that is active,
 * if any. With no recorder active a report is a single null check. A recorder is a dynamic
 * scope (like `tf.profile`): `traceOps(fn)` runs fn and returns what was recorded.
 */

/** Kinds of work, matching the aten ops that fvcore/mmengine distinguish. */
export type OpKind =
  | 'conv'
  | 'linear'
  | 'matmul'
  | 'batch_norm'
  | 'group_norm'
  | 'layer_norm'
  | 'upsample_bilinear'
  | 'upsample_nearest'
  | 'upsample_bicubic'
  | 'grid_sample'
  | 'adaptive_avg_pool'
  | 'max_pool'
  | 'carafe'
  | 'softmax'
  | 'elementwise';

export interface OpRecord {
  kind: OpKind;
  /** Multiply-adds under the fvcore convention for this kind (see lib/analysis/complexity). */
  macs: number;
  /** Dotted module path of the caller, e.g. `backbone.network.4.7.token_mixer`. */
  scope: string;
  /** Shapes for the per-layer report. */
  shapes?: number[][];
}

let active: OpRecord[] | undefined;

export function recordOp(kind: OpKind, macs: number, scope: string, shapes?: number[][]): void {
  if (active) active.push({ kind, macs, scope, shapes });
}

export function isTracing(): boolean {
  return active !== undefined;
}

/** Scope of the op recorded last by the active recorder (profilers attribute kernels by it). */
export function lastRecordedScope(): string | undefined {
  return active && active.length ? active[active.length - 1].scope : undefined;
}

/** Run fn with a fresh recorder; nested calls are not supported (the inner one wins). */
export function traceOps<T>(fn: () => T): { result: T; records: OpRecord[] } {
  const prev = active;
  const records: OpRecord[] = [];
  active = records;
  try {
    return { result: fn(), records };
  } finally {
    active = prev;
  }
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
