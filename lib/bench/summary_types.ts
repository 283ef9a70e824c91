/**
 * The records of a bench summary (results/bench/*.json): one row per case, the pure-JS baseline,
 * and the targets with pass/fail. Shared by the report and the engine-ratio rows.
 */
import type { BenchEngine, BenchTask } from './cases.ts';

export interface ResultRow {
  model: string;
  task: BenchTask;
  /** tfjs (absent in files written before engines existed) or onnxruntime. */
  engine?: BenchEngine;
  size: number;
  batch: number;
  /** Median step time; null when the case failed or timed out. */
  ms: number | null;
  /** Achieved fvcore GFLOP/s (MACs/s); null when unknown. */
  gflops_per_s: number | null;
  peak_rss_mb: number | null;
  img_per_s: number | null;
  runs: number;
  warmup: number;
  status: 'ok' | 'failed' | 'timeout';
  error?: string;
  /** Every timed run (ms). */
  times_ms?: number[];
  step_gflops?: number | null;
  last_loss?: number;
  /** ONNX Runtime rows: export and session-creation time (not part of `ms`). */
  export_ms?: number;
  session_ms?: number;
}

export interface Baseline {
  backend: 'cpu';
  task: 'train';
  size: number;
  batch: number;
  model: string;
  /** The single step's time; null when it timed out or failed. */
  ms: number | null;
  /**
   * 'measured' in this run, 'reused' from an earlier file, 'timeout' (ms > cap), 'failed', or
   * 'skipped' (the chosen backend could not run the step, so there is nothing to compare).
   */
  status: 'measured' | 'reused' | 'timeout' | 'failed' | 'skipped';
  runs: 1;
  warmup: 0;
  /** Lower bound when the step exceeded the cap. */
  ms_at_least?: number;
  gflops_per_s?: number | null;
  peak_rss_mb?: number | null;
  source?: string;
  error?: string;
}

export interface Target {
  name: string;
  /** '≤' or '≥' the limit, in `unit`. */
  op: '≤' | '≥';
  limit: number;
  unit: string;
  measured: number | null;
  /** A lower bound stands in for `measured` (baseline over its cap). */
  measured_is_lower_bound?: boolean;
  /** null: not measured, or undetermined from a lower bound. */
  pass: boolean | null;
  /** Why there is no measurement (e.g. the case ran out of memory). */
  note?: string;
}
