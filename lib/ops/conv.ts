/**
 * Traced 2-D convolutions, NHWC, with PyTorch's symmetric explicit padding.
 *
 * TF's 'same' pads (0, 1) for a 3×3 stride-2 conv on even inputs where PyTorch pads (1, 1);
 * we always pass explicit padding (docs/architecture.md, Padding).
 */
import * as tf from '@tensorflow/tfjs-core';
import { numel, recordOp } from './trace.ts';

export interface ConvArgs {
  stride?: number | [number, number];
  /** Symmetric padding per side: p or [pH, pW]. */
  padding?: number | [number, number];
  dilation?: number | [number, number];
}

function pair(v: number | [number, number] | undefined, d: number): [number, number] {
  if (v === undefined) return [d, d];
  return typeof v === 'number' ? [v, v] : v;
}

function outSize(inp: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((inp + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** Dense conv. x [B,H,W,Cin], w [kH,kW,Cin,Cout], bias [Cout] → [B,H',W',Cout]. */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  args: ConvArgs,
  scope = '',
): tf.Tensor4D {
  const [sh, sw] = pair(args.stride, 1);
  const [ph, pw] = pair(args.padding, 0);
  const [dh, dw] = pair(args.dilation, 1);
  const [kh, kw, cin, cout] = w.shape;
  const [b, h, wd] = x.shape;
  const oh = outSize(h, kh, sh, ph, dh);
  const ow = outSize(wd, kw, sw, pw, dw);
  recordOp('conv', b * oh * ow * cout * cin * kh * kw, scope, [x.shape, w.shape]);
  return tf.tidy(() => {
    const pad = explicitPad(ph, pw);
    if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0) {
      return pointwise(x, w, bias);
    }
    // The bias rides in the convolution (XNNPACK adds it in the kernel): no broadcast pass.
    // tfjs' fused-conv gradient refuses dilation > 1, so dilated convs add the bias apart.
    if (bias && dh === 1 && dw === 1) {
      return tf.fused.conv2d({ x, filter: w, strides: [sh, sw], pad, bias });
    }
    const y = tf.conv2d(x, w, [sh, sw], pad, 'NHWC', [dh, dw]);
    return bias ? tf.add(y, bias) : y;
  });
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/** 'valid' or the explicit symmetric NHWC padding. */
function explicitPad(ph: number, pw: number): 'valid' | Pad4 {
  if (ph === 0 && pw === 0) return 'valid';
  return [
    [0, 0],
    [ph, ph],
    [pw, pw],
    [0, 0],
  ];
}

/**
 * 1×1 conv as a matrix product: [B·H·W, Cin] × [Cin, Cout] (+ bias, fused into the product).
 * Same result, cheaper on every backend.
 */
function pointwise(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor1D | undefined): tf.Tensor4D {
  const [b, h, wd, cin] = x.shape;
  const cout = w.shape[3];
  const a = tf.reshape(x, [b * h * wd, cin]); // (BHW, Cin)
  const w2 = tf.reshape(w, [cin, cout]); // (Cin, Cout)
  const y = bias ? tf.fused.matMul({ a, b: w2, bias }) : tf.matMul(a, w2); // (BHW, Cout)
  return tf.reshape(y, [b, h, wd, cout]);
}

/** Depthwise conv (groups = C, multiplier 1). x [B,H,W,C], w [kH,kW,C,1], bias [C]. */
export function depthwiseConv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  args: ConvArgs,
  scope = '',
): tf.Tensor4D {
  const [sh, sw] = pair(args.stride, 1);
  const [ph, pw] = pair(args.padding, 0);
  const [dh, dw] = pair(args.dilation, 1);
  const [kh, kw, c, m] = w.shape;
  const [b, h, wd] = x.shape;
  const oh = outSize(h, kh, sh, ph, dh);
  const ow = outSize(wd, kw, sw, pw, dw);
  recordOp('conv', b * oh * ow * c * m * kh * kw, scope, [x.shape, w.shape]);
  return tf.tidy(() => {
    const pad = explicitPad(ph, pw);
    if (bias && dh === 1 && dw === 1) {
      // The op and its gradient accept explicit padding; only the typing of `pad` omits it.
      const p = pad as unknown as 'valid';
      return tf.fused.depthwiseConv2d({ x, filter: w, strides: [sh, sw], pad: p, bias });
    }
    const y = tf.depthwiseConv2d(x, w, [sh, sw], pad, 'NHWC', [dh, dw]);
    return bias ? tf.add(y, bias) : y;
  });
}

/** Traced matrix product (batched). Counted as `matmul` (or `linear` when kind says so). */
export function matMul(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA = false,
  transposeB = false,
  scope = '',
  kind: 'matmul' | 'linear' = 'matmul',
): tf.Tensor {
  const ra = a.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const rb = b.shape.length;
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batch = numel(
    a.shape.slice(0, -2).length >= b.shape.slice(0, -2).length
      ? a.shape.slice(0, -2)
      : b.shape.slice(0, -2),
  );
  recordOp(kind, batch * m * k * n, scope, [a.shape, b.shape]);
  return tf.matMul(a, b, transposeA, transposeB);
}
