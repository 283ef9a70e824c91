/**
 * Every gradient we add to or correct in tfjs, for every backend, in one call: tfjs' table
 * (./gradients.ts, which also installs ./corrected_grads.ts), the dilated-convolution gradients
 * (./dilated_conv_grads.ts) and the gradients tfjs lacks (./extra_grads.ts). All are
 * compositions of ordinary tfjs ops, so they hold on cpu, wasm and native TensorFlow alike.
 * Idempotent. The backend selector calls it, so a process that starts on `cpu` can train the
 * same models as one on `wasm`.
 */
import { registerDilatedConvGradients } from './dilated_conv_grads.ts';
import { registerMissingGradients } from './extra_grads.ts';
import { gradientsRegistered } from './gradients.ts';

let done = false;

/** Register the added and corrected gradients (once); throws if tfjs' table did not load. */
export function registerTrainingGradients(): void {
  if (done) return;
  registerDilatedConvGradients();
  registerMissingGradients();
  if (!gradientsRegistered()) throw new Error('tfjs gradient table or our corrections missing');
  done = true;
}
