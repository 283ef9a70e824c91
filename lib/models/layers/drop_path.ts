/**
 * Stochastic depth (timm/mmcv DropPath): in train mode each sample's residual branch is zeroed
 * with probability p and the survivors scaled by 1/(1−p); identity in eval or at p = 0. Masks
 * come from a seeded `Rng` (registered on the model, so an exact resume restores it).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../rng.ts';

export function dropPath<T extends tf.Tensor>(x: T, p: number, training: boolean, rng: Rng): T {
  if (!training || p <= 0) return x;
  const keep = 1 - p;
  const b = x.shape[0];
  const mask = Array.from({ length: b }, () => Math.floor(keep + rng.next()) / keep);
  const shape = [b, ...x.shape.slice(1).map(() => 1)]; // (B, 1, …, 1)
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, shape))) as T;
}

/** torch.linspace(0, rate, n): the per-block drop-path rates of mmseg backbones. */
export function dropPathRates(rate: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (n > 1 ? (rate * i) / (n - 1) : 0));
}
