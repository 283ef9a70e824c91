/**
 * Conv2d followed by BatchNorm2d, with the BN folded into the conv in eval mode.
 *
 * Eval-mode BN is a per-channel affine map y·scale + shift, so conv→BN equals one conv with
 * weights w·scale and bias b·scale + shift. On WASM that removes two broadcast passes over
 * every BN output (the slowest elementwise ops there) and the conv's own bias add (the folded
 * bias rides in the fused kernel). The result differs from the two-step form only by float
 * rounding.
 *
 * Correctness rules:
 * - train mode (either module) or an active gradient tape runs conv then BN unchanged, so
 *   training, running-stat updates and every gradient are exactly the unfolded ones;
 * - the folded tensors are cached on the BN and recomputed whenever any of the six inputs
 *   (conv weight/bias, BN γ/β/running mean/var) changed: tfjs gives a Variable a new dataId on
 *   every `assign` (checkpoint loads, optimizer steps, running-stat updates);
 * - the op trace is the unfolded one: `conv` with the conv's shapes, then `batch_norm`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormAffine, recordBatchNorm } from '../../ops/norm.ts';
import type { Conv2d } from './conv.ts';
import type { BatchNorm2d, FoldedConvBn } from './norm.ts';

function inputIds(conv: Conv2d, bn: BatchNorm2d): (object | undefined)[] {
  return [conv.weight, conv.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar].map(
    (v) => v?.dataId as object | undefined,
  );
}

/** The folded weights for the current variable values (cached on the BN). */
export function foldConvBn(conv: Conv2d, bn: BatchNorm2d): FoldedConvBn {
  const ids = inputIds(conv, bn);
  const hit = bn.foldCache;
  if (hit && hit.ids.length === ids.length && hit.ids.every((id, i) => id === ids[i])) return hit;
  bn.clearCache();
  const [weight, bias] = tf.tidy(() => {
    const { scale, shift } = batchNormAffine(
      bn.runningMean,
      bn.runningVar,
      bn.weight,
      bn.bias,
      bn.eps,
    ); // (Cout)
    // Dense weights [kH,kW,Cin,Cout] scale along Cout (last axis); depthwise [kH,kW,C,1] along C.
    const s = conv.depthwise ? tf.reshape(scale, [1, 1, -1, 1]) : scale; // (1,1,C,1) or (Cout)
    const w = tf.mul(conv.weight, s) as tf.Tensor4D;
    const b = (conv.bias ? tf.add(tf.mul(conv.bias, scale), shift) : shift) as tf.Tensor1D;
    return [w, b] as const;
  });
  const entry: FoldedConvBn = { ids, weight: tf.keep(weight), bias: tf.keep(bias) };
  bn.foldCache = entry;
  return entry;
}

/** BN(conv(x)); folded into one conv in eval mode outside gradient tapes. */
export function convBn(conv: Conv2d, bn: BatchNorm2d, x: tf.Tensor4D): tf.Tensor4D {
  if (conv.training || bn.training || tf.engine().state.gradientDepth > 0) {
    if (bn.training) bn.clearCache(); // weights are about to change; free the stale fold
    return tf.tidy(() => bn.forward(conv.forward(x)));
  }
  const { weight, bias } = foldConvBn(conv, bn);
  const y = conv.forwardWith(x, weight, bias);
  recordBatchNorm(y.shape, bn.path);
  return y;
}
