/**
 * Fail fast when the WASM heap is exhausted. tfjs-backend-wasm allocates every tensor buffer
 * with the module's `_malloc`; at the 4 GiB ceiling of wasm32 that returns 0 and the backend
 * writes to address 0 regardless, corrupting the allocator, after which the next `_free` can spin
 * forever (seen on an OffSeg-T train step at crop 256, batch 2). The guard wraps
 * `_malloc` so the case ends with an "out of memory" error instead of hanging until its cap.
 * Installed by the backend selector whenever wasm is chosen (training can hit the same hang).
 */
import * as tf from '@tensorflow/tfjs-core';

export class WasmHeapExhausted extends Error {
  override readonly name = 'WasmHeapExhausted';
}

interface WasmModuleLike {
  _malloc: (n: number) => number;
  _free: (p: number) => void;
  HEAPU8?: Uint8Array;
}

/** Install the guard on the active backend if it is wasm; returns whether it did. */
export function guardWasmHeap(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const wasm = (tf.backend() as unknown as { wasm?: WasmModuleLike }).wasm;
  if (!wasm) return false;
  // Emscripten's `_malloc` export is a stub that replaces itself on first use: call it once so
  // the wrapper below is not overwritten.
  wasm._free(wasm._malloc(8));
  const malloc = wasm._malloc;
  wasm._malloc = (n: number): number => {
    const p = malloc(n);
    if (p === 0 && n > 0) {
      const heap = wasm.HEAPU8 ? (wasm.HEAPU8.byteLength / 2 ** 30).toFixed(2) : '?';
      throw new WasmHeapExhausted(
        `out of memory: the WASM heap (${heap} GiB, wasm32 limit 4 GiB) cannot hold ${(n / 2 ** 20).toFixed(1)} MiB more`,
      );
    }
    return p;
  };
  return true;
}
