/**
 * The verdict table of the proxy study: one row per paper claim "A beats B" with both
 * variants' proxy mIoU (mean ± std, n), the difference with its Welch 95 % interval and p value,
 * the verdict, and the paper's own difference (quoted, ADE20K) for reference.
 */
import type { ClaimResult } from '../analysis/claims.ts';
import type { Table } from './table.ts';

const r2 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
const ms = (s: { mean: number; std: number; n: number }): string =>
  `${s.mean.toFixed(2)} ± ${s.std.toFixed(2)} (n=${s.n})`;

/**
 * @param quoted the paper's ADE20K mIoU of a registry name (undefined: not in the paper's table).
 */
export function claimsTable(
  title: string,
  results: readonly ClaimResult[],
  quoted: (model: string) => number | undefined,
): Table {
  return {
    title,
    columns: [
      'claim (paper)',
      'A',
      'B',
      'A mIoU (proxy)',
      'B mIoU (proxy)',
      'Δ = A − B (proxy)',
      '95 % CI of Δ, Welch (proxy)',
      'p, two-sided (proxy)',
      'verdict (proxy)',
      'Δ ADE20K (quoted)',
    ],
    rows: results.map((c) => {
      const qa = quoted(c.better);
      const qb = quoted(c.worse);
      const d = c.difference;
      return [
        c.statement,
        c.better,
        c.worse,
        ms(c.betterStats),
        ms(c.worseStats),
        r2(c.betterStats.mean - c.worseStats.mean),
        d ? `[${d.ci[0].toFixed(2)}, ${d.ci[1].toFixed(2)}]` : null,
        d ? Number(d.pValue.toPrecision(2)) : null,
        d ? d.verdict : 'not judged (< 2 seeds)',
        qa !== undefined && qb !== undefined ? r2(qa - qb) : null,
      ];
    }),
    notes: [
      'Verdict rule: reproduced when the whole 95 % interval of Δ is above 0, not reproduced when it is below 0 (the opposite holds), inconclusive when it contains 0. Welch’s unequal-variance t test over seeds (@stdlib/stats-ttest2).',
      'Seeds: 3 per variant; both variants of a claim get 5 when their means are within two standard deviations.',
      'Proxy differences are on the built-in dataset and are not comparable in size with the paper’s ADE20K differences; only their sign is compared.',
    ],
  };
}

/** "3 reproduced, 1 not reproduced, 2 inconclusive" for a set of claims. */
export function verdictSummary(results: readonly ClaimResult[]): string {
  const count = (v: string) => results.filter((c) => c.difference?.verdict === v).length;
  const parts = [
    `${count('reproduced')} reproduced`,
    `${count('not reproduced')} not reproduced`,
    `${count('inconclusive')} inconclusive`,
  ];
  const nj = results.filter((c) => !c.difference).length;
  if (nj) parts.push(`${nj} not judged`);
  return parts.join(', ');
}
