/**
 * Direct access to the WASM backend's heap for data-movement kernels (docs/backends.md).
 *
 * Why: the stock WASM `Slice` first copies its whole input out of the heap (`readSync`), the
 * stock `Concat` round-trips every input through JS arrays, and the C++ `StridedSlice`,
 * `DepthToSpace` and `Transpose` loops move single elements; on [8,64,64,64] they measured
 * 30–300 ms where a memcpy takes ~1 ms. Copying contiguous runs with `copyWithin` on the heap
 * itself avoids all of that.
 *
 * Views are taken after every allocation (`makeOutput` may grow the memory, which replaces
 * the heap's buffer).
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs' BackendWasm used here (not in its public typings). */
export interface WasmInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: object): boolean;
}

export function internals(backend: unknown): WasmInternals {
  return backend as WasmInternals;
}

/** Bytes per element for the dtypes stored flat on the heap (others are not handled here). */
export function heapBytes(dtype: DataType): number | undefined {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  return undefined;
}

export function byteOffset(b: WasmInternals, t: TensorInfo): number {
  const d = b.dataIdMap.get(t.dataId);
  if (!d) throw new Error('tensor is not on the wasm backend');
  return d.memoryOffset;
}

export function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Runs shorter than this (elements) are copied by a loop instead of `copyWithin`. */
const SHORT_RUN = 16;

export interface Box {
  /** Shape of the whole tensor. */
  shape: number[];
  /** Start of the box in each dim. */
  begin: number[];
  /** Byte offset of the tensor on the heap. */
  offset: number;
}

/**
 * Copy the box of `size` at `src.begin` into `dst` at `dst.begin` (same rank, elements of
 * `bpe` bytes). Trailing dims spanned fully by both boxes are merged into one contiguous run.
 */
export function copyBox(heap: Uint8Array, bpe: number, src: Box, dst: Box, size: number[]): void {
  const r = size.length;
  if (size.some((n) => n === 0)) return;
  let a = r - 1;
  let run = 1;
  while (a >= 0 && size[a] === src.shape[a] && size[a] === dst.shape[a]) {
    run *= size[a];
    a--;
  }
  const ss = strides(src.shape);
  const ds = strides(dst.shape);
  let srcBase = 0;
  let dstBase = 0;
  for (let d = 0; d < r; d++) {
    srcBase += src.begin[d] * ss[d];
    dstBase += dst.begin[d] * ds[d];
  }
  if (a >= 0) run *= size[a];
  // Element views; copyWithin per run, an element loop for short runs (call overhead).
  const view = bpe === 4 ? new Int32Array(heap.buffer) : new Uint8Array(heap.buffer);
  const so0 = src.offset / bpe;
  const do0 = dst.offset / bpe;
  const short = run < SHORT_RUN;
  // Odometer over dims [0, a).
  const idx = new Array<number>(Math.max(0, a)).fill(0);
  let s = srcBase;
  let t = dstBase;
  for (;;) {
    const so = so0 + s;
    if (short) {
      for (let k = 0, o = do0 + t; k < run; k++) view[o + k] = view[so + k];
    } else {
      view.copyWithin(do0 + t, so, so + run);
    }
    let d = a - 1;
    while (d >= 0) {
      idx[d]++;
      s += ss[d];
      t += ds[d];
      if (idx[d] < size[d]) break;
      s -= ss[d] * size[d];
      t -= ds[d] * size[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}
