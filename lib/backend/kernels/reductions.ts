/**
 * `Sum` and `Mean` over leading axes as one matrix product on WASM (issue #5 items 1 and 3).
 *
 * The stock WASM reductions only reduce innermost axes: for NHWC bias / BatchNorm gradients
 * and channel statistics (axes [0,1,2]) they first transpose the whole input, which measured
 * ~70× slower than w[1,R] · X[R,C] through XNNPACK (w = 1 for Sum, 1/R for Mean). Any other
 * axis pattern, a full reduction or a non-float input goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { attr } from './common.ts';
import { byteOffset, internals } from './heap.ts';

function makeReduce(stock: KernelFunc, matMul: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const shape = x.shape;
    if (x.dtype !== 'float32' || shape.length < 2) return stock(args);
    const axes = tf.util.parseAxisParam(attr<number | number[]>(args.attrs, 'axis'), shape);
    const reduced = new Set(axes);
    const kept = shape.map((_, i) => i).filter((i) => !reduced.has(i));
    const last = Math.max(...axes);
    // Memory is [R, K] when every kept dim of size > 1 follows every reduced dim.
    if (!kept.every((k) => k > last || shape[k] === 1)) return stock(args);
    const rows = axes.reduce((a, i) => a * shape[i], 1);
    const cols = kept.reduce((a, i) => a * shape[i], 1);
    if (rows <= 1 || cols <= 1) return stock(args);
    const b = internals(args.backend);
    const w = b.makeOutput([1, rows], 'float32');
    new Float32Array(b.wasm.HEAPU8.buffer, byteOffset(b, w), rows).fill(mean ? 1 / rows : 1);
    const xv: TensorInfo = { dataId: x.dataId, shape: [rows, cols], dtype: 'float32' };
    const out = matMul({
      inputs: { a: w, b: xv },
      backend: args.backend,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    b.disposeData(w.dataId);
    out.shape = attr<boolean>(args.attrs, 'keepDims')
      ? shape.map((n, i) => (reduced.has(i) ? 1 : n))
      : kept.map((i) => shape[i]);
    return out;
  };
}

/** Replacements for the stock Sum and Mean (needs the stock BatchMatMul, XNNPACK path). */
export function reductionKernels(
  getStock: (name: string) => KernelConfig | undefined,
): KernelConfig[] {
  const mm = getStock('BatchMatMul');
  if (!mm) return [];
  const out: KernelConfig[] = [];
  for (const [name, mean] of [
    ['Sum', false],
    ['Mean', true],
  ] as const) {
    const stock = getStock(name);
    if (stock)
      out.push({ ...stock, kernelFunc: makeReduce(stock.kernelFunc, mm.kernelFunc, mean) });
  }
  return out;
}
