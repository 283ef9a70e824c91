/**
 * Counter-based seeding for data randomness: every random decision is drawn from
 * `new Rng(mixSeed(seed, stream, counter…))`, so the draws for sample k of the stream depend only
 * on (seed, k). That makes prefetching order-independent and resume exact from a position alone.
 */
import { Rng } from '../rng.ts';

/** murmur3-style 32-bit mix of a list of integers (each taken mod 2^32). */
export function mixSeed(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    // split numbers ≥ 2^32 into two words so large counters stay distinct
    const lo = x >>> 0;
    const hi = Math.floor(x / 4294967296) >>> 0;
    for (const w of hi ? [lo, hi] : [lo]) {
      h ^= w;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** Stream tags keep independent uses of one seed apart. */
export const STREAM = {
  shuffle: 0x5348,
  augment: 0xa06e,
  builtin: 0xb117,
} as const;

export function rngFor(...xs: number[]): Rng {
  return new Rng(mixSeed(...xs));
}

/** numpy `random.uniform(lo, hi)`. */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** numpy `random.randint(lo, hi)`: integer in [lo, hi) (high exclusive). */
export function randint(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo);
}

/** Fisher–Yates permutation of 0..n−1. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
