/**
 * Corrected gradients for tfjs kernels whose own gradient is wrong (docs/gradients.md), on
 * every backend: the replacements are compositions of ordinary tfjs ops.
 * - ResizeBilinear: tfjs' gradient kernel ignores `halfPixelCenters` (PyTorch's
 *   `align_corners=False`), so it is replaced by the exact adjoint of the forward
 *   (lib/ops/resize_adjoint.ts), for every alignCorners/halfPixelCenters combination.
 * - ResizeNearestNeighbor: likewise replaced by the exact adjoint of the forward's index rule.
 * - AvgPool: tfjs divides every window by its full size in the gradient, but the forward
 *   ('same' or explicit padding) excludes padded cells from the count, so the gradient is wrong
 *   wherever a window overlaps the padding. No model here pools with padding; the gradient
 *   throws there (naming the fix) instead of training silently on wrong numbers.
 * - Max / Min (reductions): tfjs hands the whole dy to every element equal to the extremum,
 *   so k tied elements receive k·dy in total; PyTorch's amax/amin (and max()/min() without a
 *   dim) split it evenly, dx = dy·[x = y]/#ties — what this registers.
 * - Cast: tfjs passes dy straight through every cast; a cast to int32 or bool is piecewise
 *   constant, so its derivative is 0 (TensorFlow's own Cast gradient returns none).
 * Loaded by ./gradients.ts, so anything that can train has them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import {
  resizeBilinearAdjoint,
  resizeNearestAdjoint,
  type ResizeMode,
} from '../../ops/resize_adjoint.ts';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

function resizeAttrs(attrs: NamedAttrMap): { alignCorners: boolean; halfPixelCenters: boolean } {
  return {
    alignCorners: Boolean(attrs.alignCorners),
    halfPixelCenters: Boolean(attrs.halfPixelCenters),
  };
}

/** The gradient of a resize kernel as the exact adjoint of its forward (images only). */
function resizeGrad(
  kernelName: 'ResizeBilinear' | 'ResizeNearestNeighbor',
  adjoint: (dy: tf.Tensor4D, inSize: [number, number], mode: ResizeMode) => tf.Tensor4D,
): GradConfig {
  return {
    kernelName,
    inputsToSave: ['images'],
    gradFunc: (dy, saved, attrs) => {
      const [images] = saved as [tf.Tensor4D];
      const size: [number, number] = [images.shape[1], images.shape[2]];
      return { images: () => adjoint(dy as tf.Tensor4D, size, resizeAttrs(attrs)) };
    },
  };
}

const resizeBilinearGrad = resizeGrad('ResizeBilinear', resizeBilinearAdjoint);
const resizeNearestGrad = resizeGrad('ResizeNearestNeighbor', resizeNearestAdjoint);

/** True when an AvgPool with these attributes pads its input (the case tfjs gets wrong). */
export function avgPoolPads(xShape: number[], attrs: NamedAttrMap): boolean {
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const p = info.padInfo;
  return p.top + p.bottom + p.left + p.right > 0;
}

function guardedAvgPoolGrad(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (avgPoolPads(x.shape, attrs)) {
        throw new Error(
          `AvgPool gradient with padding (pad=${JSON.stringify(attrs.pad)}) is wrong in tfjs ` +
            '(it counts padded cells); pad explicitly with tf.pad and pool with "valid", or ' +
            'add an exact adjoint to lib/backend/kernels/resize_grads.ts',
        );
      }
      return original.gradFunc(dy, saved, attrs);
    },
  };
}

/** d max/min over `reductionIndices`, split evenly among ties (shapes as the input). */
function extremumGrad(kernelName: 'Max' | 'Min'): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved;
      const axes = tf.util.parseAxisParam(attrs.reductionIndices as number | number[], x.shape);
      return {
        x: () =>
          tf.tidy(() => {
            const kept = (t: tf.Tensor): tf.Tensor =>
              t.rank < x.rank
                ? tf.reshape(t, tf.backend_util.expandShapeToKeepDim(t.shape, axes))
                : t;
            const hit = tf.cast(tf.equal(x, kept(y)), 'float32');
            const ties = tf.sum(hit, axes, true);
            return tf.mul(tf.div(hit, ties), kept(dy as tf.Tensor));
          }),
      };
    },
  };
}

const castGrad = (original: GradConfig): GradConfig => ({
  ...original,
  gradFunc: (dy, saved, attrs) =>
    attrs.dtype === 'int32' || attrs.dtype === 'bool'
      ? { x: () => tf.zerosLike(dy as tf.Tensor) }
      : original.gradFunc(dy, saved, attrs),
});

const MARK = Symbol.for('offseg-corrected-grad');
type Marked = GradConfig & { [MARK]?: true };

/** Install the corrected gradients (idempotent). Requires tfjs' gradient table to be loaded. */
export function registerCorrectedGradients(): void {
  for (const cfg of [
    resizeBilinearGrad,
    resizeNearestGrad,
    extremumGrad('Max'),
    extremumGrad('Min'),
  ]) {
    tf.registerGradient({ ...cfg, [MARK]: true } as Marked);
  }
  const avg = tf.getGradient('AvgPool') as Marked | undefined;
  if (avg && !avg[MARK])
    tf.registerGradient({ ...guardedAvgPoolGrad(avg), [MARK]: true } as Marked);
  const cast = tf.getGradient('Cast') as Marked | undefined;
  if (cast && !cast[MARK]) tf.registerGradient({ ...castGrad(cast), [MARK]: true } as Marked);
}

/** True when the corrected gradients are the registered ones. */
export function correctedGradientsInstalled(): boolean {
  return ['ResizeBilinear', 'ResizeNearestNeighbor', 'AvgPool', 'Max', 'Min', 'Cast'].every(
    (k) => (tf.getGradient(k) as Marked | undefined)?.[MARK] === true,
  );
}
