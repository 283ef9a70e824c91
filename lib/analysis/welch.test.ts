import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLAIMS, judgeClaims, variantsNeedingMoreSeeds } from './claims.ts';
import { compareSeeds, needsMoreSeeds, seedStats } from './welch.ts';

// Hand-computed Welch case: a = 1..5 (mean 3, s² = 2.5), b = 2,4,6,8,10.5 (mean 6.1, s² = 11.05).
// se² = 2.5/5 + 11.05/5 = 2.71, t = −3.1/√2.71 = −1.88312,
// ν = 2.71² / ((0.5²)/4 + (2.21²)/4) = 7.3441 / 1.283525 = 5.72182.
// t(0.975; 5.72182) = 2.476040 (Simpson integration of the t density + bisection, float64, done once
// outside this code; scipy.stats.t.ppf agrees to 1e-12), so CI = −3.1 ± 2.476040·1.646208.
test('compareSeeds: Welch difference, df and 95 % interval match a hand-computed case', () => {
  const d = compareSeeds([1, 2, 3, 4, 5], [2, 4, 6, 8, 10.5]);
  assert.ok(Math.abs(d.diff - -3.1) < 1e-12);
  assert.ok(Math.abs(d.df - 5.72182) < 1e-4, `df ${d.df}`);
  const half = 2.47604 * Math.sqrt(2.71);
  assert.ok(Math.abs(d.ci[0] - (-3.1 - half)) < 1e-4, `ci ${d.ci}`);
  assert.ok(Math.abs(d.ci[1] - (-3.1 + half)) < 1e-4, `ci ${d.ci}`);
  assert.equal(d.verdict, 'inconclusive');
  assert.ok(d.pValue > 0.1 && d.pValue < 0.12, `p ${d.pValue}`);
});

test('compareSeeds: verdicts follow the side of 0 the interval lies on', () => {
  assert.equal(compareSeeds([50, 51, 52], [40, 41, 42]).verdict, 'reproduced');
  assert.equal(compareSeeds([40, 41, 42], [50, 51, 52]).verdict, 'not reproduced');
  assert.equal(compareSeeds([50, 52, 48], [50, 51, 49]).verdict, 'inconclusive');
  assert.equal(compareSeeds([50, 50], [49, 49]).verdict, 'reproduced'); // zero variance on both sides
  assert.throws(() => compareSeeds([50], [49, 48]), /at least 2 runs per side/);
});

test('seedStats and needsMoreSeeds: sample std, two-std closeness', () => {
  const s = seedStats([2, 4, 6]);
  assert.equal(s.mean, 4);
  assert.equal(s.std, 2);
  assert.equal(seedStats([7]).std, 0);
  assert.ok(Number.isNaN(seedStats([]).mean));
  assert.equal(needsMoreSeeds([50, 52, 54], [48, 49, 50]), true); // |Δ| = 3 < 2·2
  assert.equal(needsMoreSeeds([50, 52, 54], [45, 46, 47]), false); // |Δ| = 6 ≥ 4
});

test('judgeClaims: every Table 6 pair and every Table 7 width but 256 is a claim; close pairs ask for more seeds', () => {
  assert.equal(CLAIMS.filter((c) => c.table === 6).length, 7);
  assert.deepEqual(
    CLAIMS.filter((c) => c.table === 7).map((c) => c.worse),
    [
      'offseg-t-pp-c64',
      'offseg-t-pp-c128',
      'offseg-t-pp-c512',
      'offseg-t-pp-c768',
      'offseg-t-pp-c1024',
      'offseg-t-pp-c2048',
    ],
  );
  const r = judgeClaims({
    'offseg-t': [60, 61, 62],
    'offseg-t-pp': [55, 56, 57],
    'offseg-t-fo': [59, 61, 63],
  });
  assert.deepEqual(
    r.map((x) => [x.id, x.difference?.verdict, x.close]),
    [
      ['t6-feature-offset', 'reproduced', false], // Δ 5, CI ≈ [0.9, 9.1]
      ['t6-both-vs-pp', 'reproduced', false],
      ['t6-both-vs-feature', 'inconclusive', true], // Δ 0 < 2·2
    ],
  );
  assert.deepEqual(variantsNeedingMoreSeeds(r), ['offseg-t', 'offseg-t-fo']);
});
