/**
 * One-pass exact GELU and its gradient for WASM (docs/backends.md).
 *
 * Why: `x·Φ(x)` composed from tfjs ops is five passes over the tensor (two multiplies, the
 * erf, an add, a multiply) and the WASM `Erf` is a scalar libm loop (~4 ns/element); at 512²
 * inference of OffSeg-T these were ~20 % of the time. Its gradient, built by the tape from the
 * same pieces, adds an `Exp` and several more passes.
 *
 * How: Φ (the standard normal CDF) and φ (its density) are tabulated once, in float64, on
 * [−10, 10] with step 1/32, as cubic Hermite pieces (values and derivatives Φ' = φ,
 * φ' = −x·φ at both ends of each interval). Interpolation error is below 4e-9 absolute, far
 * under float32 resolution; outside the range Φ is exactly 0 or 1 in float32. The table is
 * built from the everywhere-convergent series erf(z) = 2/√π·e^{−z²}·Σ 2ⁿz^{2n+1}/(2n+1)!!.
 *
 *   forward:  y  = x·Φ(x)
 *   backward: dx = dy·(Φ(x) + x·φ(x))
 *
 * The kernels read and write the WASM heap directly (like ./heap.ts users); `geluInto` and
 * `geluGradInto` are exported for tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { byteOffset, internals } from './heap.ts';

export const GELU_KERNEL = 'OffsegGelu';
export const GELU_GRAD_KERNEL = 'OffsegGeluGrad';

const LIM = 10;
const PER_UNIT = 32;
const H = 1 / PER_UNIT;
const INTERVALS = 2 * LIM * PER_UNIT;

/** erf(z) in float64 (|error| ~1e-16) from the positive series above. */
export function erf64(z: number): number {
  const a = Math.abs(z);
  if (a > 6) return Math.sign(z);
  const z2 = 2 * a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 400; n++) {
    term *= z2 / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return Math.sign(z) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}

/** Per interval i: cubic coefficients (in t ∈ [0,1)) of Φ and of φ, 4 each. */
function buildTables(): { cdf: Float64Array; pdf: Float64Array } {
  const cdf = new Float64Array(4 * INTERVALS);
  const pdf = new Float64Array(4 * INTERVALS);
  const phi = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  const Phi = (x: number): number => 0.5 * (1 + erf64(x * Math.SQRT1_2));
  // Hermite: f(t) = f0 + h·d0·t + (3(f1−f0) − h(2d0+d1))·t² + (2(f0−f1) + h(d0+d1))·t³.
  const put = (c: Float64Array, i: number, f0: number, d0: number, f1: number, d1: number) => {
    c[4 * i] = f0;
    c[4 * i + 1] = H * d0;
    c[4 * i + 2] = 3 * (f1 - f0) - H * (2 * d0 + d1);
    c[4 * i + 3] = 2 * (f0 - f1) + H * (d0 + d1);
  };
  for (let i = 0; i < INTERVALS; i++) {
    const x0 = -LIM + i * H;
    const x1 = x0 + H;
    const p0 = phi(x0);
    const p1 = phi(x1);
    put(cdf, i, Phi(x0), p0, Phi(x1), p1);
    put(pdf, i, p0, -x0 * p0, p1, -x1 * p1);
  }
  return { cdf, pdf };
}

let tables: { cdf: Float64Array; pdf: Float64Array } | undefined;

function getTables(): { cdf: Float64Array; pdf: Float64Array } {
  return (tables ??= buildTables());
}

/** y[i] = x[i]·Φ(x[i]). */
export function geluInto(x: Float32Array, y: Float32Array): void {
  const { cdf } = getTables();
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const u = (v + LIM) * PER_UNIT;
    if (u >= 0 && u < INTERVALS) {
      const k = u | 0;
      const t = u - k;
      const o = 4 * k;
      y[i] = v * (cdf[o] + t * (cdf[o + 1] + t * (cdf[o + 2] + t * cdf[o + 3])));
    } else {
      y[i] = v > 0 ? v : v !== v ? v : 0; // Φ = 1 above, 0 below; NaN stays NaN
    }
  }
}

/** dx[i] = dy[i]·(Φ(x[i]) + x[i]·φ(x[i])). */
export function geluGradInto(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  const { cdf, pdf } = getTables();
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const u = (v + LIM) * PER_UNIT;
    if (u >= 0 && u < INTERVALS) {
      const k = u | 0;
      const t = u - k;
      const o = 4 * k;
      const c = cdf[o] + t * (cdf[o + 1] + t * (cdf[o + 2] + t * cdf[o + 3]));
      const p = pdf[o] + t * (pdf[o + 1] + t * (pdf[o + 2] + t * pdf[o + 3]));
      dx[i] = dy[i] * (c + v * p);
    } else {
      dx[i] = v > 0 ? dy[i] : v !== v ? v : 0 * dy[i];
    }
  }
}

function heapView(b: ReturnType<typeof internals>, t: TensorInfo, n: number): Float32Array {
  return new Float32Array(b.wasm.HEAPU8.buffer, byteOffset(b, t), n);
}

const geluFunc: KernelFunc = (args) => {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype !== 'float32') throw new Error(`${GELU_KERNEL}: float32 only, got ${x.dtype}`);
  const b = internals(args.backend);
  const out = b.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n > 0) geluInto(heapView(b, x, n), heapView(b, out, n)); // views after makeOutput
  return out;
};

const geluGradFunc: KernelFunc = (args) => {
  const { dy, x } = args.inputs as { dy: TensorInfo; x: TensorInfo };
  const b = internals(args.backend);
  const out = b.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n > 0) geluGradInto(heapView(b, dy, n), heapView(b, x, n), heapView(b, out, n));
  return out;
};

export const geluConfig: KernelConfig = {
  kernelName: GELU_KERNEL,
  backendName: 'wasm',
  kernelFunc: geluFunc,
};

export const geluGradConfig: KernelConfig = {
  kernelName: GELU_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: geluGradFunc,
};

/** dx = GeluGrad(dy, x); registered for every backend that has the forward kernel. */
export const geluGradient: GradConfig = {
  kernelName: GELU_KERNEL,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return {
      x: () => tf.engine().runKernel(GELU_GRAD_KERNEL, { dy: dy as tf.Tensor, x }) as tf.Tensor,
    };
  },
};
