/**
 * The op-level gradient sweep: the types of its tables, and the runner that executes a table on
 * cpu and on wasm. The tfjs-kernel table TFJS_CASES, one or more cases per forward kernel a
 * training step runs, is assembled here from ./tfjs_math_op_cases.ts (elementwise, reductions,
 * softmax, matrix products), ./tfjs_layout_op_cases.ts (data movement and indexing) and
 * ./tfjs_zero_grad_op_cases.ts (kernels with no derivative); the table of our own ops
 * (lib/ops/*, the loss) is ./lib_op_cases.ts. Input generators: ./op_case_inputs.ts.
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
 * of ≥ 0.05 from their switching points.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { switchBackend, TEST_BACKENDS, type TestBackend } from './backends.ts';
import { describeCheck, gradCheck, type GradCheckResult } from './gradcheck.ts';
import { TFJS_LAYOUT_CASES } from './tfjs_layout_op_cases.ts';
import { TFJS_MATH_CASES } from './tfjs_math_op_cases.ts';
import { TFJS_ZERO_GRAD_CASES } from './tfjs_zero_grad_op_cases.ts';

export { apart, awayFrom, distinct, fractional, normal, uniform } from './op_case_inputs.ts';
export { BROADCAST_MATMUL } from './tfjs_math_op_cases.ts';

import type { OpCase } from './op_case_types.ts';

export type { Fn, OpCase } from './op_case_types.ts';

export function kernelsOf(c: OpCase, be: TestBackend): readonly string[] {
  const k = c.kernels;
  return Array.isArray(k) ? k : (k as Record<TestBackend, readonly string[]>)[be];
}

/** Every kernel or scope some case of `cases` checks on `be`. */
export function declaredKernels(cases: readonly OpCase[], be: TestBackend): Set<string> {
  return new Set(cases.flatMap((c) => [...kernelsOf(c, be)]));
}

// ---------------------------------------------------------------------------------------------
// The tfjs-kernel table

export const TFJS_CASES: OpCase[] = [
  ...TFJS_MATH_CASES,
  ...TFJS_LAYOUT_CASES,
  ...TFJS_ZERO_GRAD_CASES,
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
