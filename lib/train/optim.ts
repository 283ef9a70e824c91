/**
 * AdamW (PyTorch semantics: decoupled weight decay p ← p·(1 − lr·wd), bias-corrected moments,
 * eps added to √v̂) with a per-parameter lr and weight-decay multiplier, as mmengine's
 * OptimWrapper builds from `paramwise_cfg`. State is plain tensors so it can be checkpointed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamGroupSpec } from './param_groups.ts';

export interface AdamWConfig {
  lr: number;
  betas: [number, number];
  weightDecay: number;
  eps: number;
}

export interface AdamWState {
  step: number;
  m: Map<string, tf.Variable>;
  v: Map<string, tf.Variable>;
}

export interface OptimParam {
  key: string;
  variable: tf.Variable;
  group: ParamGroupSpec;
}

export class AdamW {
  readonly state: AdamWState = { step: 0, m: new Map(), v: new Map() };

  constructor(
    readonly params: OptimParam[],
    readonly cfg: AdamWConfig,
  ) {
    for (const p of params) {
      this.state.m.set(p.key, tf.variable(tf.zerosLike(p.variable), false));
      this.state.v.set(p.key, tf.variable(tf.zerosLike(p.variable), false));
    }
  }

  /**
   * One update. `lr` is the schedule: a multiplier of every group's base lr, or a function from a
   * group's base lr (cfg.lr × lrMult) to its current lr (needed when eta_min ≠ 0).
   * `grads` maps parameter keys to gradients (missing = no gradient this step, skipped).
   */
  step(grads: Map<string, tf.Tensor>, lr: number | ((baseLr: number) => number)): void {
    this.state.step += 1;
    const t = this.state.step;
    const [b1, b2] = this.cfg.betas;
    const bc1 = 1 - Math.pow(b1, t);
    const bc2 = 1 - Math.pow(b2, t);
    for (const p of this.params) {
      const g = grads.get(p.key);
      if (!g) continue;
      const base = this.cfg.lr * p.group.lrMult;
      const lrNow = typeof lr === 'number' ? base * lr : lr(base);
      const wd = this.cfg.weightDecay * p.group.decayMult;
      const m = this.state.m.get(p.key)!;
      const v = this.state.v.get(p.key)!;
      tf.tidy(() => {
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const decayed = wd !== 0 ? tf.mul(p.variable, 1 - lrNow * wd) : p.variable;
        const denom = tf.add(tf.sqrt(tf.div(v, bc2)), this.cfg.eps);
        p.variable.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lrNow / bc1)));
      });
    }
  }

  dispose(): void {
    for (const x of [...this.state.m.values(), ...this.state.v.values()]) x.dispose();
  }
}
