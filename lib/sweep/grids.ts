/**
 * Sweeps as lists of run specs: the paper's proxy grids by name (Table 6: the five component
 * variants; Table 7: the seven align widths and OffSeg-T) or a run file (lib/sweep/run_file.ts),
 * times seeds. `--seeds` parses here too.
 */
import { existsSync } from 'node:fs';
import { closest } from '../config/suggest.ts';
import { table7Variant, TABLE7_WIDTHS } from '../analysis/claims.ts';
import { TABLE6 } from '../report/paper.ts';
import { proxySeeds } from '../train/proxy.ts';
import { readRunFile } from './run_file.ts';
import { SpecError, type Mode, type RunSpec } from './spec.ts';

export const GRID_NAMES = ['table6', 'table7'] as const;
export type GridName = (typeof GRID_NAMES)[number];

/** The proxy variants of a grid, in table order. */
export function gridModels(grid: GridName): string[] {
  if (grid === 'table6') return Object.keys(TABLE6);
  return [...TABLE7_WIDTHS.map(table7Variant), 'offseg-t'];
}

/** One proxy spec per model × seed (seeds default to the protocol's base seeds of the mode). */
export function proxySpecs(models: readonly string[], mode: Mode, seeds?: readonly number[]) {
  const s = seeds ?? proxySeeds(mode === 'quick');
  return models.flatMap((model) =>
    s.map((seed): RunSpec => ({ kind: 'proxy', model, seed, mode })),
  );
}

/**
 * `--seeds 0,1,2` → [0, 1, 2].
 * @throws SpecError for anything but comma-separated non-negative integers.
 */
export function parseSeeds(v: string): number[] {
  const parts = v.split(',').map((p) => p.trim());
  const seeds = parts.map(Number);
  const bad = parts.find((p, i) => p === '' || !Number.isInteger(seeds[i]) || seeds[i] < 0);
  if (bad !== undefined)
    throw new SpecError(
      `--seeds: '${bad}' in '${v}' is not a seed`,
      'give comma-separated non-negative integers, e.g. --seeds 0,1,2',
    );
  return [...new Set(seeds)];
}

/**
 * The specs of `--grid VALUE`: a grid name, or a run file (a path ending in .json).
 * @throws SpecError naming the unknown grid, or the run file entry at fault.
 */
export function sweepSpecs(grid: string, mode: Mode, seeds?: readonly number[]): RunSpec[] {
  if ((GRID_NAMES as readonly string[]).includes(grid))
    return proxySpecs(gridModels(grid as GridName), mode, seeds);
  if (grid.endsWith('.json') || existsSync(grid)) return readRunFile(grid, mode, seeds);
  const near = closest(grid, GRID_NAMES);
  throw new SpecError(
    `unknown grid '${grid}'${near ? ` (did you mean ${near}?)` : ''}`,
    `use --grid ${GRID_NAMES.join(' or --grid ')}, or --grid FILE.json with a run file`,
  );
}
