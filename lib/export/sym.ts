/**
 * Symbolic sizes for dynamic-shape export.
 *
 * Every size a segmentation forward computes from its input (feature-map sides, token counts
 * H·W/1024, attention maps of N·M = (H·W/1024)² entries, resize targets, slice ends…) is, for
 * inputs whose sides are multiples of the size divisor d, a polynomial of degree ≤ 2 in each of
 * h = H/d and w = W/d: Σ c_ij·h^i·w^j, i, j ∈ {0, 1, 2}. A `SymInt` stores those nine
 * coefficients; ./dynamic.ts fits them from recordings at several sizes and the graph builder
 * turns them into a few integer nodes over `Shape(input)`.
 */

/** Degree + 1 of the polynomial in each of h and w. */
export const SYM_ORDER = 3;

/** Σ c_ij·h^i·w^j with h = H/d, w = W/d; `sym[i·3 + j]` = c_ij. */
export interface SymInt {
  readonly sym: readonly number[];
}

/** A size: fixed, or symbolic in the input's height and width. */
export type Dim = number | SymInt;

/**
 * A float scalar that depends on the input size: the polynomial itself (`poly`), or its
 * reciprocal (`recip`, e.g. 1/(h·w) for a mean written as a product).
 */
export interface ScalarSym {
  kind: 'poly' | 'recip';
  poly: SymInt;
}

export function isSym(v: unknown): v is SymInt {
  return typeof v === 'object' && v !== null && 'sym' in v;
}

/** Value of a dimension for input sides h = H/d, w = W/d. */
export function evalDim(d: Dim, h: number, w: number): number {
  if (!isSym(d)) return d;
  let v = 0;
  for (let i = 0; i < SYM_ORDER; i++) {
    for (let j = 0; j < SYM_ORDER; j++) v += d.sym[i * SYM_ORDER + j] * h ** i * w ** j;
  }
  return v;
}

/** The dimension as a plain number. @throws Error naming `what` when it is symbolic. */
export function staticDim(d: Dim, what: string): number {
  if (isSym(d)) throw new Error(`${what} depends on the input size, which this op cannot express`);
  return d;
}

/** A readable form, e.g. `4h`, `16hw`, `2w+1`, `64h²w²`. */
export function formatDim(d: Dim): string {
  if (!isSym(d)) return String(d);
  const pow = ['', '', '²'];
  const terms: string[] = [];
  for (let k = d.sym.length - 1; k >= 0; k--) {
    const c = d.sym[k];
    if (c === 0) continue;
    const i = Math.floor(k / SYM_ORDER);
    const j = k % SYM_ORDER;
    const v = `${i ? `h${pow[i]}` : ''}${j ? `w${pow[j]}` : ''}`;
    terms.push(`${c === 1 && v ? '' : c === -1 && v ? '-' : c}${v}`);
  }
  return terms.join('+').replace(/\+-/g, '-') || '0';
}

/** Coefficients → a Dim; a polynomial with only a constant term is a number. */
export function simplify(c: readonly number[]): Dim {
  if (c.every((v, k) => k === 0 || v === 0)) return c[0];
  return { sym: [...c] };
}

function coefficients(d: Dim): number[] {
  if (isSym(d)) return [...d.sym];
  const c = new Array<number>(SYM_ORDER * SYM_ORDER).fill(0);
  c[0] = d;
  return c;
}

/** a + b. */
export function addDim(a: Dim, b: Dim): Dim {
  if (!isSym(a) && !isSym(b)) return a + b;
  const ca = coefficients(a);
  const cb = coefficients(b);
  return simplify(ca.map((v, k) => v + cb[k]));
}

export function dimEquals(a: Dim, b: Dim): boolean {
  const ca = coefficients(a);
  const cb = coefficients(b);
  return ca.every((v, k) => v === cb[k]);
}
