/**
 * The verdict table through the same provenance check as every saved table (numeric columns
 * tagged measured / proxy / quoted), on claims judged by `judgeClaims` from hand-picked seeds:
 * one clear win (interval above 0), one clear loss (below 0), and one variant without runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLAIMS, judgeClaims } from '../analysis/claims.ts';
import { claimsTable, verdictSummary } from './claims_table.ts';
import { checkProvenance } from './frame.ts';

test('claimsTable: every numeric column is tagged, rows follow the verdicts', () => {
  const runs = {
    'offseg-t-conv-pp': [59.6, 59.0, 60.5],
    'offseg-t-pp': [66.9, 65.1, 64.7],
    'offseg-t-co': [58.1, 57.0, 56.5],
  };
  const results = judgeClaims(
    runs,
    CLAIMS.filter((c) => c.table === 6),
  );
  // only the claims whose two variants have runs: FreqFusion vs conv, class offset vs per-pixel
  assert.deepEqual(
    results.map((r) => [r.better, r.worse, r.difference?.verdict]),
    [
      ['offseg-t-pp', 'offseg-t-conv-pp', 'reproduced'],
      ['offseg-t-co', 'offseg-t-pp', 'not reproduced'],
    ],
  );
  const t = claimsTable('Table 6 claims', results, (m) => ({ 'offseg-t-pp': 42.7 })[m]);
  checkProvenance(t); // throws on an untagged numeric column
  assert.equal(t.rows.length, 2);
  const col = (name: string) => t.columns.indexOf(name);
  assert.equal(t.rows[0][col('verdict (proxy)')], 'reproduced');
  assert.equal(t.rows[1][col('Δ = A − B (proxy)')], -8.37); // 57.2 − 65.567
  assert.equal(t.rows[0][col('Δ ADE20K (quoted)')], null); // conv-pp has no quoted value here
  assert.equal(verdictSummary(results), '1 reproduced, 1 not reproduced, 0 inconclusive');
});
