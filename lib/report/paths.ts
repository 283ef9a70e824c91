/**
 * Where the notebooks and `npm run reproduce` write (issue #6): results/ of the checkout, or
 * $OFFSEG_RESULTS_DIR (tests point it at a temporary folder so they never touch results/).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';

/** Absolute results folder; `sub` parts are joined and created. */
export function resultsDir(...sub: string[]): string {
  const base = process.env.OFFSEG_RESULTS_DIR || join(repoRoot(), 'results');
  const dir = join(base, ...sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}
