/**
 * Dynamic-shape recording: one program valid for every input whose sides are multiples of the
 * model's size divisor d.
 *
 * The forward is recorded at ten probe sizes (h, w) = (H/d, W/d): a 3×3 grid and a check point.
 * The recordings must run the same kernels on the same inputs; every number that differs between
 * them (a shape, a reshape target, a resize size, a slice end, a scalar constant such as W−1) is
 * fitted on the grid as a polynomial of degree ≤ 2 in h and in w (./sym.ts), or for scalars also
 * as the reciprocal of one, and must then reproduce the check point exactly. Whatever cannot be written so — a constant tensor
 * whose values depend on the size, or a different kernel sequence at another size — is reported
 * with the module that ran it.
 */
import type { Segmentor } from '../models/segmentor.ts';
import {
  recordAt,
  type AttrValue,
  type KernelNode,
  type RecordedConstant,
  type RecordMode,
  type Recording,
  type ValueRef,
} from './record.ts';
import { evalDim, isSym, simplify, SYM_ORDER, type Dim, type ScalarSym } from './sym.ts';

/**
 * Probe sides in units of the divisor: a 3×3 grid h ∈ {A, A+1, A+2} × w ∈ {B, B+1, B+2} (index
 * 3·p + q), then the check point. Sides differ (no square input) so that no size coincides by
 * accident across the grid.
 */
const A = 2;
const B = 4;
const GRID = SYM_ORDER * SYM_ORDER;
export const PROBES: readonly (readonly [number, number])[] = [
  ...Array.from({ length: GRID }, (_, k): [number, number] => [
    A + Math.floor(k / SYM_ORDER),
    B + (k % SYM_ORDER),
  ]),
  [A + 3, B + 4],
];

/** Raised when a model cannot be exported with symbolic height and width. */
export class DynamicShapeError extends Error {
  constructor(message: string) {
    super(`cannot export with dynamic H×W: ${message}`);
    this.name = 'DynamicShapeError';
  }
}

/** Coefficients c₀, c₁, c₂ of the quadratic through (x0, v0), (x0+1, v1), (x0+2, v2). */
function quadratic(x0: number, v: readonly number[]): [number, number, number] {
  // Newton form around x0: v0 + d1·(x−x0) + d2·(x−x0)(x−x0−1), then expanded in x.
  const d1 = v[1] - v[0];
  const d2 = (v[2] - 2 * v[1] + v[0]) / 2;
  const c2 = d2;
  const c1 = d1 - d2 * (2 * x0 + 1);
  const c0 = v[0] - d1 * x0 + d2 * x0 * (x0 + 1);
  return [c0, c1, c2];
}

/** Fit Σ c_ij·h^i·w^j (i, j ≤ 2) to values at the probe grid (the first 9 probes). */
function fitGrid(v: readonly number[]): number[] {
  // Per w-row q: coefficients in h; then each h-coefficient as a quadratic in w.
  const inH = [0, 1, 2].map((q) =>
    quadratic(
      A,
      [0, 1, 2].map((p) => v[p * SYM_ORDER + q]),
    ),
  );
  const c = new Array<number>(GRID);
  for (let i = 0; i < SYM_ORDER; i++) {
    const inW = quadratic(
      B,
      inH.map((row) => row[i]),
    );
    for (let j = 0; j < SYM_ORDER; j++) c[i * SYM_ORDER + j] = inW[j];
  }
  return c;
}

/** Round coefficients that are integers up to float noise; undefined if one is not. */
function integral(c: readonly number[]): number[] | undefined {
  const r = c.map((x) => Math.round(x));
  return r.every((x, k) => Math.abs(x - c[k]) <= 1e-6 * Math.max(1, Math.abs(x))) ? r : undefined;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
}

/** A size that varies across probes as a SymInt, or undefined when no polynomial fits. */
function fitInt(values: readonly number[]): Dim | undefined {
  const c = integral(fitGrid(values));
  if (!c) return undefined;
  const d = simplify(c);
  const [h, w] = PROBES[GRID];
  return evalDim(d, h, w) === values[GRID] ? d : undefined;
}

/** A float scalar that varies across probes: a polynomial or the reciprocal of one. */
function fitScalar(values: readonly number[]): ScalarSym | undefined {
  for (const kind of ['poly', 'recip'] as const) {
    const v = kind === 'poly' ? values : values.map((x) => 1 / x);
    const c = fitGrid(v).map((x) => Math.round(x * 1e4) / 1e4);
    if (!c.every(Number.isInteger)) continue;
    const poly = simplify(c);
    if (!isSym(poly)) continue;
    const ok = v.every((x, i) => close(evalDim(poly, PROBES[i][0], PROBES[i][1]), x));
    if (ok) return { kind, poly };
  }
  return undefined;
}

function refKey(r: ValueRef): string {
  switch (r.kind) {
    case 'input':
      return 'input';
    case 'node':
      return `n${r.node}:${r.output}`;
    case 'variable':
      return `v:${r.key}`;
    case 'constant':
      return `c${r.index}`;
  }
}

function where(n: KernelNode, i: number): string {
  return `${n.kernel} (node ${i}, ${n.scope || 'model root'})`;
}

