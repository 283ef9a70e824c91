/**
 * The op-level gradient sweep: a table of gradient checks, one or more per forward kernel a
 * training step runs, and the runner that executes a table on cpu and on wasm.
 *
 * Every case is checked against central differences of its own forward pass
 * (./gradcheck.ts), never against tfjs autodiff of another op. A case also declares the kernels
 * (or tfjs customGrad op scopes such as `fusedConv2d__op`) whose gradients it exercises; the
 * runner profiles the forward and fails if a declared kernel did not actually run, so the
 * table cannot claim coverage it does not have. The coverage test
 * (lib/ops/gradcheck.ops2.test.ts) compares the union of declared kernels with the kernels of
 * real training steps.
 *
 * Inputs are small, odd and non-square, and placed away from kinks and ties (the largest
 * finite-difference step is 1e-2): ReLU/Max/Maximum/Minimum/MaxPool/Floor inputs keep a margin
 * of ≥ 0.05 from their switching points. This file holds the tfjs-kernel table; the table of our
 * own ops (lib/ops/*, the loss) is in lib/ops/gradcheck.ops2.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Rng } from '../../lib/models/core/init.ts';
import { switchBackend, TEST_BACKENDS, type TestBackend } from './backends.ts';
import {
  describeCheck,
  gradCheck,
  type GradCheckOptions,
  type GradCheckResult,
} from './gradcheck.ts';

export type Fn = (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

export interface OpCase {
  label: string;
  /** Kernels / customGrad scopes whose gradient this case checks (per backend if they differ). */
  kernels: readonly string[] | Readonly<Record<TestBackend, readonly string[]>>;
  /** Creates the inputs and constants (inside a scope the runner disposes) and the forward. */
  build: () => { f: Fn; inputs: tf.Tensor[] };
  opts?: GradCheckOptions;
  /** `{ skip: 'KNOWN WRONG: …' }` per backend, for a gradient we cannot fix here. */
  skip?: Partial<Record<TestBackend, string>>;
}

export function kernelsOf(c: OpCase, be: TestBackend): readonly string[] {
  const k = c.kernels;
  return Array.isArray(k) ? k : (k as Record<TestBackend, readonly string[]>)[be];
}

/** Every kernel or scope some case of `cases` checks on `be`. */
export function declaredKernels(cases: readonly OpCase[], be: TestBackend): Set<string> {
  return new Set(cases.flatMap((c) => [...kernelsOf(c, be)]));
}

// ---------------------------------------------------------------------------------------------
// Inputs

function fill(shape: number[], seed: number, gen: (r: Rng, i: number) => number): tf.Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = gen(r, i);
  return tf.tensor(v, shape);
}

export const normal = (shape: number[], seed: number, scale = 1): tf.Tensor =>
  fill(shape, seed, (r) => scale * r.normal());

export const uniform = (shape: number[], seed: number, lo: number, hi: number): tf.Tensor =>
  fill(shape, seed, (r) => lo + (hi - lo) * r.next());

/** |x − at| ∈ [margin, margin + 1], random sign: no kink at `at` within the FD steps. */
export const awayFrom = (shape: number[], seed: number, at = 0, margin = 0.1): tf.Tensor =>
  fill(shape, seed, (r) => at + (r.next() < 0.5 ? -1 : 1) * (margin + r.next()));

/** A random permutation of (i − n/2)·gap: every pair differs by ≥ gap (no ties for max ops). */
export function distinct(shape: number[], seed: number, gap = 0.05): tf.Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * gap);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return tf.tensor(v, shape);
}

/** Integer part in [−3, 3], fractional part in [0.2, 0.8]: away from the steps of floor. */
export const fractional = (shape: number[], seed: number): tf.Tensor =>
  fill(shape, seed, (r) => r.int(7) - 3 + 0.2 + 0.6 * r.next());

/** b = a ± (0.05 … 0.55): pairs never tie (Maximum / Minimum). */
export const apart = (a: tf.Tensor, seed: number): tf.Tensor =>
  tf.add(a, awayFrom(a.shape, seed, 0, 0.05));

const S = [2, 5, 7, 3]; // the default small, odd, non-square NHWC shape

