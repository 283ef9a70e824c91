/**
 * Faster `BatchMatMul` for WASM: on large products an explicit transpose then XNNPACK beats the
 * stock loop ~10× (docs/backends.md).
 *
 * The stock WASM kernel reaches XNNPACK (~20 GFLOP/s per thread here) only for one matrix
 * pair without transposes; with `transposeA`/`transposeB` or a batch > 1 it runs a naive loop
 * (~0.4–1.6 GFLOP/s measured). This kernel materialises transposes explicitly, folds a batch
 * that multiplies one shared right matrix into the rows of a single product, and runs other
 * batches as one XNNPACK product per matrix pair. Small products (fewer than 2¹⁶ multiply-adds
 * per pair, or fewer than 4 rows or columns), batched or not, go to the stock loop: there the
 * per-call overhead of an XNNPACK operator (and of an explicit transpose) would dominate.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { attr, composite } from './common.ts';

/** Below this many multiply-adds per matrix pair the stock loop beats a call per pair. */
const MIN_MACS_PER_PAIR = 1 << 16;

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Swap the last two dims. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const r = t.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(t, perm); // (..., n, m)
}

export function makeBatchMatMul(stock: KernelConfig): KernelConfig {
  const stockFunc = stock.kernelFunc;
  /** One [M,K]·[K,N] product through the stock kernel's XNNPACK path. */
  const mm2d = (backend: unknown, a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const info = stockFunc({
      inputs: { a, b },
      backend: backend as object,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    return tf.engine().makeTensorFromTensorInfo(info);
  };

  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = args.attrs as NamedAttrMap;
    const tA = attr<boolean>(attrs, 'transposeA') ?? false;
    const tB = attr<boolean>(attrs, 'transposeB') ?? false;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = tA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = tA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = tB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = size(a.shape.slice(0, -2));
    const batchB = size(b.shape.slice(0, -2));
    const fast = !tA && !tB && batchA === 1 && batchB === 1;
    const unsupported = a.dtype !== 'float32' || b.dtype !== 'float32';
    // Matrix-vector pairs gain nothing from XNNPACK (it repacks the right operand per call).
    // Small pairs neither, whatever the batch: creating the XNNPACK operator (and, with a
    // transpose flag, the explicit Transpose) costs more than the stock loop's few multiply-adds
    // — a train step has hundreds of such products (talking-head mixes, per-tap gradients).
    const small = m * k * n < MIN_MACS_PER_PAIR || m < 4 || n < 4;
    if (fast || unsupported || small) {
      return stockFunc(args);
    }
    const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(
      a.shape.slice(0, -2),
      b.shape.slice(0, -2),
    );
    return composite([a, b], (ta, tb) => {
      const a3 = tf.reshape(tA ? swapLast(ta) : ta, [batchA, m, k]); // (bA, M, K)
      const b3 = tf.reshape(tB ? swapLast(tb) : tb, [batchB, k, n]); // (bB, K, N)
      let out: tf.Tensor;
      if (batchB === 1) {
        // Every left matrix meets the same right one: stack the rows, one product.
        out = mm2d(args.backend, tf.reshape(a3, [batchA * m, k]), tf.reshape(b3, [k, n])); // (bA·M, N)
      } else {
        const pairs = pairIndices(a.shape.slice(0, -2), b.shape.slice(0, -2), outBatch);
        const as = batchA === 1 ? [tf.reshape(a3, [m, k])] : tf.unstack(a3, 0); // each (M, K)
        const bs = tf.unstack(b3, 0); // each (K, N)
        out = tf.stack(
          pairs.map(([i, j]) => mm2d(args.backend, as[i], bs[j])),
          0,
        ); // (batch, M, N)
      }
      return tf.reshape(out, [...outBatch, m, n]); // (...batch, M, N)
    });
  };
  return { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc };
}

/** For each output batch index (row-major), the flat batch index into a and into b. */
function pairIndices(aBatch: number[], bBatch: number[], outBatch: number[]): [number, number][] {
  const r = outBatch.length;
  const pad = (s: number[]): number[] => [...Array(r - s.length).fill(1), ...s];
  const pa = pad(aBatch);
  const pb = pad(bBatch);
  const out: [number, number][] = [];
  const total = size(outBatch);
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let ia = 0;
    let ib = 0;
    let strideA = 1;
    let strideB = 1;
    for (let d = r - 1; d >= 0; d--) {
      const idx = rem % outBatch[d];
      rem = Math.floor(rem / outBatch[d]);
      ia += (pa[d] === 1 ? 0 : idx) * strideA;
      ib += (pb[d] === 1 ? 0 : idx) * strideB;
      strideA *= pa[d];
      strideB *= pb[d];
    }
    out.push([ia, ib]);
  }
  return out;
}
