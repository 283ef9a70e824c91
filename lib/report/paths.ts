/**
 * Where the notebooks and `npm run reproduce` write: results/ of the checkout for full runs,
 * results/quick/ for quick runs (OFFSEG_QUICK=1: tiny schedules whose numbers mean nothing, so
 * they never replace the full-run results), or $OFFSEG_RESULTS_DIR when set (tests point it at a
 * temporary folder).
 */
import { mkdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { repoRoot } from '../paths.ts';
import { envFlag, envString } from '../env.ts';

/** The results folder of this run mode, without creating it. */
export function resultsBase(): string {
  const dir = envString('OFFSEG_RESULTS_DIR');
  if (dir) return dir;
  const full = join(repoRoot(), 'results');
  return envFlag('OFFSEG_QUICK') ? join(full, 'quick') : full;
}

/** Absolute results folder; `sub` parts are joined and created. */
export function resultsDir(...sub: string[]): string {
  const dir = join(resultsBase(), ...sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A path as a reader of this checkout wants it printed: relative to the checkout when inside. */
export function shownPath(p: string): string {
  const r = relative(repoRoot(), p);
  return r.startsWith('..') || r === '' ? p : r.split(sep).join('/');
}