// ---------------------------------------------------------------------------------------------
// The tfjs-kernel table

/**
 * tfjs' Cast gradient (tfjs-core gradients/Cast_grad.ts) returns dy for every cast, so a cast
 * to int32 passes gradient straight through where the derivative is 0 (TF's _CastGrad returns
 * None for non-float targets; PyTorch does not differentiate integer tensors). No model
 * differentiates through such a cast: the only float→int32 cast of a training step is inside
 * the forward of grid_sample's customGrad row gather, whose index gradient is defined as 0.
 */
/**
 * tfjs' BatchMatMul gradient (tfjs-core gradients/BatchMatMul_grad.ts) never sums over
 * broadcast batch dimensions, so the gradient of the broadcast operand has the batch shape of
 * the output and the tape throws a shape error. No model broadcasts a batched product (every
 * matMul in lib/models pairs equal batches, or two matrices).
 */
export const BROADCAST_MATMUL =
  'KNOWN WRONG (throws): tfjs BatchMatMul gradient does not reduce broadcast batch dims ' +
  "(input 'b' gets shape [2,8,7] for [8,7]); no model broadcasts (docs/gradients.md)";

const unary = (
  kernel: string,
  op: (x: tf.Tensor) => tf.Tensor,
  x: () => tf.Tensor,
  label = kernel,
): OpCase => ({ label, kernels: [kernel], build: () => ({ f: (t) => op(t), inputs: [x()] }) });

