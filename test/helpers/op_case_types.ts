/**
 * The record one op-level gradient case is written as (the tables in ./tfjs_*_op_cases.ts and
 * ./lib_op_cases.ts; the runner in ./op_cases.ts). Kept apart so the tables do not import the
 * runner that imports them.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { TestBackend } from './backends.ts';
import type { GradCheckOptions } from './gradcheck.ts';

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
