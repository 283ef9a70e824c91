/**
 * Composite ops: an op in lib/ops that the ONNX exporter (lib/export/record.ts) records as ONE
 * node instead of the tfjs kernels it is built from, because ONNX has the op itself and the
 * kernel-level form would freeze a size-dependent constant into the graph.
 *
 * - `resize_bicubic`: PyTorch's bicubic interpolation written as products with interpolation
 *   matrices (./bicubic.ts) whose values depend on the target size; ONNX's Resize (cubic,
 *   A = −0.75, half_pixel) computes the same interpolation for any size.
 * - `gelu`: one fused kernel on WASM, five elementwise kernels elsewhere; recorded as one exact
 *   GELU whichever backend runs the recording.
 * - `layer_norm` (last axis) and `group_norm`: tens of kernels each here, one ONNX node
 *   (LayerNormalization) or a short standard pattern (InstanceNormalization over the groups) there.
 *
 * With no recorder active (every normal run) `asComposite` is one null check and a call.
 */
import type * as tf from '@tensorflow/tfjs-core';

export type CompositeOp =
  | {
      kind: 'resize_bicubic';
      /** Target size of the last two axes. */
      size: [number, number];
    }
  | { kind: 'gelu' }
  | { kind: 'layer_norm'; eps: number }
  | { kind: 'group_norm'; groups: number; eps: number };

/** What the exporter's recorder does with a composite op. */
export type CompositeRecorder = <T extends tf.Tensor>(
  op: CompositeOp,
  inputs: readonly tf.Tensor[],
  compute: () => T,
) => T;

let active: CompositeRecorder | undefined;

/** Run `compute`, reporting it as one `op` over `inputs` to the active recorder, if any. */
export function asComposite<T extends tf.Tensor>(
  op: CompositeOp,
  inputs: readonly tf.Tensor[],
  compute: () => T,
): T {
  return active ? active(op, inputs, compute) : compute();
}

/** Run fn with `recorder` receiving the composite ops; nested calls are not supported. */
export function withCompositeRecorder<T>(recorder: CompositeRecorder, fn: () => T): T {
  const prev = active;
  active = recorder;
  try {
    return fn();
  } finally {
    active = prev;
  }
}
