/**
 * Mask2Former's bipartite matching of queries to ground-truth segments (Cheng et al., CVPR
 * 2022, §3.2.2; mmdet `HungarianAssigner` with `ClassificationCost`, `CrossEntropyLossCost`
 * (sigmoid) and `DiceCost` in `mmdet/models/task_modules/assigners/match_cost.py`), on masks
 * sampled at the same P points for predictions and targets:
 *
 *   cost[q, g] = w_cls · (−softmax(cls_q)[label_g])
 *              + w_ce  · (1/P) Σ_p BCE(mask_q(p), gt_g(p))
 *              + w_dice · (1 − (2 Σ_p σ(mask_q(p))·gt_g(p) + ε) / (Σ_p σ(mask_q(p)) + Σ_p gt_g(p) + ε))
 *
 * with the Mask2Former config's weights 2, 5, 5 and ε = 1. The minimum-cost assignment is
 * solved by the `linear-sum-assignment` package (Jonker–Volgenant; rectangular matrices): with
 * more queries than targets every target gets one query, with more targets than queries every
 * query gets one target and the remaining targets go unmatched, as scipy's
 * `linear_sum_assignment` (which mmdet calls) does. Plain numbers in float64; no gradient (the
 * matching is a constant of the loss).
 */
import { linearSumAssignment } from 'linear-sum-assignment';
import { Matrix } from 'ml-matrix';

export interface MatchWeights {
  cls: number;
  mask: number;
  dice: number;
  /** Dice smoothing ε (the Mask2Former config: 1). */
  diceEps: number;
}

export const MASK2FORMER_MATCH: MatchWeights = { cls: 2, mask: 5, dice: 5, diceEps: 1 };

export interface MatchInputs {
  /** Class logits, row-major [Q, K + 1] (the last column is "no object"). */
  clsLogits: ArrayLike<number>;
  /** Mask logits at the sampled points, row-major [Q, P]. */
  maskLogits: ArrayLike<number>;
  /** Target class ids, length G (each in [0, K)). */
  labels: ArrayLike<number>;
  /** Target masks (0/1) at the same points, row-major [G, P]. */
  gtMasks: ArrayLike<number>;
  numQueries: number;
  numPoints: number;
}

export interface Assignment {
  /** For every target g, its query or −1 (only when targets outnumber queries). */
  queryOfTarget: Int32Array;
  /** For every query q, its target or −1 (unmatched queries predict "no object"). */
  targetOfQuery: Int32Array;
  /** Sum of the costs of the matched pairs. */
  total: number;
}

/** log(1 + e^x), stable. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * The matching cost matrix [Q][G] defined in the file comment.
 * @throws Error when the array lengths do not fit Q, P and G, or a label is out of range.
 */
export function matchCost(inp: MatchInputs, w: MatchWeights = MASK2FORMER_MATCH): number[][] {
  const { numQueries: q, numPoints: p } = inp;
  const g = inp.labels.length;
  const k1 = inp.clsLogits.length / q;
  if (!Number.isInteger(k1) || inp.maskLogits.length !== q * p || inp.gtMasks.length !== g * p)
    throw new Error(
      `mask2former_matcher: sizes do not fit (cls ${inp.clsLogits.length}, masks ${inp.maskLogits.length}, gt ${inp.gtMasks.length} for Q=${q}, P=${p}, G=${g})`,
    );
  for (let j = 0; j < g; j++)
    if (!(inp.labels[j] >= 0 && inp.labels[j] < k1 - 1))
      throw new Error(`mask2former_matcher: label ${inp.labels[j]} is not in [0, ${k1 - 1})`);
  const gtSum = Array.from({ length: g }, (_, j) => {
    let s = 0;
    for (let i = 0; i < p; i++) s += inp.gtMasks[j * p + i];
    return s;
  });
  const cost: number[][] = [];
  for (let a = 0; a < q; a++) {
    let mx = -Infinity;
    for (let c = 0; c < k1; c++) mx = Math.max(mx, inp.clsLogits[a * k1 + c]);
    let z = 0;
    for (let c = 0; c < k1; c++) z += Math.exp(inp.clsLogits[a * k1 + c] - mx);
    const pos = new Float64Array(p); // BCE against 1: softplus(−x)
    const neg = new Float64Array(p); // BCE against 0: softplus(x)
    const sig = new Float64Array(p);
    let negSum = 0;
    let sigSum = 0;
    for (let i = 0; i < p; i++) {
      const x = inp.maskLogits[a * p + i];
      pos[i] = softplus(-x);
      neg[i] = softplus(x);
      sig[i] = 1 / (1 + Math.exp(-x));
      negSum += neg[i];
      sigSum += sig[i];
    }
    const row: number[] = [];
    for (let j = 0; j < g; j++) {
      const prob = Math.exp(inp.clsLogits[a * k1 + inp.labels[j]] - mx) / z;
      let ce = negSum;
      let inter = 0;
      for (let i = 0; i < p; i++) {
        const t = inp.gtMasks[j * p + i];
        if (t) {
          ce += t * (pos[i] - neg[i]);
          inter += t * sig[i];
        }
      }
      const dice = 1 - (2 * inter + w.diceEps) / (sigSum + gtSum[j] + w.diceEps);
      row.push(-w.cls * prob + (w.mask * ce) / p + w.dice * dice);
    }
    cost.push(row);
  }
  return cost;
}

/**
 * Minimum-cost assignment of a [Q][G] cost matrix (rectangular either way).
 * @throws Error on a non-finite cost.
 */
export function assign(cost: number[][]): Assignment {
  const q = cost.length;
  const g = q ? cost[0].length : 0;
  const queryOfTarget = new Int32Array(g).fill(-1);
  const targetOfQuery = new Int32Array(q).fill(-1);
  if (q === 0 || g === 0) return { queryOfTarget, targetOfQuery, total: 0 };
  for (const row of cost)
    if (row.length !== g || !row.every(Number.isFinite))
      throw new Error('mask2former_matcher: the cost matrix must be rectangular and finite');
  const r = linearSumAssignment(new Matrix(cost), { maximaze: false });
  let total = 0;
  for (let a = 0; a < q; a++) {
    const j = r.rowAssignments[a];
    if (j >= 0) {
      targetOfQuery[a] = j;
      queryOfTarget[j] = a;
      total += cost[a][j];
    }
  }
  return { queryOfTarget, targetOfQuery, total };
}

/** Cost matrix and assignment for one image. */
export function mask2formerMatch(
  inp: MatchInputs,
  w: MatchWeights = MASK2FORMER_MATCH,
): Assignment {
  return assign(matchCost(inp, w));
}
