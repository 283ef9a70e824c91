/**
 * Heap `Transpose` for WASM (docs/backends.md).
 *
 * Why: the stock kernel has fast paths only up to rank 4 and moves one element at a time with
 * index arithmetic otherwise; a training step of OffSeg-T at 128² spent ~0.7 s in it, 0.6 s of
 * that on the rank-5 permutations of the attention-bias gather (≈2 M elements each, ~150 ms
 * apiece, where a copy takes ~3 ms). Even the 2-D transposes ran at ~50 M elements/s.
 *
 * How: dims of size 1 are dropped and input dims that stay adjacent in the permutation are
 * merged. When the innermost input dim stays innermost the transpose copies contiguous runs;
 * otherwise it walks 2-D tiles spanned by the input's innermost dim and the output's innermost
 * dim (both sides then touch memory in short contiguous strips). Bits are copied as 32-bit
 * (float32, int32) or bytes (bool); other dtypes go to the stock kernel.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { attr } from './common.ts';
import { byteOffset, heapBytes, internals, strides } from './heap.ts';

/** Side of the square tiles of the general case (elements). */
const TILE = 32;

interface Plan {
  /** Collapsed input shape. */
  shape: number[];
  /** Collapsed permutation: output dim i is input dim perm[i]. */
  perm: number[];
}

/** Drop size-1 dims and merge input dims that remain adjacent and in order in the output. */
export function collapse(shape: number[], perm: number[]): Plan {
  const keep = shape.map((n) => n !== 1);
  const kept = perm.filter((p) => keep[p]);
  // Renumber the remaining input dims 0..k-1.
  const order = shape.map((_, i) => i).filter((i) => keep[i]);
  const rank = new Map(order.map((d, i) => [d, i]));
  const sh = order.map((d) => shape[d]);
  const pm = kept.map((p) => rank.get(p) as number);
  // Merge runs p, p+1 that are consecutive in the output.
  const groups: number[][] = [];
  for (const p of pm) {
    const g = groups[groups.length - 1];
    if (g && g[g.length - 1] + 1 === p) g.push(p);
    else groups.push([p]);
  }
  // Input order of the groups gives the collapsed input shape.
  const byInput = [...groups].sort((a, b) => a[0] - b[0]);
  const newIndex = new Map(byInput.map((g, i) => [g[0], i]));
  return {
    shape: byInput.map((g) => g.reduce((a, d) => a * sh[d], 1)),
    perm: groups.map((g) => newIndex.get(g[0]) as number),
  };
}

/** Element copy out[j] = x[src(j)] on a flat view; dst is contiguous in output order. */
export function transposeFlat(
  view: Int32Array | Uint8Array,
  src0: number,
  dst0: number,
  plan: Plan,
): void {
  const { shape, perm } = plan;
  const r = shape.length;
  const total = shape.reduce((a, b) => a * b, 1);
  if (r <= 1) {
    view.copyWithin(dst0, src0, src0 + total);
    return;
  }
  const inStr = strides(shape);
  const outShape = perm.map((p) => shape[p]);
  const outStr = strides(outShape);
  // Stride in the input of each output dim.
  const sStr = perm.map((p) => inStr[p]);
  if (perm[r - 1] === r - 1) {
    // Innermost dim unchanged: copy runs of `run` elements.
    const run = shape[r - 1];
    odometer(outShape.slice(0, r - 1), sStr.slice(0, r - 1), outStr.slice(0, r - 1), (s, d) => {
      const so = src0 + s;
      const o = dst0 + d;
      if (run < 16) for (let k = 0; k < run; k++) view[o + k] = view[so + k];
      else view.copyWithin(o, so, so + run);
    });
    return;
  }
  // General case: tile over output dim L (innermost out, input stride sL) and output dim q
  // (whose input stride is 1, the input's innermost dim).
  const L = r - 1;
  const q = perm.indexOf(r - 1);
  const nL = outShape[L];
  const nQ = outShape[q];
  const sL = sStr[L];
  const dQ = outStr[q];
  const outer = outShape.map((_, i) => i).filter((i) => i !== L && i !== q);
  odometer(
    outer.map((i) => outShape[i]),
    outer.map((i) => sStr[i]),
    outer.map((i) => outStr[i]),
    (s, d) => {
      const sb = src0 + s;
      const db = dst0 + d;
      for (let q0 = 0; q0 < nQ; q0 += TILE) {
        const q1 = Math.min(nQ, q0 + TILE);
        for (let l0 = 0; l0 < nL; l0 += TILE) {
          const l1 = Math.min(nL, l0 + TILE);
          for (let qi = q0; qi < q1; qi++) {
            const so = sb + qi;
            const o = db + qi * dQ;
            for (let l = l0; l < l1; l++) view[o + l] = view[so + l * sL];
          }
        }
      }
    },
  );
}

/** Call f(srcOffset, dstOffset) for every index of `sizes` (row-major). */
function odometer(
  sizes: number[],
  sStr: number[],
  dStr: number[],
  f: (s: number, d: number) => void,
): void {
  const n = sizes.length;
  if (sizes.some((x) => x === 0)) return;
  const idx = new Array<number>(n).fill(0);
  let s = 0;
  let d = 0;
  for (;;) {
    f(s, d);
    let k = n - 1;
    while (k >= 0) {
      idx[k]++;
      s += sStr[k];
      d += dStr[k];
      if (idx[k] < sizes[k]) break;
      s -= sStr[k] * sizes[k];
      d -= dStr[k] * sizes[k];
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

export function makeTranspose(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const bpe = heapBytes(x.dtype);
    if (!bpe) return stock(args);
    const perm = attr<number[]>(args.attrs, 'perm');
    const outShape = perm.map((p) => x.shape[p]);
    const b = internals(args.backend);
    const out = b.makeOutput(outShape, x.dtype);
    if (outShape.some((n) => n === 0)) return out;
    // Views after makeOutput: it may grow the memory (a new buffer).
    const heap = b.wasm.HEAPU8;
    const view = bpe === 4 ? new Int32Array(heap.buffer) : heap;
    transposeFlat(view, byteOffset(b, x) / bpe, byteOffset(b, out) / bpe, collapse(x.shape, perm));
    return out;
  };
}

export function transposeKernel(
  getStock: (name: string) => KernelConfig | undefined,
): KernelConfig[] {
  const stock = getStock('Transpose');
  return stock ? [{ ...stock, kernelFunc: makeTranspose(stock.kernelFunc) }] : [];
}
