/**
 * A backend on first use, so a notebook cell (or any caller) that reaches the library before
 * `selectBackend()` works instead of failing with tfjs' "No backend found in registry".
 *
 * `ensureBackend()` (async) is the normal path: the best backend present, chosen once by
 * `selectBackend()`. Synchronous entry points such as `createModel` cannot await the WASM
 * initialisation, so `ensureBackendSync()` starts the pure-JS `cpu` backend, says so in one line,
 * and leaves the choice open: a later `selectBackend()` still picks WASM (tfjs moves tensors
 * between backends on use). Neither function overrides a backend someone already set.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerTrainingGradients } from './kernels/training_gradients.ts';
import { currentBackend, selectBackend, silenceCpuBanner, type BackendInfo } from './select.ts';

/** The backend chosen by `selectBackend()`, choosing it now (best present) if none was. */
export async function ensureBackend(): Promise<BackendInfo> {
  return currentBackend() ?? (await selectBackend());
}

let warned = false;

/**
 * Make sure tfjs has an active backend before a synchronous call allocates tensors. Does
 * nothing when one is active (chosen by `selectBackend`, or set by the caller with tfjs);
 * otherwise activates `cpu` and writes one note to stderr naming `caller`.
 * @returns the name of the active tfjs backend.
 */
export function ensureBackendSync(caller: string): string {
  const active = tf.getBackend(); // the engine's current name; does not initialise anything
  if (active) return active;
  registerTrainingGradients();
  // The cpu backend initialises synchronously, so the switch is done when this call returns.
  void tf.setBackend('cpu');
  silenceCpuBanner();
  if (!warned) {
    warned = true;
    process.stderr.write(
      `[offseg] ${caller}: no backend chosen yet, using the pure-JS cpu backend for now; ` +
        '`await selectBackend()` (from lib/backend) switches to the fastest one (WASM here)\n',
    );
  }
  return tf.getBackend();
}
