/**
 * Mask2Former's training loss for semantic segmentation (Cheng et al., CVPR 2022, §3.2.2 and
 * §4; mmdet `Mask2FormerHead.loss_by_feat` / `_loss_by_feat_single` in
 * `mmdet/models/dense_heads/mask2former_head.py`, targets as mmseg's `Mask2FormerHead` builds
 * them), summed over every prediction (deep supervision: the initial one and one per decoder
 * layer). Per prediction:
 *
 * 1. targets: one binary mask per class present in the label map (ignore 255 dropped);
 * 2. matching (mask2former_matcher.ts) on P points drawn uniformly, the same for every query
 *    and target of an image;
 * 3. class loss: softmax cross-entropy over all queries, target = the matched class or "no
 *    object" (index K), class weights 1 and 0.1 (no object), mean weighted by those weights;
 * 4. mask losses on the matched pairs, at P points per pair chosen by uncertainty (PointRend):
 *    draw oversample·P random points, keep the importance·P where the detached logit is closest
 *    to 0, add (1 − importance)·P random points; sigmoid BCE averaged over pairs × points and
 *    Dice (1 − (2Σσt + 1)/(Σσ + Σt + 1), ε = 1) averaged over pairs;
 * 5. total = w_cls·cls + w_mask·BCE + w_dice·Dice (2, 5, 5).
 * Point sampling is bilinear with align_corners=False and zero padding (mmcv `point_sample`):
 * of the predicted masks for the BCE and Dice through msDeformAttn with one level, one head and
 * weight 1 (lib/ops/ms_deform_attn.ts, differentiable); everything without a gradient (matching
 * samples, targets, uncertainty candidates) on the host (point_sample_host.ts), off the tape.
 * Masks NHWC: predictions [B, h, w, Q], targets [G, H, W] per image at label size.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../models/core/init.ts';
import { msDeformAttn } from '../ops/ms_deform_attn.ts';
import { mask2formerMatch, MASK2FORMER_MATCH, type MatchWeights } from './mask2former_matcher.ts';
import { pointSampleHost } from './point_sample_host.ts';

export interface SegTarget {
  /** Class id of each target mask (G). */
  labels: number[];
  /** Binary masks [G, H, W] (float 0/1) at label size. */
  masks: tf.Tensor3D;
}

export interface Mask2FormerLossOptions {
  /** Points per mask (config: 12544). */
  numPoints: number;
  /** Candidate points per kept point (config: 3). */
  oversample?: number;
  /** Share of points chosen by uncertainty (config: 0.75). */
  importance?: number;
  /** Class weight of "no object" (config: 0.1). */
  noObjectWeight?: number;
  /** Loss weights (config: class 2, mask BCE 5, Dice 5). */
  weights?: { cls: number; mask: number; dice: number };
  match?: MatchWeights;
  /** Generator of the random points. */
  rng: Rng;
  /**
   * Tests only: fixed points instead of random ones — `matching` [P, 2] and `mask` per image
   * [M_b · P · 2] (x, y) in [0, 1], which then skips the uncertainty selection.
   */
  points?: { matching: Float32Array; mask: Float32Array }[];
}

/** One binary mask per class present in a label map [H·W] (255 ignored), classes ascending. */
export function semanticTargets(
  label: ArrayLike<number>,
  h: number,
  w: number,
  ignoreIndex = 255,
): { labels: number[]; masks: Float32Array } {
  const classes = [...new Set(Array.from(label))]
    .filter((c) => c !== ignoreIndex)
    .sort((a, b) => a - b);
  const masks = new Float32Array(classes.length * h * w);
  classes.forEach((c, g) => {
    for (let i = 0; i < h * w; i++) if (label[i] === c) masks[g * h * w + i] = 1;
  });
  return { labels: classes, masks };
}