export const TFJS_CASES: OpCase[] = [
  unary('Exp', tf.exp, () => normal(S, 1, 0.7)),
  unary('Log', tf.log, () => uniform(S, 2, 0.3, 3)),
  unary('Neg', tf.neg, () => normal(S, 3)),
  unary('Erf', tf.erf, () => normal(S, 4)),
  unary('Relu', tf.relu, () => awayFrom(S, 5), 'Relu (inputs ≥ 0.1 from 0)'),
  unary('Rsqrt', tf.rsqrt, () => uniform(S, 6, 0.3, 3)),
  unary('Sigmoid', tf.sigmoid, () => normal(S, 7, 2)),
  unary('Sqrt', tf.sqrt, () => uniform(S, 8, 0.3, 3)),
  unary('Square', tf.square, () => normal(S, 9)),
  unary('Identity', tf.clone, () => normal(S, 10), 'Identity (clone)'),
  unary(
    'Cast',
    (x) => tf.cast(x, 'float32'),
    () => normal(S, 11),
    'Cast float32→float32',
  ),
  {
    label: 'Add: bias, per-sample channel, scalar broadcasts',
    kernels: ['Add'],
    build: () => ({
      f: (a, b, c) => [tf.add(a, b), tf.add(c, a), tf.add(a, 0.5)],
      inputs: [normal(S, 12), normal([3], 13), normal([2, 1, 1, 3], 14)],
    }),
  },
  {
    label: 'Sub: broadcasts both ways, scalar first',
    kernels: ['Sub'],
    build: () => ({
      f: (a, b, c) => [tf.sub(a, b), tf.sub(c, a), tf.sub(1, a)],
      inputs: [normal(S, 15), normal([3], 16), normal([2, 1, 1, 3], 17)],
    }),
  },
  {
    label: 'Multiply: broadcasts, x·x',
    kernels: ['Multiply'],
    build: () => ({
      f: (a, b, c) => [tf.mul(a, b), tf.mul(c, a), tf.mul(a, a)],
      inputs: [normal(S, 18), normal([3], 19), normal([2, 1, 1, 3], 20)],
    }),
  },
  {
    label: 'RealDiv: broadcast denominators, constant',
    kernels: ['RealDiv'],
    build: () => ({
      f: (a, b, c) => [tf.div(a, b), tf.div(a, c), tf.div(b, c), tf.div(a, 7)],
      inputs: [normal(S, 21), uniform([3], 22, 0.5, 2), uniform([2, 1, 1, 3], 23, 0.5, 2)],
    }),
  },
  {
    label: 'Maximum: pairs ≥ 0.05 apart, and with a constant',
    kernels: ['Maximum'],
    build: () => {
      const a = awayFrom(S, 24, 0.2, 0.05);
      return { f: (x, y) => [tf.maximum(x, y), tf.maximum(x, 0.2)], inputs: [a, apart(a, 25)] };
    },
  },
  {
    label: 'Minimum: pairs ≥ 0.05 apart, and with a constant',
    kernels: ['Minimum'],
    build: () => {
      const a = awayFrom(S, 26, 3, 0.05);
      return { f: (x, y) => [tf.minimum(x, y), tf.minimum(x, 3)], inputs: [a, apart(a, 27)] };
    },
  },
  {
    label: 'AddN of 3',
    kernels: ['AddN'],
    build: () => ({
      f: (a, b, c) => tf.addN([a, b, c]),
      inputs: [normal([3, 4, 5], 28), normal([3, 4, 5], 29), normal([3, 4, 5], 30)],
    }),
  },
  {
    label: 'Select (where) with a fixed mask',
    kernels: ['Select'],
    build: () => {
      const cond = tf.greater(normal(S, 31), 0);
      return { f: (a, b) => tf.where(cond, a, b), inputs: [normal(S, 32), normal(S, 33)] };
    },
  },
  {
    label: 'Sum: leading axes [0,1,2], axis 1 of [B,HW,C], last axis keepDims, all',
    kernels: ['Sum'],
    build: () => ({
      f: (x) => [
        tf.sum(x, [0, 1, 2]),
        tf.sum(tf.reshape(x, [2, 35, 3]), 1),
        tf.sum(x, -1, true),
        tf.sum(x),
      ],
      inputs: [normal(S, 34)],
    }),
  },
  {
    label: 'Mean: leading axes [0,1,2], axis 1 of [B,HW,C], last axis keepDims, all',
    kernels: ['Mean'],
    build: () => ({
      f: (x) => [
        tf.mean(x, [0, 1, 2]),
        tf.mean(tf.reshape(x, [2, 35, 3]), 1),
        tf.mean(x, -1, true),
        tf.mean(x),
      ],
      inputs: [normal(S, 35)],
    }),
  },
  {
    label: 'Max (reduce) over last, middle and all axes, no ties',
    kernels: ['Max'],
    build: () => ({
      f: (x) => [tf.max(x, -1), tf.max(x, 1), tf.max(x)],
      inputs: [distinct([2, 5, 7], 36)],
    }),
  },
  {
    label: 'Softmax over the last axis',
    kernels: ['Softmax'],
    build: () => ({ f: (x) => tf.softmax(x), inputs: [normal([2, 3, 4, 5], 37, 2)] }),
  },
  {
    label: 'logSoftmax (tfjs customGrad op)',
    kernels: ['logSoftmax__op'],
    build: () => ({ f: (x) => tf.logSoftmax(x), inputs: [normal([7, 5], 38, 2)] }),
  },
  {
    label: 'BatchMatMul 2-D: nn, nt, tn',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (a, b, bt, at) => [
        tf.matMul(a, b),
        tf.matMul(a, bt, false, true),
        tf.matMul(at, b, true, false),
      ],
      inputs: [normal([9, 6], 39), normal([6, 5], 40), normal([5, 6], 41), normal([6, 9], 42)],
    }),
  },
  {
    label: 'BatchMatMul 3-D/4-D batched: nn, nt, tn, 4-D nt (attention)',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (a, b, bt, a4, b4) => [
        tf.matMul(a, b),
        tf.matMul(a, bt, false, true),
        tf.matMul(b, bt, true, true),
        tf.matMul(a4, b4, false, true),
      ],
      inputs: [
        normal([2, 7, 5], 43),
        normal([2, 5, 6], 44),
        normal([2, 6, 5], 45),
        normal([2, 3, 5, 4], 46),
        normal([2, 3, 6, 4], 47),
      ],
    }),
  },
  {
    label: 'BatchMatMul 41×40×41 per batch pair (XNNPACK pair path of the wasm kernel)',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (a, b) => tf.matMul(a, b, false, true),
      inputs: [normal([2, 41, 40], 50, 0.3), normal([2, 41, 40], 51, 0.3)],
    }),
  },
  {
    label: 'BatchMatMul with a broadcast batch: [2,9,8]·[8,7]',
    kernels: ['BatchMatMul'],
    build: () => ({
      f: (a, b) => tf.matMul(a, b),
      inputs: [normal([2, 9, 8], 48), normal([8, 7], 49)],
    }),
    skip: { cpu: BROADCAST_MATMUL, wasm: BROADCAST_MATMUL },
  },
  {
    // ReLU on both sides of the kink: positive a, columns 0 and 2 with positive weights and bias
    // (active), 1 and 3 negative (clamped); every pre-activation is ≥ 0.15 from the kink.
    label: '_FusedMatMul: bias; bias + ReLU, both sides of the kink',
    kernels: ['_FusedMatMul', 'fusedMatMul__op'],
    build: () => {
      const sign = tf.tensor1d([1, -1, 1, -1]);
      return {
        f: (a, b, c, bias) => [
          tf.fused.matMul({ a, b: c, bias }),
          tf.fused.matMul({
            a,
            b,
            bias: tf.add(tf.mul(sign, 0.2), tf.mul(bias, 0.05)),
            activation: 'relu',
          }),
        ],
        inputs: [
          uniform([35, 6], 52, 0.5, 1.5),
          tf.mul(uniform([6, 4], 53, 0.05, 0.15), sign),
          normal([6, 4], 54, 0.3),
          normal([4], 55),
        ],
      };
    },
  },
  {
    label: 'Reshape',
    kernels: ['Reshape'],
    build: () => ({ f: (x) => tf.reshape(x, [10, 21]), inputs: [normal(S, 55)] }),
  },
  {
    label: 'Transpose: 4-D NHWC→NCHW, 5-D, 6-D (pixel shuffle)',
    kernels: ['Transpose'],
    build: () => ({
      f: (x, y, z) => [
        tf.transpose(x, [0, 3, 1, 2]),
        tf.transpose(y, [0, 2, 1, 4, 3]),
        tf.transpose(z, [0, 1, 4, 2, 5, 3]),
      ],
      inputs: [normal(S, 56), normal([2, 3, 5, 2, 3], 57), normal([2, 3, 4, 2, 2, 2], 58)],
    }),
  },
  {
    label: 'Transpose [2,37,35] → [2,35,37] (wasm tiled path)',
    kernels: ['Transpose'],
    build: () => ({ f: (x) => tf.transpose(x, [0, 2, 1]), inputs: [normal([2, 37, 35], 59)] }),
  },
  {
    label: 'ExpandDims',
    kernels: ['ExpandDims'],
    build: () => ({ f: (x) => tf.expandDims(x, 3), inputs: [normal([2, 5, 7], 60)] }),
  },
  {
    label: 'Concat on axes 3, 1, 0',
    kernels: ['Concat'],
    build: () => ({
      f: (a, b, c) => [tf.concat([a, b], 3), tf.concat([a, c, a], 1), tf.concat([a, a], 0)],
      inputs: [normal(S, 61), normal([2, 5, 7, 2], 62), normal([2, 3, 7, 3], 63)],
    }),
  },
  {
    label: 'Pack (stack) on axes 0 and 3',
    kernels: ['Pack'],
    build: () => ({
      f: (a, b) => [tf.stack([a, b, a]), tf.stack([a, b], 3)],
      inputs: [normal([2, 5, 7], 64), normal([2, 5, 7], 65)],
    }),
  },
  {
    label: 'Unpack (unstack) on axes 0 and 3',
    kernels: ['Unpack'],
    build: () => ({
      f: (x) => [...tf.unstack(x, 0), ...tf.unstack(x, 3)],
      inputs: [normal(S, 66)],
    }),
  },
  {
    label: 'SplitV: 2 equal parts and sizes [1,3,2]',
    kernels: ['SplitV'],
    build: () => ({
      f: (x) => [...tf.split(x, 2, 3), ...tf.split(x, [1, 3, 2], 3)],
      inputs: [normal([2, 5, 7, 6], 67)],
    }),
  },
  {
    label: 'Slice of a 4-D tensor',
    kernels: ['Slice'],
    build: () => ({
      f: (x) => [tf.slice(x, [0, 1, 2, 0], [2, 3, 4, 3]), tf.slice(x, [1, 0, 0, 1], [1, 5, 6, 2])],
      inputs: [normal(S, 68)],
    }),
  },
  {
    label: 'PadV2: asymmetric zero padding',
    kernels: ['PadV2'],
    build: () => ({
      f: (x) =>
        tf.pad(x, [
          [0, 0],
          [1, 2],
          [2, 1],
          [0, 0],
        ]),
      inputs: [normal(S, 69)],
    }),
  },
  {
    label: 'Tile and broadcastTo',
    kernels: ['Tile'],
    build: () => ({
      f: (x, y) => [tf.tile(x, [1, 4, 2]), tf.broadcastTo(y, [2, 4, 3])],
      inputs: [normal([2, 1, 3], 70), normal([2, 1, 3], 71)],
    }),
  },
  {
    label: 'GatherV2 on axes 0 and 1, repeated indices',
    kernels: ['GatherV2'],
    build: () => {
      const i0 = tf.tensor1d([0, 2, 2, 5, 1, 2], 'int32');
      const i1 = tf.tensor1d([6, 0, 3, 3, 6], 'int32');
      return {
        f: (x, y) => [tf.gather(x, i0), tf.gather(y, i1, 1)],
        inputs: [normal([6, 4], 72), normal([3, 7, 2], 73)],
      };
    },
  },
  {
    label: 'UnsortedSegmentSum (data), repeated and empty segments',
    kernels: ['UnsortedSegmentSum'],
    build: () => {
      const ids = tf.tensor1d([0, 2, 2, 1, 0, 4, 2], 'int32');
      return { f: (x) => tf.unsortedSegmentSum(x, ids, 6), inputs: [normal([7, 3], 74)] };
    },
  },
  {
    label: 'GatherNd, repeated index rows',
    kernels: ['GatherNd'],
    build: () => {
      const idx = tf.tensor2d([0, 1, 4, 3, 0, 1, 2, 0], [4, 2], 'int32');
      return { f: (x) => tf.gatherND(x, idx), inputs: [normal([5, 4, 3], 75)] };
    },
  },
  {
    label: 'ScatterNd (updates), repeated indices summed',
    kernels: ['ScatterNd'],
    build: () => {
      const idx = tf.tensor2d([1, 3, 1, 0, 4], [5, 1], 'int32');
      return { f: (u) => tf.scatterND(idx, u, [6, 3]), inputs: [normal([5, 3], 76)] };
    },
  },
  {
    label: 'StridedSlice with strides 2 and 3',
    kernels: ['StridedSlice'],
    build: () => ({
      f: (x) => tf.stridedSlice(x, [0, 1, 0, 0], [2, 9, 7, 3], [1, 2, 3, 1]),
      inputs: [normal([2, 9, 7, 3], 77)],
    }),
  },
  {
    label: 'DepthToSpace block 2',
    kernels: ['DepthToSpace'],
    build: () => ({
      f: (x) => tf.depthToSpace(x as tf.Tensor4D, 2),
      inputs: [normal([2, 3, 5, 8], 78)],
    }),
  },
  // Kernels with no derivative in their input (piecewise constant, integer or no input): the
  // composite makes the objective non-trivial; a nonzero gradient through them would fail.
  {
    label: 'Floor: zero gradient (x² + floor(x), off the integers)',
    kernels: ['Floor'],
    build: () => ({ f: (x) => tf.add(tf.square(x), tf.floor(x)), inputs: [fractional(S, 79)] }),
  },
  {
    label: 'ZerosLike: zero gradient',
    kernels: ['ZerosLike'],
    build: () => ({ f: (x) => tf.add(tf.square(x), tf.zerosLike(x)), inputs: [normal(S, 80)] }),
  },
  {
    label: 'GreaterEqual + Cast(bool→float32): masks carry no gradient',
    kernels: ['GreaterEqual', 'Cast'],
    build: () => ({
      f: (x, y) => [
        tf.mul(x, tf.cast(tf.greaterEqual(x, 0.3), 'float32')),
        tf.where(tf.greaterEqual(0.3, x), tf.mul(x, 2), y),
      ],
      inputs: [awayFrom(S, 81, 0.3, 0.05), normal(S, 82)],
    }),
  },
  {
    label: 'NotEqual + Cast(bool→float32): masks carry no gradient',
    kernels: ['NotEqual', 'Cast'],
    build: () => {
      const a = normal(S, 83);
      return {
        f: (x, y) => tf.mul(tf.add(x, y), tf.cast(tf.notEqual(x, y), 'float32')),
        inputs: [a, apart(a, 84)],
      };
    },
  },
  {
    label: 'OneHot: integer input; x·onehot',
    kernels: ['OneHot'],
    build: () => {
      const idx = tf.tensor1d([0, 4, 2, 2, 1, 3], 'int32');
      return { f: (x) => tf.mul(x, tf.oneHot(idx, 5)), inputs: [normal([6, 5], 85)] };
    },
  },
  {
    label: 'Range: no tensor input; x·range',
    kernels: ['Range'],
    build: () => ({
      f: (x) => tf.mul(x, tf.range(0, 7, 1, 'float32')),
      inputs: [normal([3, 7], 86)],
    }),
  },
  {
    label: 'Cast float32→int32→float32 (derivative 0 off the integers)',
    kernels: ['Cast'],
    build: () => ({
      f: (x) => tf.add(tf.square(x), tf.cast(tf.cast(x, 'int32'), 'float32')),
      inputs: [fractional([3, 7], 87)],
    }),
  },
];

