/**
 * "Did you mean …?" for config keys: the keys the schema allows at a path, and the one closest to
 * a typo (`schedule.iteration` → `schedule.iterations`, `data.batchsize` → `data.batchSize`).
 */
import { z } from 'zod';

/** Levenshtein distance, case-insensitive (a wrong case is a typo of length 0). */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length];
}

/**
 * The candidate closest to `word` if it is close enough to be a typo: at most 2 edits, or a third
 * of the word for long words; undefined otherwise (and for an exact match).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === word) return undefined;
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= limit ? best : undefined;
}

/** The object schema under wrappers (optional, default, refinements), if it is one. */
function objectOf(schema: z.ZodTypeAny): z.AnyZodObject | undefined {
  let s: z.ZodTypeAny = schema;
  for (;;) {
    if (s instanceof z.ZodObject) return s;
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodDefault) s = s._def.innerType;
    else if (s instanceof z.ZodEffects) s = s.innerType();
    else return undefined;
  }
}

/** The keys an object schema allows at `path` (e.g. ['data', 'dataset']); [] if not an object. */
export function schemaKeysAt(schema: z.ZodTypeAny, path: readonly (string | number)[]): string[] {
  let s: z.ZodTypeAny | undefined = schema;
  for (const p of path) {
    const o: z.AnyZodObject | undefined = s && objectOf(s);
    s = o ? (o.shape as Record<string, z.ZodTypeAny>)[String(p)] : undefined;
  }
  const o = s && objectOf(s);
  return o ? Object.keys(o.shape) : [];
}
