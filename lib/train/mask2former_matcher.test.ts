/**
 * The Mask2Former matcher on hand-built cases: assignments against brute force over every
 * injective map (square, more queries than targets, more targets than queries, ties), and the
 * cost matrix against the three costs written out for a 2-point case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../models/core/init.ts';
import { assign, matchCost, mask2formerMatch } from './mask2former_matcher.ts';

/** Minimum total over all injective maps from the smaller side into the larger. */
function bruteForce(cost: number[][]): number {
  const q = cost.length;
  const g = cost[0].length;
  const small = Math.min(q, g);
  const large = Math.max(q, g);
  const at = (i: number, j: number) => (q <= g ? cost[i][j] : cost[j][i]);
  let best = Infinity;
  const used = new Array<boolean>(large).fill(false);
  const rec = (i: number, acc: number) => {
    if (i === small) {
      best = Math.min(best, acc);
      return;
    }
    for (let j = 0; j < large; j++) {
      if (used[j]) continue;
      used[j] = true;
      rec(i + 1, acc + at(i, j));
      used[j] = false;
    }
  };
  rec(0, 0);
  return best;
}

function checkValid(cost: number[][], r: ReturnType<typeof assign>): void {
  const q = cost.length;
  const g = cost[0].length;
  const pairs = [...r.targetOfQuery].map((j, a) => [a, j]).filter(([, j]) => j >= 0);
  assert.equal(pairs.length, Math.min(q, g), 'every item of the smaller side is matched');
  assert.equal(new Set(pairs.map(([, j]) => j)).size, pairs.length, 'targets used once');
  for (const [a, j] of pairs) assert.equal(r.queryOfTarget[j], a);
  const total = pairs.reduce((s, [a, j]) => s + cost[a][j], 0);
  assert.ok(Math.abs(total - r.total) < 1e-12);
}

test('a case where greedy fails: the optimum, not the row minima', () => {
  // greedy takes (0,0)=1 then (1,1)=4: 5; the optimum is (0,1)+(1,0) = 2 + 2 = 4
  const cost = [
    [1, 2],
    [2, 4],
  ];
  const r = assign(cost);
  assert.deepEqual([...r.targetOfQuery], [1, 0]);
  assert.equal(r.total, 4);
});

test('random rectangular matrices both ways equal brute force', () => {
  const rng = new Rng(3);
  for (const [q, g] of [
    [4, 4],
    [6, 3],
    [3, 6],
    [7, 1],
    [1, 5],
  ]) {
    for (let t = 0; t < 5; t++) {
      const cost = Array.from({ length: q }, () => Array.from({ length: g }, () => rng.normal()));
      const r = assign(cost);
      checkValid(cost, r);
      assert.ok(Math.abs(r.total - bruteForce(cost)) < 1e-9, `${q}×${g}`);
    }
  }
});

test('more targets than queries: every query matched, the rest of the targets unmatched', () => {
  const cost = [
    [5, 1, 9, 3],
    [2, 8, 0.5, 7],
  ];
  const r = assign(cost);
  assert.deepEqual([...r.targetOfQuery], [1, 2]);
  assert.deepEqual([...r.queryOfTarget], [-1, 0, 1, -1]);
  assert.equal(r.total, 1.5);
});

test('ties: a valid optimal matching, the same on every call', () => {
  const cost = Array.from({ length: 5 }, () => [0.25, 0.25, 0.25]);
  const r = assign(cost);
  checkValid(cost, r);
  assert.equal(r.total, 0.75);
  assert.deepEqual([...assign(cost).targetOfQuery], [...r.targetOfQuery]);
  // a tie broken by one cheaper cell: that cell is used
  cost[3][1] = 0;
  const s = assign(cost);
  assert.equal(s.queryOfTarget[1], 3);
  assert.equal(s.total, 0.5);
});

test('cost matrix: −2·p(label) + 5·mean BCE + 5·dice(ε = 1), written out for 2 points', () => {
  // Q = 2 queries, K = 2 classes + no object, P = 2 points, G = 1 target of class 1 on point 0
  const cls = [0, Math.log(3), 0, 1, 1, 1];
  const masks = [2, -1, 0, 0];
  const cost = matchCost({
    clsLogits: cls,
    maskLogits: masks,
    labels: [1],
    gtMasks: [1, 0],
    numQueries: 2,
    numPoints: 2,
  });
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const bce = (x: number, t: number) => -(t * Math.log(sig(x)) + (1 - t) * Math.log(1 - sig(x)));
  const want = (p: number, m0: number, m1: number) =>
    -2 * p +
    (5 * (bce(m0, 1) + bce(m1, 0))) / 2 +
    5 * (1 - (2 * sig(m0) + 1) / (sig(m0) + sig(m1) + 1 + 1));
  assert.ok(Math.abs(cost[0][0] - want(3 / 5, 2, -1)) < 1e-12);
  assert.ok(Math.abs(cost[1][0] - want(1 / 3, 0, 0)) < 1e-12);
  // query 0 is the better segment and class: it is matched
  const r = mask2formerMatch({
    clsLogits: cls,
    maskLogits: masks,
    labels: [1],
    gtMasks: [1, 0],
    numQueries: 2,
    numPoints: 2,
  });
  assert.deepEqual([...r.queryOfTarget], [0]);
  assert.deepEqual([...r.targetOfQuery], [0, -1]);
});

test('errors name the problem; no targets match nothing', () => {
  const base = { clsLogits: [0, 0, 0], maskLogits: [0, 0], numQueries: 1, numPoints: 2 };
  assert.throws(
    () => matchCost({ ...base, labels: [2], gtMasks: [1, 0] }),
    /label 2 is not in \[0, 2\)/,
  );
  assert.throws(() => matchCost({ ...base, labels: [0], gtMasks: [1] }), /sizes do not fit/);
  assert.throws(() => assign([[NaN]]), /rectangular and finite/);
  const none = mask2formerMatch({ ...base, labels: [], gtMasks: [] });
  assert.deepEqual([...none.targetOfQuery], [-1]);
  assert.equal(none.queryOfTarget.length, 0);
});