// ---------------------------------------------------------------------------------------------
// Runner

/**
 * Run one case on the current backend `be`: profile the forward (every declared kernel must
 * run), profile one backward (reported: the backward kernels this check exercised), then
 * gradCheck with the default tolerance. Prints one `[gradcheck]` line; throws on failure.
 */
export async function checkCase(c: OpCase, be: TestBackend): Promise<GradCheckResult> {
  const engine = tf.engine();
  engine.startScope();
  try {
    const { f, inputs } = c.build();
    const fwd = await tf.profile(() => f(...inputs));
    const ran = new Set(fwd.kernelNames);
    const missing = kernelsOf(c, be).filter((k) => !ran.has(k));
    assert.deepEqual(
      missing,
      [],
      `${c.label} on ${be}: declared kernels did not run (ran: ${[...ran].sort().join(' ')})`,
    );
    const skip = c.opts?.skip ?? [];
    const idx = inputs
      .map((_, k) => k)
      .filter((k) => inputs[k].dtype === 'float32' && !skip.includes(k));
    const bwd = await tf.profile(() =>
      tf.grads((...xs: tf.Tensor[]) => {
        const ys = f(...inputs.map((t, k) => (idx.includes(k) ? xs[idx.indexOf(k)] : t)));
        return tf.addN((Array.isArray(ys) ? ys : [ys]).map((y) => tf.sum(y)));
      })(idx.map((k) => inputs[k])),
    );
    const back = [...new Set(bwd.kernelNames)].filter((k) => !ran.has(k)).sort();
    const r = gradCheck(`${c.label} [${be}]`, f, inputs, c.opts);
    console.log(
      `[gradcheck] ${be.padEnd(4)} worst ${r.worst.toExponential(2)}  ${c.label}` +
        `  | checks ${kernelsOf(c, be).join(' ')} | backward ${back.join(' ') || '-'}`,
    );
    assert.ok(r.pass, describeCheck(r));
    return r;
  } finally {
    engine.endScope();
  }
}

/** Define `<title> on cpu` and `<title> on wasm` suites running every case of the table. */
export function sweep(title: string, cases: readonly OpCase[]): void {
  for (const be of TEST_BACKENDS) {
    describe(`${title} on ${be}`, () => {
      before(async () => {
        await switchBackend(be);
      });
      for (const c of cases) {
        const skip = c.skip?.[be];
        test(c.label, skip ? { skip } : {}, async () => {
          await checkCase(c, be);
        });
      }
    });
  }
}
