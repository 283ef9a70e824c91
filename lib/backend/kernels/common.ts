/**
 * Shared pieces of the composite WASM kernels (docs/backends.md).
 *
 * A composite kernel receives TensorInfos, wraps them as Tensors and runs ordinary tfjs ops
 * inside one `tf.tidy`; those ops dispatch to the fast XNNPACK kernels of the active backend.
 * Ops run inside a kernel are not recorded on the gradient tape (the engine's kernelDepth is
 * > 0), and the tidy disposes every intermediate; the returned Tensor becomes the output.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

export type Pair = [number, number];
export type PadAttr = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/**
 * Run `fn` on Tensors wrapping the kernel inputs; intermediates are disposed. Each wrapper
 * takes its own backend reference (the engine frees data when the last Tensor on it goes).
 */
export function composite<T extends tf.Tensor>(
  inputs: TensorInfo[],
  fn: (...ts: tf.Tensor[]) => T,
): T {
  const backend = tf.backend();
  return tf.tidy(() =>
    fn(
      ...inputs.map((i) => {
        const t = tf.engine().makeTensorFromTensorInfo(i);
        backend.incRef(i.dataId);
        return t;
      }),
    ),
  );
}

/** Read an attribute with a type the caller vouches for (attrs come untyped from the engine). */
export function attr<T>(attrs: NamedAttrMap | undefined, name: string): T {
  return (attrs as Record<string, unknown> | undefined)?.[name] as T;
}

export function pair(v: number | number[] | undefined, d: number): Pair {
  if (v === undefined || v === null) return [d, d];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/**
 * Geometry of a forward 2-D convolution exactly as tfjs computes it (conv_util's
 * computeConv2DInfo: 'same' pads TF-style, explicit pads as given, the rounding mode).
 * Always channels-last shapes; the caller transposes NCHW data first.
 */
export interface ConvGeometry {
  kernel: Pair;
  stride: Pair;
  dilation: Pair;
  /** Padding before each spatial dim: [top, left]. */
  padBefore: Pair;
  inSize: Pair;
  outSize: Pair;
}

export function convGeometry(
  inShape: number[],
  filterShape: number[],
  strides: number | number[],
  dilations: number | number[] | undefined,
  pad: PadAttr,
  roundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides as number | Pair,
    (dilations ?? 1) as number | Pair,
    pad,
    roundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    kernel: [info.filterHeight, info.filterWidth],
    stride: [info.strideHeight, info.strideWidth],
    dilation: [info.dilationHeight, info.dilationWidth],
    padBefore: [info.padInfo.top, info.padInfo.left],
    inSize: [info.inHeight, info.inWidth],
    outSize: [info.outHeight, info.outWidth],
  };
}

/**
 * The output size is taken from dy: tfjs' gradients drop `dimRoundingMode`, so a geometry
 * recomputed from the attrs can be one row short of what the forward pass produced.
 */
export function withOutSize(geo: ConvGeometry, dyShapeNHWC: number[]): ConvGeometry {
  return { ...geo, outSize: [dyShapeNHWC[1], dyShapeNHWC[2]] };
}

/**
 * Pad (positive) or crop (negative) the two spatial dims of an NHWC tensor.
 * before/after: [top, left] and [bottom, right].
 */
export function padOrCrop(x: tf.Tensor4D, before: Pair, after: Pair): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const cropT = Math.max(0, -before[0]);
  const cropL = Math.max(0, -before[1]);
  const cropB = Math.max(0, -after[0]);
  const cropR = Math.max(0, -after[1]);
  let y = x;
  if (cropT || cropL || cropB || cropR) {
    const hh = Math.max(0, h - cropT - cropB);
    const ww = Math.max(0, w - cropL - cropR);
    y = tf.slice(x, [0, cropT, cropL, 0], [b, hh, ww, c]); // (B, H', W', C)
  }
  const pT = Math.max(0, before[0]);
  const pL = Math.max(0, before[1]);
  const pB = Math.max(0, after[0]);
  const pR = Math.max(0, after[1]);
  if (!(pT || pL || pB || pR)) return y;
  if (y.shape[1] === 0 || y.shape[2] === 0) {
    return tf.zeros([b, y.shape[1] + pT + pB, y.shape[2] + pL + pR, c]);
  }
  return tf.pad(y, [
    [0, 0],
    [pT, pB],
    [pL, pR],
    [0, 0],
  ]); // (B, H'+pT+pB, W'+pL+pR, C)
}

/** NCHW → NHWC when the kernel attrs say channels-first. */
export function toChannelsLast(x: tf.Tensor4D, dataFormat: string | undefined): tf.Tensor4D {
  return dataFormat === 'NCHW' ? tf.transpose(x, [0, 2, 3, 1]) : x; // (B, H, W, C)
}

export function toChannelsFirst(x: tf.Tensor4D, dataFormat: string | undefined): tf.Tensor4D {
  return dataFormat === 'NCHW' ? tf.transpose(x, [0, 3, 1, 2]) : x; // (B, C, H, W)
}

export function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
