/**
 * Independent gradient checks: central differences of the forward pass, never tfjs autodiff.
 *
 * A gradient under test (tfjs autodiff of our forward, a WASM kernel, a hand-written adjoint)
 * is compared with the derivative of the *forward* function estimated by central differences:
 *   D(h) = (F(x + h·v) − F(x − h·v)) / 2h,   R = (4·D(h/2) − D(h)) / 3   (Richardson),
 * which cancels the O(h²) truncation term, leaving O(h⁴). The forward runs in float32 (tfjs has
 * no float64), so float32 noise is controlled three ways:
 * - the scalar objective F = Σ w ⊙ y (fixed random w) is summed in float64 from the outputs;
 * - the step actually taken is the float32-rounded one: the analytic side is ⟨g, d⟩ with d built
 *   from the rounded points (x ± h·v as stored), not the nominal h·v, so input rounding cancels;
 * - h is large enough (default 1e-2 of an O(1) input) that output rounding (≈ 6e-8 relative)
 *   divided by 2h stays near 1e-5 of the derivative, and Richardson keeps truncation negligible.
 * The forward itself is checked elsewhere against the official implementation (parity tests),
 * so "derivative of the forward" is the derivative of the paper's model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../lib/rng.ts';

/** Directional derivative estimate and the effective direction its analytic twin must use. */
export interface Directional {
  /** Richardson-extrapolated central difference of the objective along v. */
  fd: number;
  /** d such that ⟨∇F, d⟩ is exactly what `fd` estimates (float64, from the rounded steps). */
  dir: Float64Array[];
}

/**
 * Central difference of `objective` along v from x0 (arrays as float32, objective in float64).
 * Calls the objective four times. `x0` is not modified.
 */
export function directionalDerivative(
  objective: (xs: Float32Array[]) => number,
  x0: readonly Float32Array[],
  v: readonly Float32Array[],
  h: number,
): Directional {
  const at = (s: number): Float32Array[] =>
    x0.map((x, k) => {
      const out = new Float32Array(x.length);
      const vk = v[k];
      for (let i = 0; i < x.length; i++) out[i] = x[i] + s * vk[i];
      return out;
    });
  const p1 = at(h);
  const m1 = at(-h);
  const p2 = at(h / 2);
  const m2 = at(-h / 2);
  const d1 = (objective(p1) - objective(m1)) / (2 * h);
  const d2 = (objective(p2) - objective(m2)) / h;
  const dir = x0.map((x, k) => {
    const d = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      d[i] = (4 * (p2[k][i] - m2[k][i])) / h / 3 - (p1[k][i] - m1[k][i]) / (2 * h) / 3;
    }
    return d;
  });
  return { fd: (4 * d2 - d1) / 3, dir };
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export interface GradCheckOptions {
  /** Step h in input units (default 1e-2). */
  eps?: number;
  /** Inputs with at most this many elements are checked coordinate by coordinate (default 48);
   * larger ones on `sampled` random coordinates plus `directions` random directions. */
  maxCoords?: number;
  sampled?: number;
  directions?: number;
  /** Pass bound on |g − fd| relative to the input's largest |fd| (default 1e-3). */
  tol?: number;
  seed?: number;
  /** Indices of inputs not to check (integer inputs are skipped anyway). */
  skip?: number[];
}

export interface InputCheck {
  input: number;
  /** max |analytic − fd| / scale over the checked coordinates and directions. */
  rel: number;
  /** max |fd| over coordinates (or the direction-normalised fd), the scale of `rel`. */
  scale: number;
  checks: number;
}

export interface GradCheckResult {
  label: string;
  inputs: InputCheck[];
  worst: number;
  pass: boolean;
}

/**
 * Check the gradient of f at `inputs` against central differences of f (see the file comment).
 * f may return one tensor or several; the objective is Σ_k ⟨w_k, y_k⟩ with fixed random w_k.
 * Runs on the current backend; returns the per-input worst relative error (never throws on a
 * mismatch — assert on `pass`/`worst` so the message names the op).
 */
