/**
 * Seed statistics for the proxy study: mean ± sample std of a variant's runs, and the 95 %
 * confidence interval of the difference of two variants' means by Welch's unequal-variance t
 * test (the t distribution comes from @stdlib/stats-ttest2; this file only decides what to ask
 * it and how to read the answer).
 *
 * A claim "A beats B" gets one of three verdicts from the interval of mean(A) − mean(B):
 *   reproduced      the whole interval is above 0 (A is better, p < 0.05 two-sided);
 *   not reproduced  the whole interval is below 0 (B is better: the opposite of the claim);
 *   inconclusive    the interval contains 0 (more seeds, or no difference at this scale).
 */
import ttest2 from '@stdlib/stats-ttest2';

export type Verdict = 'reproduced' | 'not reproduced' | 'inconclusive';

export interface SeedStats {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single run, NaN for none. */
  std: number;
  n: number;
}

/** Mean and sample standard deviation of the values (mIoU in %, one per seed). */
export function seedStats(values: readonly number[]): SeedStats {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v), n };
}

export interface Difference {
  /** mean(A) − mean(B), in the units of the values (mIoU points). */
  diff: number;
  /** 95 % confidence interval of the difference (Welch). */
  ci: [number, number];
  /** Two-sided p value of "no difference" (Welch). */
  pValue: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  verdict: Verdict;
}

/**
 * Welch's t test of mean(a) − mean(b) and the verdict on the claim "a beats b".
 * @throws Error when a side has fewer than 2 runs (no variance, no interval).
 */
export function compareSeeds(a: readonly number[], b: readonly number[]): Difference {
  if (a.length < 2 || b.length < 2)
    throw new Error(
      `compareSeeds: need at least 2 runs per side for a confidence interval, got ${a.length} and ${b.length}`,
    );
  const sa = seedStats(a);
  const sb = seedStats(b);
  const diff = sa.mean - sb.mean;
  if (sa.std === 0 && sb.std === 0) {
    // identical runs on both sides: the interval collapses to the point
    const verdict: Verdict = diff > 0 ? 'reproduced' : diff < 0 ? 'not reproduced' : 'inconclusive';
    return { diff, ci: [diff, diff], pValue: diff === 0 ? 1 : 0, df: NaN, verdict };
  }
  const r = ttest2([...a], [...b], { variance: 'unequal', alpha: 0.05 });
  const ci: [number, number] = [r.ci[0], r.ci[1]];
  const verdict: Verdict = ci[0] > 0 ? 'reproduced' : ci[1] < 0 ? 'not reproduced' : 'inconclusive';
  return { diff, ci, pValue: r.pValue, df: r.df, verdict };
}

/**
 * Whether two variants are close enough to need more seeds: their means within two standard
 * deviations (the larger of the two) of each other.
 */
export function needsMoreSeeds(a: readonly number[], b: readonly number[]): boolean {
  const sa = seedStats(a);
  const sb = seedStats(b);
  return Math.abs(sa.mean - sb.mean) < 2 * Math.max(sa.std, sb.std);
}
