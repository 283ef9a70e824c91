/**
 * tfjs network kernels → ONNX (opset 17): convolutions, matrix products, pooling, softmax and
 * resizes. Operator semantics: https://onnx.ai/onnx/operators/ (Conv, MatMul, MaxPool, Softmax,
 * Resize).
 *
 * - Convolutions and pooling run in ONNX's NCHW: Transpose → Conv → Transpose (see ./lower.ts for
 *   why the transposes are cheap). tfjs' explicit NHWC padding [[0,0],[t,b],[l,r],[0,0]] becomes
 *   pads [t, l, b, r]; a depthwise conv is a grouped Conv with group = C.
 * - BatchMatMul's transposeA/B become a Transpose of the last two axes; MatMul broadcasts the
 *   batch axes as tfjs does.
 * - ResizeBilinear with half-pixel centres is Resize(linear, half_pixel): both clamp source
 *   coordinates to the image, as PyTorch's bilinear with align_corners=False does.
 *   ResizeNearestNeighbor without half-pixel centres is Resize(nearest, asymmetric, floor),
 *   PyTorch's 'nearest'. Both resize NHWC directly (scale 1 on N and C).
 * - The composite bicubic resize (lib/ops/composite.ts) is Resize(cubic).
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelNode } from './record.ts';
import type { LowerContext, Lowering } from './lowering.ts';
import { fusedActivation } from './ops_elementwise.ts';
import { dimEquals, isSym, staticDim, type Dim } from './sym.ts';

type Pair = [number, number];
type Shape4 = [number, number, number, number];

function pair(v: unknown, what: string): Pair {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) {
    return [v[0] as number, v[1] as number];
  }
  throw new Error(`${what} must be a number or a pair, got ${JSON.stringify(v)}`);
}

/** A 4-D shape with every dimension fixed; symbolic spatial sides are replaced by a stand-in. */
function probeShape(shape: readonly Dim[]): Shape4 {
  return shape.map((d) => (isSym(d) ? 64 : d)) as Shape4;
}

/**
 * ONNX pads [t, l, b, r] of a tfjs conv/pool. Explicit and 'valid' padding do not depend on the
 * input size; 'same' does, and is written as auto_pad SAME_UPPER (tfjs pads the extra row and
 * column at the bottom/right, as SAME_UPPER does).
 */
function padding(
  n: KernelNode,
  filter: Pair,
  strides: Pair,
  dilations: Pair,
): { pads: number[] } | { autoPad: 'SAME_UPPER' } {
  const pad = n.attrs.pad;
  if (pad === 'same') {
    return { autoPad: 'SAME_UPPER' };
  }
  if (n.attrs.dataFormat !== undefined && n.attrs.dataFormat !== 'NHWC') {
    throw new Error(`${n.kernel}: data format ${String(n.attrs.dataFormat)} is not supported`);
  }
  const xShape = probeShape(n.inputInfo.x.shape);
  const info = backend_util.computePool2DInfo(
    xShape,
    filter,
    strides,
    dilations,
    pad as 'valid' | number | backend_util.ExplicitPadding,
    n.attrs.dimRoundingMode as 'floor' | undefined,
  );
  const p = info.padInfo;
  return { pads: [p.top, p.left, p.bottom, p.right] };
}

function toNchw(ctx: LowerContext, x: string, base: string): string {
  return ctx.g.add1('Transpose', [x], { perm: [0, 3, 1, 2] }, `${base}/nchw`);
}

function toNhwc(ctx: LowerContext, x: string, base: string): string {
  return ctx.g.add1('Transpose', [x], { perm: [0, 2, 3, 1] }, base);
}

const conv =
  (depthwise: boolean): Lowering =>
  (ctx, n) => {
    const base = ctx.label(n);
    const [kh, kw, cin] = n.inputInfo.filter.shape.map((d) => staticDim(d, 'a filter size'));
    const strides = pair(n.attrs.strides, 'strides');
    const dilations = pair(n.attrs.dilations ?? 1, 'dilations');
    const p = padding(n, [kh, kw], strides, dilations);
    const inputs = [toNchw(ctx, ctx.input(n, 'x'), base), ctx.filter(n, 'filter', depthwise)];
    const bias = ctx.has(n, 'bias') ? n.inputInfo.bias : undefined;
    const biasInConv = bias !== undefined && bias.shape.length === 1;
    if (biasInConv) inputs.push(ctx.input(n, 'bias'));
    const y = ctx.g.add1(
      'Conv',
      inputs,
      {
        kernel_shape: [kh, kw],
        strides,
        dilations,
        group: depthwise ? cin : 1,
        ...('pads' in p ? { pads: p.pads } : { auto_pad: p.autoPad }),
      },
      base,
    );
    let out = toNhwc(ctx, y, `${base}/nhwc`);
    if (bias && !biasInConv)
      out = ctx.g.add1('Add', [out, ctx.input(n, 'bias')], {}, `${base}/bias`);
    return [fusedActivation(ctx, n, out)];
  };