/** maps [N,h,w] sampled at points [N·P·2] (x, y in [0, 1]) → [N, P] (zero padding). */
export function pointSample(maps: tf.Tensor3D, points: Float32Array, p: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, h, w] = maps.shape;
    const value = tf.reshape(maps, [n, h * w, 1, 1]) as tf.Tensor4D;
    const loc = tf.tensor(points, [n, p, 1, 1, 1, 2]);
    return tf.reshape(msDeformAttn(value, [[h, w]], loc, tf.ones([n, p, 1, 1, 1])), [n, p]);
  });
}

function randomPoints(rng: Rng, count: number): Float32Array {
  const out = new Float32Array(2 * count);
  for (let i = 0; i < out.length; i++) out[i] = rng.next();
  return out;
}

/**
 * PointRend's training points for N masks (`get_uncertain_point_coords_with_randomness`):
 * per mask the ⌊importance·P⌋ most uncertain (smallest |logit|) of oversample·P random points,
 * then random points up to P. `logits` [N,h,w] are read as values (no gradient).
 */
export function uncertainPoints(
  logits: tf.Tensor3D,
  p: number,
  oversample: number,
  importance: number,
  rng: Rng,
): Float32Array {
  const n = logits.shape[0];
  const cand = Math.floor(p * oversample);
  const keep = Math.floor(importance * p);
  const candidates = randomPoints(rng, n * cand);
  const [, lh, lw] = logits.shape;
  const v = pointSampleHost(logits.dataSync(), n, lh, lw, candidates, cand);
  const out = new Float32Array(n * p * 2);
  for (let m = 0; m < n; m++) {
    const order = Array.from({ length: cand }, (_, i) => i).sort(
      (a, b) => Math.abs(v[m * cand + a]) - Math.abs(v[m * cand + b]),
    );
    for (let i = 0; i < keep; i++) {
      out[(m * p + i) * 2] = candidates[(m * cand + order[i]) * 2];
      out[(m * p + i) * 2 + 1] = candidates[(m * cand + order[i]) * 2 + 1];
    }
    for (let i = keep; i < p; i++) {
      out[(m * p + i) * 2] = rng.next();
      out[(m * p + i) * 2 + 1] = rng.next();
    }
  }
  return out;
}

export interface LossParts {
  cls: number;
  mask: number;
  dice: number;
}

/**
 * Loss of one prediction: cls [B,Q,K+1], masks [B,h,w,Q], one SegTarget per image.
 * `pointsOf` gives the test points of image b (see options). Returns the weighted total.
 */
function singleLoss(
  cls: tf.Tensor3D,
  masks: tf.Tensor4D,
  targets: SegTarget[],
  opts: Mask2FormerLossOptions,
  fixed: Mask2FormerLossOptions['points'],
  parts: LossParts,
): tf.Scalar {
  return tf.tidy(() => singleLossBody(cls, masks, targets, opts, fixed, parts));
}

