/**
 * WASM backend setup for Node: points tfjs at the `.wasm` files inside the npm package and
 * registers the training kernels the stock backend lacks (see ./wasm_kernels.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export interface WasmSetup {
  threads: number;
  simd: boolean;
}

export interface WasmOptions {
  threads?: number;
}

export async function setupWasm(opts: WasmOptions = {}): Promise<WasmSetup> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dist =
    join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  wasm.setWasmPaths(dist);
  const extra = await import('./wasm_kernels.ts').catch(() => undefined);
  extra?.registerWasmTrainingKernels?.();
  void opts;
  if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
  await tf.ready();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  return { threads: 1, simd };
}