/**
 * The weight of a pointwise product as a 2-D value: [C, C'] or, with transposeB, [C', C] (the
 * recorded weight may carry batch axes of 1).
 */
function pointwiseWeight(
  ctx: LowerContext,
  n: KernelNode,
  cin: number,
  cout: number,
): { w2: string; tb: boolean } {
  const tb = n.attrs.transposeB === true;
  const shape = tb ? [cout, cin] : [cin, cout];
  const w2 = ctx.g.add1(
    'Reshape',
    [ctx.input(n, 'b'), ctx.g.int64s(shape)],
    {},
    `${ctx.label(n)}/W2`,
  );
  return { w2, tb };
}

/**
 * A 1×1 conv that tfjs ran as Reshape → MatMul → Reshape (./pointwise.ts): Conv on the NHWC
 * `source` [B, H, W, C] with the product's weight, [C, C'] (or [C', C] with transposeB) behind
 * batch axes of 1, as [C', C, 1, 1]; the product's bias and activation. Returns [B, H, W, C'].
 */
export function lowerPointwiseConv(
  ctx: LowerContext,
  n: KernelNode,
  source: string,
  cin: number,
  cout: number,
): string {
  const g = ctx.g;
  const base = ctx.label(n);
  const { w2, tb } = pointwiseWeight(ctx, n, cin, cout);
  const wt = tb ? w2 : g.add1('Transpose', [w2], { perm: [1, 0] }, `${base}/WT`);
  const w = g.add1('Reshape', [wt, g.int64s([cout, cin, 1, 1])], {}, `${base}/W`);
  const inputs = [toNchw(ctx, source, base), w];
  if (ctx.has(n, 'bias')) inputs.push(ctx.input(n, 'bias'));
  const y = g.add1('Conv', inputs, { kernel_shape: [1, 1] }, base);
  return fusedActivation(ctx, n, toNhwc(ctx, y, `${base}/nhwc`));
}

/**
 * The same 1×1 conv kept as the MatMul tfjs runs, on the NHWC `source` itself: [B, H, W, C] ·
 * [C, C'] (MatMul broadcasts over B, H, W), then the bias and activation. Used for convs over
 * large inputs, where ONNX Runtime's GEMM beats its NCHWc conv (./pointwise.ts).
 */
export function lowerPointwiseMatMul(
  ctx: LowerContext,
  n: KernelNode,
  source: string,
  cin: number,
  cout: number,
): string {
  const g = ctx.g;
  const base = ctx.label(n);
  const { w2, tb } = pointwiseWeight(ctx, n, cin, cout);
  const w = tb ? g.add1('Transpose', [w2], { perm: [1, 0] }, `${base}/WT`) : w2;
  let y = g.add1('MatMul', [source, w], {}, base);
  if (ctx.has(n, 'bias')) y = g.add1('Add', [y, ctx.input(n, 'bias')], {}, `${base}/bias`);
  return fusedActivation(ctx, n, y);
}

/** Swap the last two axes of a rank-r value. */
function swapLast(ctx: LowerContext, x: string, rank: number, name: string): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.g.add1('Transpose', [x], { perm }, name);
}

const matMul: Lowering = (ctx, n) => {
  const base = ctx.label(n);
  let a = ctx.input(n, 'a');
  let b = ctx.input(n, 'b');
  if (n.attrs.transposeA) a = swapLast(ctx, a, n.inputInfo.a.shape.length, `${base}/aT`);
  if (n.attrs.transposeB) b = swapLast(ctx, b, n.inputInfo.b.shape.length, `${base}/bT`);
  let y = ctx.g.add1('MatMul', [a, b], {}, base);
  if (ctx.has(n, 'bias')) y = ctx.g.add1('Add', [y, ctx.input(n, 'bias')], {}, `${base}/bias`);
  return [fusedActivation(ctx, n, y)];
};

