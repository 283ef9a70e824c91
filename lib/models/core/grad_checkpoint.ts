/**
 * Gradient checkpointing (activation recomputation) for training under a memory cap.
 *
 * Why: autodiff keeps every intermediate of the forward pass for the backward pass. Measured on
 * OffSeg-T: ≈ 20 KB per input pixel, so a 512² batch-2 step needs ≈ 10 GiB, more than the
 * 4 GiB a wasm32 heap can address. A checkpointed module keeps only its inputs; its backward
 * pass re-runs its forward under a fresh tape and backpropagates through that copy. Cost: one
 * extra forward of the wrapped modules (≈ +30 % step time).
 *
 * Exactness: the recomputation must see the same state as the first pass, so the random
 * generators (drop path) are rewound to their state before the forward, and the BatchNorm
 * running statistics, which a train-mode forward updates, are restored after it.
 * Inactive (plain forward) unless enabled, the module is training, and a gradient tape is
 * recording.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './init.ts';
import type { Module } from './module.ts';

let enabled = false;

/** Turn recomputation on or off for every checkpointed module (default off). */
export function setGradientCheckpointing(on: boolean): void {
  enabled = on;
}

export function gradientCheckpointing(): boolean {
  return enabled;
}

interface EngineWithTape {
  state: { gradientDepth: number; activeTape: unknown };
}

function tapeRecording(): boolean {
  return (tf.engine() as unknown as EngineWithTape).state.gradientDepth > 0;
}

/**
 * y = fn(...inputs), recomputed in the backward pass when checkpointing is active.
 * `owner` supplies the trainable parameters and the buffers `fn` reads; `rngs` every generator
 * `fn` draws from (they may belong to an ancestor, e.g. the backbone's drop-path generator).
 * `unused` names parameters `fn` never reads (an unused classifier kept for checkpoint
 * compatibility): they must get no gradient, as with plain autodiff, so AdamW leaves them alone.
 */
export function checkpointed<T extends tf.Tensor>(
  owner: Module,
  inputs: tf.Tensor[],
  fn: (...xs: tf.Tensor[]) => T,
  rngs: Rng[] = owner.namedRngs().map(([, r]) => r),
  unused: (key: string) => boolean = () => false,
): T {
  if (!enabled || !owner.training || !tapeRecording()) return fn(...inputs);
  const params = owner
    .namedParameters()
    .filter((p) => p.variable.trainable && !unused(p.key))
    .map((p) => p.variable);
  const buffers = owner.namedBuffers().map((b) => b.variable);
  const n = inputs.length;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xs = args.slice(0, n) as tf.Tensor[];
    save(xs);
    const rngBefore = rngs.map((r) => r.getState());
    // Ops inside a custom-gradient forward are not taped: only `value` survives the tidy.
    const value = tf.tidy(() => fn(...xs));
    const gradFunc = (dy: T, saved: tf.Tensor[]): tf.Tensor[] => {
      const rngAfter = rngs.map((r) => r.getState());
      const stats = buffers.map((b) => tf.clone(b));
      rngs.forEach((r, i) => r.setState(rngBefore[i]));
      // A nested gradient inside a backward pass: give it its own tape and put the outer one
      // back afterwards (tfjs would otherwise clear the outer tape when the inner one ends).
      const engine = tf.engine() as unknown as EngineWithTape;
      const outerTape = engine.state.activeTape;
      try {
        const { value: y, grads } = tf
          .engine()
          .gradients(() => fn(...saved), [...saved, ...params], dy, true);
        y.dispose();
        return grads.map((g, i) => g ?? tf.zerosLike(i < n ? saved[i] : params[i - n]));
      } finally {
        engine.state.activeTape = outerTape;
        buffers.forEach((b, i) => b.assign(stats[i]));
        tf.dispose(stats);
        rngs.forEach((r, i) => r.setState(rngAfter[i]));
      }
    };
    return { value, gradFunc };
  });
  return op(...inputs, ...params) as T;
}
