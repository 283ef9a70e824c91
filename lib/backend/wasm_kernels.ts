/**
 * Training kernels for the WASM backend (docs/backends.md).
 *
 * The stock backend lacks the convolution filter gradients, the depthwise input gradient and
 * UnsortedSegmentSum (gather gradients); its `Conv2DBackpropInput` and transposed/batched
 * `BatchMatMul` are scalar loops 10–50× slower than XNNPACK; its data movement (Slice, Concat,
 * Pad, StridedSlice, …) copies through JS arrays or element loops, and Sum/Mean over leading
 * axes transpose their input first. The replacements are composed from fast WASM kernels or
 * copy contiguous runs on the heap (see ./kernels/); Identity and same-dtype Cast share the
 * input's buffer instead of copying it (tape clones). Call before `setBackend('wasm')` (or
 * after; setup hooks are kept); idempotent.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { makeBatchMatMul } from './kernels/batch_matmul.ts';
import {
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
} from './kernels/conv_kernels.ts';
import { dataMovementKernels } from './kernels/data_movement.ts';
import { registerDilatedConvGradients } from './kernels/dilated_conv_grads.ts';
import { registerMissingGradients } from './kernels/extra_grads.ts';
import { maxPoolGradConfig } from './kernels/max_pool_grad.ts';
import { reductionKernels } from './kernels/reductions.ts';
import { sharedCopyKernels } from './kernels/shared_copy.ts';
import { geluConfig, geluGradConfig, geluGradient } from './kernels/gelu.ts';
import { unsortedSegmentSumConfig } from './kernels/segment_sum.ts';
import { transposeKernel } from './kernels/transpose.ts';

/** Kernels added where WASM has none. */
const MISSING: KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  unsortedSegmentSumConfig,
  // Not tfjs kernels: one-pass exact GELU used by lib/ops/activation.ts when registered.
  geluConfig,
  geluGradConfig,
];

/** Stock kernels replaced by faster composites or heap copies. */
const REPLACED = [
  'BatchMatMul',
  'Conv2DBackpropInput',
  'Slice',
  'Concat',
  'Pack',
  'SplitV',
  'Unpack',
  'PadV2',
  'StridedSlice',
  'DepthToSpace',
  'Sum',
  'Mean',
  'MaxPoolGrad',
  'Transpose',
  'Identity',
  'Cast',
];

export interface WasmKernelReport {
  /** Kernels registered because WASM had none. */
  added: string[];
  /** Stock WASM kernels replaced by faster composites. */
  replaced: string[];
  /** Gradients registered (all backends) where tfjs-core has none or refuses dilation > 1. */
  gradients: string[];
}

const stock = new Map<string, KernelConfig>();
let report: WasmKernelReport | undefined;

/** The stock WASM kernel that was replaced (for benchmarks and tests), if any. */
export function stockWasmKernel(name: string): KernelConfig | undefined {
  return stock.get(name);
}

function replace(config: KernelConfig, out: WasmKernelReport): void {
  const old = stock.get(config.kernelName);
  if (old) tf.unregisterKernel(config.kernelName, 'wasm');
  // Keep the stock setup/dispose hooks: a replacement may call the stock kernel function,
  // which needs its cwrap'ed entry point set up when the backend initialises.
  tf.registerKernel({
    ...old,
    ...config,
    setupFunc: old?.setupFunc,
    disposeFunc: old?.disposeFunc,
  });
  out.replaced.push(config.kernelName);
}

/**
 * Register the WASM training kernels. Needs `@tensorflow/tfjs-backend-wasm` imported (its
 * kernels registered). Also loads tfjs-core's gradient table, extends the conv gradients to
 * dilation > 1 and adds the GatherNd / ScatterNd / StridedSlice / DepthToSpace gradients
 * (these act on every backend).
 */
export function registerWasmTrainingKernels(): WasmKernelReport {
  if (report) return report;
  const out: WasmKernelReport = { added: [], replaced: [], gradients: [] };
  for (const k of MISSING) {
    if (tf.getKernel(k.kernelName, 'wasm')) continue;
    tf.registerKernel(k);
    out.added.push(k.kernelName);
  }
  for (const name of REPLACED) {
    const k = tf.getKernel(name, 'wasm');
    if (k) stock.set(name, k);
  }
  const stockOf = (name: string): KernelConfig | undefined => stock.get(name);
  const bmm = stockOf('BatchMatMul');
  const replacements = [
    ...(bmm ? [makeBatchMatMul(bmm)] : []),
    conv2DBackpropInputConfig,
    maxPoolGradConfig,
    ...dataMovementKernels(stockOf),
    ...reductionKernels(stockOf),
    ...transposeKernel(stockOf),
    ...sharedCopyKernels(stockOf),
  ];
  for (const k of replacements) replace(k, out);
  if (!tf.getGradient(geluGradient.kernelName)) tf.registerGradient(geluGradient);
  registerDilatedConvGradients();
  out.gradients.push('Conv2D (dilation > 1)', 'DepthwiseConv2dNative (dilation > 1)');
  out.gradients.push(...registerMissingGradients());
  report = out;
  return out;
}
