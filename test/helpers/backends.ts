/**
 * Switch the tfjs backend inside one test process. `useBackend` (./parity.ts) goes through the
 * selector, which keeps its first choice for the life of the process, so a test that checks
 * the same thing on cpu AND wasm must switch with this instead. The wasm backend is started
 * once (our training kernels registered, one thread: start-up of the threaded build costs ~4 s
 * and the kernels under test are the same); tfjs' gradient table, with our corrections, is
 * loaded either way.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerTrainingGradients } from '../../lib/backend/kernels/training_gradients.ts';
import { setupWasm } from '../../lib/backend/wasm.ts';

export type TestBackend = 'cpu' | 'wasm';
export const TEST_BACKENDS: readonly TestBackend[] = ['cpu', 'wasm'];

/** Make `name` the active backend; returns tf.getBackend() afterwards (asserted equal). */
export async function switchBackend(name: TestBackend): Promise<string> {
  registerTrainingGradients();
  if (name === 'wasm') await setupWasm({ threads: 1 });
  else await tf.setBackend('cpu');
  await tf.ready();
  const now = tf.getBackend();
  if (now !== name) throw new Error(`switchBackend: wanted ${name}, tfjs is on ${now}`);
  return now;
}