/** Merge the same attribute across the probes; numbers that differ become sizes. */
function mergeValue(values: readonly AttrValue[], what: string): AttrValue {
  const first = values[0];
  if (typeof first === 'number') {
    if (values.every((v) => v === first)) return first;
    if (!values.every((v) => typeof v === 'number'))
      throw new DynamicShapeError(`${what} changes type`);
    const d = fitInt(values as number[]);
    if (d === undefined) {
      throw new DynamicShapeError(
        `${what} = ${values.join(', ')} at the probe sizes is not a size polynomial`,
      );
    }
    return d;
  }
  if (Array.isArray(first)) {
    if (!values.every((v) => Array.isArray(v) && v.length === first.length)) {
      throw new DynamicShapeError(`${what} changes length with the input size`);
    }
    return first.map((_, i) =>
      mergeValue(
        values.map((v) => (v as readonly AttrValue[])[i]),
        what,
      ),
    );
  }
  if (first !== null && typeof first === 'object' && !isSym(first)) {
    const o: Record<string, AttrValue> = {};
    for (const k of Object.keys(first)) {
      o[k] = mergeValue(
        values.map((v) => (v as Record<string, AttrValue>)[k]),
        what,
      );
    }
    return o;
  }
  if (!values.every((v) => v === first))
    throw new DynamicShapeError(`${what} changes with the input size`);
  return first;
}

function mergeShape(shapes: readonly (readonly Dim[])[], what: string): Dim[] {
  return mergeValue(shapes as AttrValue[], what) as Dim[];
}

function mergeConstant(cs: readonly RecordedConstant[], user: string): RecordedConstant {
  const c = cs[0];
  const sameShape = cs.every((x) => x.shape.join() === c.shape.join());
  if (!sameShape) {
    throw new DynamicShapeError(
      `a constant read by ${user} has a size-dependent shape [${c.shape}]`,
    );
  }
  const same = cs.every((x) => x.values.every((v, i) => v === c.values[i]));
  if (same) return c;
  if (c.values.length !== 1) {
    throw new DynamicShapeError(
      `a constant [${c.shape}] read by ${user} holds values that depend on the input size`,
    );
  }
  const s = fitScalar(cs.map((x) => x.values[0]));
  if (!s) {
    throw new DynamicShapeError(
      `the scalar read by ${user} (${cs.map((x) => x.values[0]).join(', ')}) is not a size polynomial`,
    );
  }
  return { ...c, scalarSym: s };
}

/** Merge recordings made at PROBES into one program with symbolic sizes. */
export function mergeRecordings(recs: readonly Recording[]): Recording {
  const [r0] = recs;
  for (const r of recs) {
    if (r.nodes.length !== r0.nodes.length) {
      throw new DynamicShapeError(
        `the forward runs ${r0.nodes.length} kernels at one size and ${r.nodes.length} at another`,
      );
    }
  }
  const users = new Map<number, string>();
  const nodes = r0.nodes.map((n, i) => {
    const all = recs.map((r) => r.nodes[i]);
    for (const m of all) {
      const same =
        m.kernel === n.kernel &&
        Object.keys(m.inputs).join() === Object.keys(n.inputs).join() &&
        Object.keys(n.inputs).every((k) => refKey(m.inputs[k]) === refKey(n.inputs[k]));
      if (!same) {
        throw new DynamicShapeError(
          `at another input size, kernel ${i} is ${m.kernel} (${m.scope}) instead of ${where(n, i)}`,
        );
      }
    }
    for (const ref of Object.values(n.inputs)) {
      if (ref.kind === 'constant' && !users.has(ref.index)) users.set(ref.index, where(n, i));
    }
    const what = where(n, i);
    const inputInfo: KernelNode['inputInfo'] = {};
    for (const k of Object.keys(n.inputInfo)) {
      inputInfo[k] = {
        dtype: n.inputInfo[k].dtype,
        shape: mergeShape(
          all.map((m) => m.inputInfo[k].shape),
          `the shape of input ${k} of ${what}`,
        ),
      };
    }
    return {
      ...n,
      inputInfo,
      attrs: mergeValue(
        all.map((m) => m.attrs),
        `an attribute of ${what}`,
      ) as Record<string, AttrValue>,
      outputs: n.outputs.map((o, j) => ({
        dtype: o.dtype,
        shape: mergeShape(
          all.map((m) => m.outputs[j].shape),
          `the output shape of ${what}`,
        ),
      })),
    };
  });
  if (recs.some((r) => r.constants.length !== r0.constants.length)) {
    throw new DynamicShapeError(
      'the forward makes a different number of constants at another size',
    );
  }
  const constants = r0.constants.map((_, i) =>
    mergeConstant(
      recs.map((r) => r.constants[i]),
      users.get(i) ?? 'an op',
    ),
  );
  return {
    input: {
      dtype: r0.input.dtype,
      shape: mergeShape(
        recs.map((r) => r.input.shape),
        'the input',
      ),
    },
    nodes,
    constants,
    variables: r0.variables,
    output: r0.output,
    outputInfo: {
      dtype: r0.outputInfo.dtype,
      shape: mergeShape(
        recs.map((r) => r.outputInfo.shape),
        'the output',
      ),
    },
  };
}

/**
 * Record `model` at the probe sizes and merge the recordings.
 * @throws DynamicShapeError naming the kernel and module whose computation a symbolic-size graph
 *   cannot express.
 */
export async function recordDynamic(
  model: Segmentor,
  batch: number,
  seed: number,
  mode?: RecordMode,
): Promise<Recording> {
  const d = model.sizeDivisor;
  const recs: Recording[] = [];
  for (const [h, w] of PROBES) recs.push(await recordAt(model, batch, [h * d, w * d], seed, mode));
  return mergeRecordings(recs);
}
