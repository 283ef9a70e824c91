/**
 * NMF2D, the "ham" of SegNeXt's Hamburger (Geng et al., ICLR 2021), as mmsegmentation 1.x runs
 * it (`ham_head.py` NMF2D).
 *
 * X = the non-negative input viewed as (B·S, D, N), D = C/S, N = H·W. Bases (B·S, D, R) are
 * drawn uniform [0,1) and L2-normalised over D; coef = softmax(inv_t · XᵀBases) over R with
 * inv_t forced to 1 (NMF2D overrides the config's 100). Then `steps` multiplicative updates
 *   coef  ← coef ⊙ (XᵀBases) ⊘ (coef·(BasesᵀBases) + 1e-6)
 *   Bases ← Bases ⊙ (X·coef) ⊘ (Bases·(coefᵀcoef) + 1e-6)
 * (6 in train mode, 7 in eval), one more coef update, and the output Bases·coefᵀ. Every product
 * is a traced `matmul` (fvcore's bmm).
 *
 * DEVIATION (deliberate, for reproducible evaluation): torch draws fresh bases with torch.rand on
 * every forward. Here train mode draws them from a seeded generator that advances per forward
 * (fresh bases every step, repeatable run to run), and eval mode restarts that generator from
 * the seed on every forward, so an image's prediction does not depend on what was evaluated
 * before it.
 *
 * NHWC: X is handled transposed, Xᵀ = (B·S, N, D), which is the [B,H,W,C] map reshaped.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { Rng } from '../core/init.ts';
import { matMul } from '../../ops/conv.ts';

export interface NMF2DOptions {
  /** R: number of bases (mmseg 1.x configs: 16; original SegNeXt B/L: 64). */
  rank: number;
  /** S: channel groups (MD_S; 1 in every config). */
  groups?: number;
  trainSteps?: number;
  evalSteps?: number;
  /** Seed of the bases generator. */
  seed?: number;
}

const EPS = 1e-6;

export class NMF2D extends Module {
  readonly rank: number;
  readonly groups: number;
  readonly trainSteps: number;
  readonly evalSteps: number;
  readonly seed: number;
  private readonly trainRng: Rng;

  constructor(opts: NMF2DOptions) {
    super();
    this.rank = opts.rank;
    this.groups = opts.groups ?? 1;
    this.trainSteps = opts.trainSteps ?? 6;
    this.evalSteps = opts.evalSteps ?? 7;
    this.seed = opts.seed ?? 0;
    this.trainRng = this.registerRng('bases', new Rng(this.seed));
  }

  /** Uniform [0,1) bases (B·S, D, R), L2-normalised over D (F.normalize, eps 1e-12). */
  private bases(bs: number, d: number): tf.Tensor3D {
    const rng = this.training ? this.trainRng : new Rng(this.seed);
    const v = new Float32Array(bs * d * this.rank);
    for (let i = 0; i < v.length; i++) v[i] = rng.next();
    return tf.tidy(() => {
      const b = tf.tensor3d(v, [bs, d, this.rank]);
      const norm = tf.maximum(tf.sqrt(tf.sum(tf.square(b), 1, true)), 1e-12); // (B·S, 1, R)
      return tf.div(b, norm);
    });
  }

  /** x [B,H,W,C] (non-negative) → its rank-R reconstruction [B,H,W,C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const s = this.groups;
      const d = c / s;
      const n = h * w;
      const p = this.path;
      // torch views NCHW as (B·S, D, N) with channel = s·D + d; we keep its transpose.
      const xt = tf.reshape(tf.transpose(tf.reshape(x, [b, n, s, d]), [0, 2, 1, 3]), [b * s, n, d]); // Xᵀ (B·S, N, D)
      let bases: tf.Tensor = this.bases(b * s, d); // (B·S, D, R)
      let coef: tf.Tensor = tf.softmax(matMul(xt, bases, false, false, p)); // (B·S, N, R), inv_t = 1
      const updateCoef = (): void => {
        const num = matMul(xt, bases, false, false, p); // XᵀBases (B·S, N, R)
        const den = matMul(coef, matMul(bases, bases, true, false, p), false, false, p); // (B·S, N, R)
        coef = tf.div(tf.mul(coef, num), tf.add(den, EPS));
      };
      const steps = this.training ? this.trainSteps : this.evalSteps;
      for (let i = 0; i < steps; i++) {
        updateCoef();
        const num = matMul(xt, coef, true, false, p); // X·coef (B·S, D, R)
        const den = matMul(bases, matMul(coef, coef, true, false, p), false, false, p); // (B·S, D, R)
        bases = tf.div(tf.mul(bases, num), tf.add(den, EPS));
      }
      updateCoef(); // compute_coef
      const y = matMul(coef, bases, false, true, p); // (Bases·coefᵀ)ᵀ = (B·S, N, D)
      return tf.reshape(tf.transpose(tf.reshape(y, [b, s, n, d]), [0, 2, 1, 3]), [b, h, w, c]); // [B,H,W,C]
    });
  }
}
