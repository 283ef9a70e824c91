/**
 * The paper's ablation claims as pairs "better beats worse", and their verdicts on a set of
 * proxy runs (one mIoU per seed and variant). Tables 6 and 7 of the paper, ADE20K, OffSeg-T:
 *   Table 6: FreqFusion beats the simple conv decoder; each offset beats per-pixel
 *            classification; both offsets beat either alone; the feature offset beats the
 *            class offset (43.5 vs 42.9).
 *   Table 7: widening the per-pixel classifier's align width C (64 … 2048) never reaches
 *            OffSeg-T (best per-pixel 43.5 at C = 1024 vs 44.2).
 * Statistics and verdict rule: welch.ts.
 */
import {
  compareSeeds,
  needsMoreSeeds,
  seedStats,
  type Difference,
  type SeedStats,
} from './welch.ts';

export interface Claim {
  /** Short id, e.g. `t6-freqfusion`. */
  id: string;
  table: 6 | 7;
  /** What the paper says, in one line. */
  statement: string;
  better: string;
  worse: string;
}

/** Registry name of Table 7's per-pixel variant of align width C (C = 256 is `offseg-t-pp`). */
export const table7Variant = (c: number): string =>
  c === 256 ? 'offseg-t-pp' : `offseg-t-pp-c${c}`;

/** Table 7's align widths. */
export const TABLE7_WIDTHS: readonly number[] = [64, 128, 256, 512, 768, 1024, 2048];

export const CLAIMS: readonly Claim[] = [
  {
    id: 't6-freqfusion',
    table: 6,
    statement: 'FreqFusion decoder beats the simple conv decoder (per-pixel classifier)',
    better: 'offseg-t-pp',
    worse: 'offseg-t-conv-pp',
  },
  {
    id: 't6-class-offset',
    table: 6,
    statement: 'class offset beats per-pixel classification',
    better: 'offseg-t-co',
    worse: 'offseg-t-pp',
  },
  {
    id: 't6-feature-offset',
    table: 6,
    statement: 'feature offset beats per-pixel classification',
    better: 'offseg-t-fo',
    worse: 'offseg-t-pp',
  },
  {
    id: 't6-both-vs-pp',
    table: 6,
    statement: 'both offsets (OffSeg-T) beat per-pixel classification',
    better: 'offseg-t',
    worse: 'offseg-t-pp',
  },
  {
    id: 't6-both-vs-class',
    table: 6,
    statement: 'both offsets beat the class offset alone',
    better: 'offseg-t',
    worse: 'offseg-t-co',
  },
  {
    id: 't6-both-vs-feature',
    table: 6,
    statement: 'both offsets beat the feature offset alone',
    better: 'offseg-t',
    worse: 'offseg-t-fo',
  },
  {
    id: 't6-feature-vs-class',
    table: 6,
    statement: 'the feature offset beats the class offset',
    better: 'offseg-t-fo',
    worse: 'offseg-t-co',
  },
  ...TABLE7_WIDTHS.filter((c) => c !== 256).map((c): Claim => ({
    id: `t7-c${c}`,
    table: 7,
    statement: `OffSeg-T beats the per-pixel classifier widened to C = ${c}`,
    better: 'offseg-t',
    worse: table7Variant(c),
  })),
];

export interface ClaimResult extends Claim {
  betterStats: SeedStats;
  worseStats: SeedStats;
  /** Undefined when a side has fewer than 2 runs. */
  difference: Difference | undefined;
  /** The two variants are within two standard deviations: run 5 seeds, not 3. */
  close: boolean;
}

/**
 * Verdict of every claim whose two variants have runs.
 * @param runs mIoU per seed (%, any order) keyed by registry name.
 */
export function judgeClaims(
  runs: Readonly<Record<string, readonly number[]>>,
  claims: readonly Claim[] = CLAIMS,
): ClaimResult[] {
  return claims
    .filter((c) => runs[c.better]?.length && runs[c.worse]?.length)
    .map((c) => {
      const a = runs[c.better];
      const b = runs[c.worse];
      const ok = a.length >= 2 && b.length >= 2;
      return {
        ...c,
        betterStats: seedStats(a),
        worseStats: seedStats(b),
        difference: ok ? compareSeeds(a, b) : undefined,
        close: ok && needsMoreSeeds(a, b),
      };
    });
}

/**
 * The variants that need the larger seed count: both sides of every claim whose variants are
 * within two standard deviations of each other.
 */
export function variantsNeedingMoreSeeds(results: readonly ClaimResult[]): string[] {
  const out = new Set<string>();
  for (const r of results)
    if (r.close) {
      out.add(r.better);
      out.add(r.worse);
    }
  return [...out].sort();
}