const maxPool: Lowering = (ctx, n) => {
  const base = ctx.label(n);
  const filter = pair(n.attrs.filterSize, 'filterSize');
  const strides = pair(n.attrs.strides, 'strides');
  const p = padding(n, filter, strides, [1, 1]);
  const y = ctx.g.add1(
    'MaxPool',
    [toNchw(ctx, ctx.input(n, 'x'), base)],
    {
      kernel_shape: filter,
      strides,
      ...('pads' in p ? { pads: p.pads } : { auto_pad: p.autoPad }),
    },
    base,
  );
  return [toNhwc(ctx, y, `${base}/nhwc`)];
};

function softmax(op: 'Softmax' | 'LogSoftmax', attr: 'dim' | 'axis'): Lowering {
  return (ctx, n) => {
    const axis = (n.attrs[attr] as number | undefined) ?? -1;
    return [ctx.g.add1(op, [ctx.input(n, 'logits')], { axis }, ctx.label(n))];
  };
}

function resize(mode: 'linear' | 'nearest'): Lowering {
  return (ctx, n) => {
    const [b, , , c] = n.inputInfo.images.shape;
    const [h, w] = n.attrs.size as unknown as [Dim, Dim];
    const align = n.attrs.alignCorners === true;
    const half = n.attrs.halfPixelCenters === true;
    let coordinate: string;
    if (align) coordinate = 'align_corners';
    else if (half) coordinate = mode === 'linear' ? 'half_pixel' : 'tf_half_pixel_for_nn';
    else coordinate = 'asymmetric';
    const sizes = ctx.g.intVector([b, h, w, c]);
    return [
      ctx.g.add1(
        'Resize',
        [ctx.input(n, 'images'), '', '', sizes],
        {
          mode,
          coordinate_transformation_mode: coordinate,
          ...(mode === 'nearest' ? { nearest_mode: align ? 'round_prefer_ceil' : 'floor' } : {}),
        },
        ctx.label(n),
      ),
    ];
  };
}

/**
 * The composite bicubic resize of the last two axes (lib/ops/bicubic.ts): Resize(cubic,
 * cubic_coeff_a −0.75, half_pixel, exclude_outside 0) — PyTorch's bicubic with
 * align_corners=False, border taps replicated — on the input viewed as [1, L, Nt, Mt].
 */
const resizeBicubic: Lowering = (ctx, n) => {
  const base = ctx.label(n);
  const inShape = n.inputInfo.x.shape;
  const outShape = n.outputs[0].shape;
  const x = ctx.input(n, 'x');
  if (inShape.every((d, i) => dimEquals(d, outShape[i]))) {
    return [ctx.g.add1('Identity', [x], {}, base)];
  }
  const lead = inShape.slice(0, -2).map((d) => staticDim(d, 'a bicubic batch axis'));
  const l = lead.reduce((a, b) => a * b, 1);
  const x4 = ctx.g.add1(
    'Reshape',
    [x, ctx.g.intVector([1, l, ...inShape.slice(-2)])],
    {},
    `${base}/4d`,
  );
  const y4 = ctx.g.add1(
    'Resize',
    [x4, '', '', ctx.g.intVector([1, l, ...outShape.slice(-2)])],
    {
      mode: 'cubic',
      cubic_coeff_a: { f: -0.75 },
      coordinate_transformation_mode: 'half_pixel',
      exclude_outside: 0,
    },
    base,
  );
  return [ctx.g.add1('Reshape', [y4, ctx.g.intVector(outShape)], {}, `${base}/out`)];
};

export const NN_OPS: Readonly<Record<string, Lowering>> = {
  Conv2D: conv(false),
  FusedConv2D: conv(false),
  DepthwiseConv2dNative: conv(true),
  FusedDepthwiseConv2D: conv(true),
  BatchMatMul: matMul,
  _FusedMatMul: matMul,
  MaxPool: maxPool,
  Softmax: softmax('Softmax', 'dim'),
  LogSoftmax: softmax('LogSoftmax', 'axis'),
  ResizeBilinear: resize('linear'),
  ResizeNearestNeighbor: resize('nearest'),
  ResizeBicubic: resizeBicubic,
};