function singleLossBody(
  cls: tf.Tensor3D,
  masks: tf.Tensor4D,
  targets: SegTarget[],
  opts: Mask2FormerLossOptions,
  fixed: Mask2FormerLossOptions['points'],
  parts: LossParts,
): tf.Scalar {
  const [b, q, k1] = cls.shape;
  const p = opts.numPoints;
  const w = opts.weights ?? { cls: 2, mask: 5, dice: 5 };
  const labels = new Int32Array(b * q).fill(k1 - 1);
  const predMasks: tf.Tensor2D[] = [];
  const gtMasks: tf.Tensor2D[] = [];
  const clsData = cls.dataSync();
  for (let i = 0; i < b; i++) {
    const t = targets[i];
    const g = t.labels.length;
    const mi = tf.transpose(
      tf.squeeze(tf.slice(masks, [i, 0, 0, 0], [1, -1, -1, -1]), [0]),
      [2, 0, 1],
    ) as tf.Tensor3D; // (Q, h, w)
    if (g === 0) continue;
    const matchPts = fixed?.[i].matching ?? randomPoints(opts.rng, p);
    // Samples without a gradient (matching, targets, candidates) are taken on the host.
    const [, mh, mw] = mi.shape;
    const [, th, tw] = t.masks.shape;
    const miHost = mi.dataSync();
    const gtHost = t.masks.dataSync();
    const a = mask2formerMatch(
      {
        clsLogits: clsData.subarray(i * q * k1, (i + 1) * q * k1),
        maskLogits: pointSampleHost(miHost, q, mh, mw, matchPts, p),
        labels: t.labels,
        gtMasks: pointSampleHost(gtHost, g, th, tw, matchPts, p),
        numQueries: q,
        numPoints: p,
      },
      opts.match ?? MASK2FORMER_MATCH,
    );
    const pairs = [...a.queryOfTarget].map((qq, gg) => [qq, gg]).filter(([qq]) => qq >= 0);
    for (const [qq, gg] of pairs) labels[i * q + qq] = t.labels[gg];
    const qIdx = tf.tensor1d(
      pairs.map(([qq]) => qq),
      'int32',
    );
    const pm = tf.gather(mi, qIdx) as tf.Tensor3D; // (M, h, w)
    const pts =
      fixed?.[i].mask ??
      uncertainPoints(pm, p, opts.oversample ?? 3, opts.importance ?? 0.75, opts.rng);
    predMasks.push(pointSample(pm, pts, p));
    const gm = new Float32Array(pairs.length * th * tw); // matched targets (M, H, W)
    pairs.forEach(([, gg], j) =>
      gm.set(gtHost.subarray(gg * th * tw, (gg + 1) * th * tw), j * th * tw),
    );
    gtMasks.push(tf.tensor2d(pointSampleHost(gm, pairs.length, th, tw, pts, p), [pairs.length, p]));
  }
  {
    const noObj = opts.noObjectWeight ?? 0.1;
    const lab = tf.tensor1d(labels, 'int32');
    const cw = tf.tensor1d(Array.from(labels, (l) => (l === k1 - 1 ? noObj : 1)));
    const logp = tf.logSoftmax(tf.reshape(cls, [b * q, k1]));
    const ce = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(lab, k1)), 1)); // (B·Q)
    const lCls = tf.div(tf.sum(tf.mul(ce, cw)), tf.sum(cw));
    let total = tf.mul(lCls, w.cls);
    parts.cls += lCls.dataSync()[0];
    if (predMasks.length) {
      const x = tf.concat(predMasks, 0); // (M, P)
      const t = tf.concat(gtMasks, 0);
      const m = x.shape[0];
      // BCE with logits: max(x, 0) − x·t + log(1 + e^−|x|)
      const bce = tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
      const lMask = tf.div(tf.sum(bce), m * p);
      const s = tf.sigmoid(x);
      const num = tf.add(tf.mul(tf.sum(tf.mul(s, t), 1), 2), 1);
      const den = tf.add(tf.add(tf.sum(s, 1), tf.sum(t, 1)), 1);
      const lDice = tf.div(tf.sum(tf.sub(1, tf.div(num, den))), m);
      parts.mask += lMask.dataSync()[0];
      parts.dice += lDice.dataSync()[0];
      total = tf.add(total, tf.add(tf.mul(lMask, w.mask), tf.mul(lDice, w.dice)));
    }
    return total as tf.Scalar;
  }
}

/**
 * The Mask2Former loss over all predictions: cls[i] [B,Q,K+1], masks[i] [B,h,w,Q], one target
 * per image. Returns the scalar total and the unweighted parts summed over predictions.
 * @throws Error when the number of targets differs from the batch size.
 */
export function mask2formerLoss(
  pred: { cls: tf.Tensor3D[]; masks: tf.Tensor4D[] },
  targets: SegTarget[],
  opts: Mask2FormerLossOptions,
): { total: tf.Scalar; parts: LossParts } {
  if (targets.length !== pred.cls[0].shape[0])
    throw new Error(
      `mask2former_loss: ${targets.length} targets for a batch of ${pred.cls[0].shape[0]}`,
    );
  const parts: LossParts = { cls: 0, mask: 0, dice: 0 };
  const terms = pred.cls.map((c, i) =>
    singleLoss(c, pred.masks[i], targets, opts, opts.points, parts),
  );
  return { total: tf.addN(terms) as tf.Scalar, parts };
}
