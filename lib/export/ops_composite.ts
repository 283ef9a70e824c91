/**
 * Composite ops (lib/ops/composite.ts) → ONNX (opset 17), one standard node or pattern each:
 * - LayerNorm (last axis) → LayerNormalization(axis −1, epsilon);
 * - GroupNorm → InstanceNormalization over [B, G, (C/G)·H·W], then the per-channel affine, the
 *   pattern PyTorch's own exporter writes for GroupNormalization before opset 18.
 * (ResizeBicubic and Gelu are lowered with their kernel relatives in ./ops_nn.ts and
 * ./ops_elementwise.ts.)
 */
import type { Lowering } from './lowering.ts';
import { staticDim, type Dim } from './sym.ts';

const layerNorm: Lowering = (ctx, n) => [
  ctx.g.add1(
    'LayerNormalization',
    [ctx.input(n, 'x'), ctx.input(n, 'x1'), ctx.input(n, 'x2')],
    { axis: -1, epsilon: { f: n.attrs.eps as number } },
    ctx.label(n),
  ),
];

const groupNorm: Lowering = (ctx, n) => {
  const g = ctx.g;
  const base = ctx.label(n);
  const [b, h, w, cDim] = n.inputInfo.x.shape;
  const c = staticDim(cDim, 'GroupNorm channels');
  const groups = n.attrs.groups as number;
  const nchw: Dim[] = [b, c, h, w];
  const xt = g.add1('Transpose', [ctx.input(n, 'x')], { perm: [0, 3, 1, 2] }, `${base}/nchw`);
  const grouped = g.add1('Reshape', [xt, g.intVector([b, groups, -1])], {}, `${base}/groups`);
  const normed = g.add1(
    'InstanceNormalization',
    [
      grouped,
      g.constant(new Array<number>(groups).fill(1), [groups], 'float32', 'ones'),
      g.constant(new Array<number>(groups).fill(0), [groups], 'float32', 'zeros'),
    ],
    { epsilon: { f: n.attrs.eps as number } },
    `${base}/instnorm`,
  );
  const back = g.add1('Reshape', [normed, g.intVector(nchw)], {}, `${base}/back`);
  const perChannel = g.int64s([c, 1, 1]);
  const gamma = g.add1('Reshape', [ctx.input(n, 'x1'), perChannel], {}, `${base}/gamma`);
  const beta = g.add1('Reshape', [ctx.input(n, 'x2'), perChannel], {}, `${base}/beta`);
  const y = g.add1('Add', [g.add1('Mul', [back, gamma], {}, `${base}/scale`), beta], {}, base);
  return [g.add1('Transpose', [y], { perm: [0, 2, 3, 1] }, `${base}/nhwc`)];
};

export const COMPOSITE_OPS: Readonly<Record<string, Lowering>> = {
  LayerNorm: layerNorm,
  GroupNorm: groupNorm,
};
