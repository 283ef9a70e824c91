/**
 * What a proxy run leaves behind: the result records (results/proxy/runs/*.json, committed, so
 * notebooks can render without training) and the path conventions they use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';

export interface ProxyOptions {
  model: string;
  seed: number;
  /** Tiny schedules (default: OFFSEG_QUICK=1). */
  quick?: boolean;
  /** Folder holding results/, work_dirs/ and .cache/ (default: the checkout; tests use a temp dir). */
  root?: string;
  /**
   * The caller will load the trained model (Figs. 3 and 5): a cached result counts only if its
   * checkpoint and backbone files exist too (result JSONs are committed, work_dirs/ is not).
   */
  needModel?: boolean;
}

export interface ProxyResult {
  model: string;
  seed: number;
  mode: 'quick' | 'full';
  mIoU: number;
  aAcc: number;
  /** Per-class IoU in percent (null: class absent from the val split and never predicted). */
  IoU: Record<string, number | null>;
  iterations: number;
  /** Wall time of training + evaluation of this run (not of the shared pretraining). */
  seconds: number;
  backend: string;
  threads: number;
  configHash: string;
  /** Paths relative to the root (the checkout): run folder, final checkpoint, backbone. */
  workDir: string;
  /** Final training checkpoint (head only when the backbone is frozen). */
  checkpoint: string;
  /** The pretrained backbone this run started from. */
  backbone: string;
  finished: string;
}

export interface PretrainResult {
  mode: 'quick' | 'full';
  configHash: string;
  /** Backbone-only .pth (keys without the `backbone.` prefix). */
  path: string;
  /** mIoU of the pretraining model (per-pixel head) on the pretraining set's val split. */
  mIoU: number;
  iterations: number;
  seconds: number;
  backend: string;
  threads: number;
}

/** Progress line on stderr. */
export function log(msg: string): void {
  process.stderr.write(`[proxy] ${msg}\n`);
}

export function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

/** Paths in result JSONs are relative to the root, so results/ stays valid in any checkout. */
export function rel(root: string, p: string): string {
  return relative(root, p).split('\\').join('/');
}

export function abs(root: string, p: string): string {
  return isAbsolute(p) ? p : join(root, p);
}

/** results/proxy/runs/<model>-s<seed>-<mode>.json */
export function resultPath(root: string, model: string, seed: number, mode: string): string {
  return join(root, 'results', 'proxy', 'runs', `${model}-s${seed}-${mode}.json`);
}

/** results/proxy/runs/pretrain-<mode>.json */
export function pretrainResultPath(root: string, mode: string): string {
  return join(root, 'results', 'proxy', 'runs', `pretrain-${mode}.json`);
}
