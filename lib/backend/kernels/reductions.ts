/**
 * `Sum` and `Mean` over leading axes on WASM (docs/backends.md).
 *
 * The stock WASM reductions only reduce innermost axes: for NHWC bias / BatchNorm gradients
 * and channel statistics (axes [0,1,2]) they first transpose the whole input. Viewed as
 * X[R, K] this is a column sum (X[O, R, K] with kept leading dims, e.g. per-sample channel
 * sums over the pixels of [B, H·W, C]: one column sum per sample); one pass over the heap with float64 accumulators is cheaper
 * than the transpose, and than ones[1,R]·X through XNNPACK, which repacks X on every call
 * (~40 ms for 2M elements). Any other axis pattern, a full reduction or a non-float input
 * goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { attr } from './common.ts';
import { byteOffset, internals } from './heap.ts';

function makeReduce(stock: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const shape = x.shape;
    if (x.dtype !== 'float32' || shape.length < 2) return stock(args);
    const axes = tf.util.parseAxisParam(attr<number | number[]>(args.attrs, 'axis'), shape);
    const reduced = new Set(axes);
    // Memory is [O, R, K] when the reduced dims (ignoring size-1 dims) form one contiguous
    // block: O kept dims before it (batch), K kept dims after it (channels).
    const big = shape.map((_, i) => i).filter((i) => shape[i] > 1);
    const red = big.filter((i) => reduced.has(i));
    if (red.length === 0) return stock(args);
    const first = red[0];
    const last = red[red.length - 1];
    if (big.some((i) => i > first && i < last && !reduced.has(i))) return stock(args);
    const outer = big.filter((i) => i < first).reduce((a, i) => a * shape[i], 1);
    const rows = red.reduce((a, i) => a * shape[i], 1);
    const cols = big.filter((i) => i > last).reduce((a, i) => a * shape[i], 1);
    if (rows <= 1 || cols <= 1) return stock(args);
    const b = internals(args.backend);
    const outShape = attr<boolean>(args.attrs, 'keepDims')
      ? shape.map((n, i) => (reduced.has(i) ? 1 : n))
      : shape.filter((_, i) => !reduced.has(i));
    const out = b.makeOutput(outShape, 'float32');
    const buf = b.wasm.HEAPU8.buffer;
    const X = new Float32Array(buf, byteOffset(b, x), outer * rows * cols);
    const Y = new Float32Array(buf, byteOffset(b, out), outer * cols);
    const acc = new Float64Array(cols);
    for (let q = 0; q < outer; q++) {
      acc.fill(0);
      for (let r = 0, o = q * rows * cols; r < rows; r++, o += cols) {
        for (let k = 0; k < cols; k++) acc[k] += X[o + k];
      }
      if (mean) for (let k = 0; k < cols; k++) acc[k] /= rows;
      Y.set(acc, q * cols);
    }
    return out;
  };
}

/** Replacements for the stock Sum and Mean. */
export function reductionKernels(
  getStock: (name: string) => KernelConfig | undefined,
): KernelConfig[] {
  const out: KernelConfig[] = [];
  for (const [name, mean] of [
    ['Sum', false],
    ['Mean', true],
  ] as const) {
    const stock = getStock(name);
    if (stock) out.push({ ...stock, kernelFunc: makeReduce(stock.kernelFunc, mean) });
  }
  return out;
}
