/**
 * Fail fast, with a message, when the WASM heap cannot hold a tensor. tfjs-backend-wasm
 * allocates every tensor buffer with the module's `_malloc` and never checks the result: at the
 * 4 GiB ceiling of wasm32, `_malloc` returns 0 and the backend writes to address 0 regardless,
 * corrupting the allocator, after which the next `_free` can spin forever (seen on an OffSeg-T
 * train step at crop 256, batch 2); a request near or over the ceiling (150-class logits at
 * 2900×2200 are 3.6 GiB, at 4032×3024 6.8 GiB) ends in a raw trap ("memory access out of
 * bounds", "table index is out of bounds") inside the next kernel. The guard counts the bytes
 * the backend holds and refuses a tensor that cannot fit before anything is allocated, naming
 * its dtype, shape and size, what is in use and the limit. Installed by the backend selector
 * whenever wasm is chosen.
 */
import * as tf from '@tensorflow/tfjs-core';

export class WasmHeapExhausted extends Error {
  override readonly name = 'WasmHeapExhausted';
}

/** wasm32 addresses 4 GiB. */
export const WASM_HEAP_LIMIT = 2 ** 32;
/**
 * Kept free for what the module allocates inside without checking (kernel scratch such as
 * XNNPACK's indirection buffers, 16 bytes per output pixel of a resize): a 3.6 GiB tensor
 * allocates, then its resize traps.
 */
export const WASM_HEAP_RESERVE = 512 * 2 ** 20;

interface WasmModuleLike {
  _malloc: (n: number) => number;
  _free: (p: number) => void;
  HEAPU8?: Uint8Array;
}

interface WasmBackendLike {
  wasm?: WasmModuleLike & { offsegGuard?: { used: number } };
  move: (dataId: object, values: unknown, shape: number[], dtype: tf.DataType, r: number) => void;
}

const gib = (n: number): string => (n / 2 ** 30).toFixed(2);

/** Install the guard on the active backend if it is wasm; returns whether it did. */
export function guardWasmHeap(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const backend = tf.backend() as unknown as WasmBackendLike;
  const wasm = backend.wasm;
  if (!wasm) return false;
  if (wasm.offsegGuard) return true; // installed once per module
  // Emscripten's `_malloc` export is a stub that replaces itself on first use: call it once so
  // the wrappers below are not overwritten.
  wasm._free(wasm._malloc(8));
  const state = { used: 0 };
  wasm.offsegGuard = state;
  const sizes = new Map<number, number>();
  const malloc = wasm._malloc;
  const free = wasm._free;
  wasm._malloc = (n: number): number => {
    const p = malloc(n);
    if (p === 0 && n > 0) {
      const heap = wasm.HEAPU8 ? gib(wasm.HEAPU8.byteLength) : '?';
      throw new WasmHeapExhausted(
        `out of memory: the WASM heap (${heap} GiB, wasm32 limit 4 GiB) cannot hold ${(n / 2 ** 20).toFixed(1)} MiB more`,
      );
    }
    sizes.set(p >>> 0, n);
    state.used += n;
    return p;
  };
  wasm._free = (p: number): void => {
    const n = sizes.get(p >>> 0);
    if (n !== undefined) {
      state.used -= n;
      sizes.delete(p >>> 0);
    }
    free(p);
  };
  const move = backend.move.bind(backend);
  backend.move = (dataId, values, shape, dtype, refCount) => {
    if (dtype !== 'string') {
      const bytes = tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dtype);
      if (state.used + bytes > WASM_HEAP_LIMIT - WASM_HEAP_RESERVE) {
        throw new WasmHeapExhausted(
          `out of memory: a ${dtype} tensor [${shape.join(', ')}] needs ${gib(bytes)} GiB and ` +
            `the WASM heap holds ${gib(state.used)} GiB already, of the wasm32 limit of 4 GiB ` +
            '(less 0.5 GiB kept for kernel scratch); the fix is a smaller input or batch',
        );
      }
    }
    move(dataId, values, shape, dtype, refCount);
  };
  return true;
}