export function gradCheck(
  label: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  inputs: readonly tf.Tensor[],
  opts: GradCheckOptions = {},
): GradCheckResult {
  const h = opts.eps ?? 1e-2;
  const tol = opts.tol ?? 1e-3;
  const rng = new Rng(opts.seed ?? 12345);
  const shapes = inputs.map((t) => t.shape);
  const dtypes = inputs.map((t) => t.dtype);
  const x0 = inputs.map((t) => Float32Array.from(t.dataSync()));
  const outs = (xs: Float32Array[]): tf.Tensor[] => {
    const ts = xs.map((x, k) =>
      dtypes[k] === 'float32' ? tf.tensor(x, shapes[k]) : tf.tensor(x, shapes[k], dtypes[k]),
    );
    const y = f(...ts);
    return Array.isArray(y) ? y : [y];
  };
  // fixed weights, one per output element
  const probe = tf.tidy(() => outs(x0).map((y) => y.size));
  const w = probe.map((n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal();
    return a;
  });
  const objective = (xs: Float32Array[]): number =>
    tf.tidy(() => outs(xs).reduce((s, y, k) => s + dot(y.dataSync(), w[k]), 0));
  const checked = inputs.map((_, k) => dtypes[k] === 'float32' && !(opts.skip ?? []).includes(k));
  // analytic gradient of the same objective
  const grads = tf.tidy(() => {
    const vars = inputs.map((t, k) => (checked[k] ? tf.tensor(x0[k], shapes[k]) : t));
    const idx = vars.map((_, k) => k).filter((k) => checked[k]);
    const g = tf.grads((...xs: tf.Tensor[]) => {
      const all = vars.map((v, k) => (checked[k] ? xs[idx.indexOf(k)] : v));
      const ys = f(...all);
      const list = Array.isArray(ys) ? ys : [ys];
      return list.reduce(
        (s: tf.Tensor, y, k) => tf.add(s, tf.sum(tf.mul(y, tf.tensor(w[k], y.shape)))),
        tf.scalar(0),
      );
    })(idx.map((k) => vars[k]));
    return g;
  });
  const gArr = new Map<number, Float32Array>();
  let gi = 0;
  inputs.forEach((_, k) => {
    if (checked[k]) gArr.set(k, Float32Array.from(grads[gi++].dataSync()));
  });
  tf.dispose(grads);

  const result: InputCheck[] = [];
  for (let k = 0; k < inputs.length; k++) {
    if (!checked[k]) continue;
    const g = gArr.get(k) as Float32Array;
    const n = x0[k].length;
    const zero = x0.map((x) => new Float32Array(x.length));
    const pairs: [number, number][] = []; // [fd, analytic]
    const coords =
      n <= (opts.maxCoords ?? 48)
        ? Array.from({ length: n }, (_, i) => i)
        : Array.from({ length: opts.sampled ?? 12 }, () => Math.floor(rng.next() * n));
    for (const i of coords) {
      const v = zero.map((z) => z.slice());
      v[k][i] = 1;
      const d = directionalDerivative(objective, x0, v, h);
      pairs.push([d.fd, g[i] * d.dir[k][i]]);
    }
    const nDir = n <= (opts.maxCoords ?? 48) ? 0 : (opts.directions ?? 2);
    for (let r = 0; r < nDir; r++) {
      const v = zero.map((z) => z.slice());
      for (let i = 0; i < n; i++) v[k][i] = rng.normal() / Math.sqrt(n);
      const d = directionalDerivative(objective, x0, v, h);
      pairs.push([d.fd, dot(g, d.dir[k])]);
    }
    const scale = Math.max(1e-6, ...pairs.map(([a]) => Math.abs(a)));
    const rel = Math.max(...pairs.map(([a, b]) => Math.abs(a - b) / scale));
    result.push({ input: k, rel, scale, checks: pairs.length });
  }
  const worst = Math.max(0, ...result.map((r) => r.rel));
  return { label, inputs: result, worst, pass: worst <= tol && Number.isFinite(worst) };
}

/** One-line summary for test messages and the findings table. */
export function describeCheck(r: GradCheckResult): string {
  const parts = r.inputs.map(
    (c) =>
      `in${c.input}: rel ${c.rel.toExponential(2)} (scale ${c.scale.toPrecision(3)}, ${c.checks} checks)`,
  );
  return `${r.label} — ${parts.join('; ')}`;
}
