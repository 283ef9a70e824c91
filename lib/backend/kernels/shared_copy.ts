/**
 * `Identity` and same-dtype `Cast` for WASM that share the input's buffer instead of copying it.
 *
 * Why: while a gradient tape records, tfjs-core's engine clones every tensor a gradient will
 * need (`saveTensorsForBackwardMode` and the kernels' `saveFunc`), and a clone is an `Identity`
 * kernel call. The stock WASM `Identity` allocates a new buffer and copies: an OffSeg-T train
 * step at 64² batch 8 ran ~7,000 of them. Gradients also cast float32 operands to float32
 * (tfjs' `Mul`/`Square` gradients), which the stock `Cast` copies as well. Tensors are immutable
 * in tfjs, so a clone can point at the same data: the kernel takes one more reference on the
 * input's dataId and returns it, exactly as the stock WASM `Reshape` (and the CPU backend's
 * `Identity`) already do. The buffer is freed when the last tensor on it is disposed.
 *
 * Strings and dtype-changing casts go to the stock kernels.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { attr } from './common.ts';

interface RefCounted {
  incRef(dataId: object): void;
}

/** One more reference on x's buffer, returned as the output (same shape and dtype). */
function share(backend: unknown, x: TensorInfo): TensorInfo {
  (backend as RefCounted).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * The buffer-sharing `Identity` and `Cast` replacements (each falls back to its stock kernel
 * for strings and for casts that change the dtype). Kernels whose stock version is missing
 * are left out.
 */
export function sharedCopyKernels(
  stock: (name: string) => KernelConfig | undefined,
): KernelConfig[] {
  const out: KernelConfig[] = [];
  const identity = stock('Identity');
  if (identity) {
    const kernelFunc: KernelFunc = (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') return identity.kernelFunc(args);
      return share(args.backend, x);
    };
    out.push({ kernelName: 'Identity', backendName: 'wasm', kernelFunc });
  }
  const cast = stock('Cast');
  if (cast) {
    const kernelFunc: KernelFunc = (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const dtype = attr<string>(args.attrs, 'dtype');
      if (x.dtype === 'string' || dtype !== x.dtype) return cast.kernelFunc(args);
      return share(args.backend, x);
    };
    out.push({ kernelName: 'Cast', backendName: 'wasm', kernelFunc });
  }
  return out;
}
