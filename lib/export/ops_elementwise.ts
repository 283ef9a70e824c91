/**
 * tfjs elementwise kernels → ONNX (opset 17). Both follow numpy broadcasting, so binary ops map
 * one to one; tfjs kernels without an ONNX twin are written out:
 * - Rsqrt → Reciprocal(Sqrt); Square → Mul(x, x); SquaredDifference → Mul(d, d);
 * - Relu6 / ClipByValue → Clip with min and max inputs;
 * - Gelu (the composite op of lib/ops/composite.ts) and OffsegGelu (our fused kernel) →
 *   x·0.5·(1 + erf(x/√2)), the form ONNX Runtime fuses into one Gelu node;
 * - ZerosLike / OnesLike → ConstantOfShape(Shape(x)).
 * Operator semantics: https://onnx.ai/onnx/operators/ (Add, Where, Clip, Erf, Cast, Sum…).
 */
import type { KernelNode } from './record.ts';
import type { LowerContext, Lowering } from './lowering.ts';
import { DataType } from './onnx_proto.ts';
import { onnxType, rawBytes, type ElemType } from './graph_builder.ts';

const binary =
  (op: string): Lowering =>
  (ctx, n) => [ctx.g.add1(op, [ctx.input(n, 'a'), ctx.input(n, 'b')], {}, ctx.label(n))];

const unary =
  (op: string): Lowering =>
  (ctx, n) => [ctx.g.add1(op, [ctx.input(n, 'x')], {}, ctx.label(n))];

function num(n: KernelNode, attr: string): number {
  const v = n.attrs[attr];
  if (typeof v !== 'number') throw new Error(`${n.kernel}: attribute ${attr} is not a number`);
  return v;
}

/** Clip x to [lo, hi] (Clip takes its bounds as inputs since opset 11). */
function clip(ctx: LowerContext, x: string, lo: number, hi: number, name: string): string {
  return ctx.g.add1('Clip', [x, ctx.g.scalar(lo), ctx.g.scalar(hi)], {}, name);
}

/**
 * The activation fused into FusedConv2D / FusedDepthwiseConv2D / _FusedMatMul, applied to `x`.
 * @throws Error for an activation tfjs has but we do not map.
 */
export function fusedActivation(ctx: LowerContext, n: KernelNode, x: string): string {
  const act = (n.attrs.activation as string | undefined) ?? 'linear';
  const name = `${ctx.label(n)}/${act}`;
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return ctx.g.add1('Relu', [x], {}, name);
    case 'relu6':
      return clip(ctx, x, 0, 6, name);
    case 'elu':
      return ctx.g.add1('Elu', [x], { alpha: { f: 1 } }, name);
    case 'sigmoid':
      return ctx.g.add1('Sigmoid', [x], {}, name);
    case 'leakyrelu':
      return ctx.g.add1('LeakyRelu', [x], { alpha: { f: num(n, 'leakyreluAlpha') } }, name);
    case 'prelu':
      return ctx.g.add1('PRelu', [x, ctx.input(n, 'preluActivationWeights')], {}, name);
    default:
      throw new Error(`${n.kernel}: fused activation '${act}' has no ONNX mapping`);
  }
}

/** exact GELU as x·0.5·(1 + erf(x/√2)). */
function gelu(ctx: LowerContext, n: KernelNode): string[] {
  const g = ctx.g;
  const x = ctx.input(n, 'x');
  const base = ctx.label(n);
  const e = g.add1(
    'Erf',
    [g.add1('Div', [x, g.scalar(Math.SQRT2)], {}, `${base}/div`)],
    {},
    `${base}/erf`,
  );
  const p = g.add1('Add', [e, g.scalar(1)], {}, `${base}/add`);
  const xp = g.add1('Mul', [x, p], {}, `${base}/mul`);
  return [g.add1('Mul', [xp, g.scalar(0.5)], {}, base)];
}

/** A tensor shaped like input x, filled with `value` (ConstantOfShape of Shape(x)). */
function fill(ctx: LowerContext, n: KernelNode, value: number): string[] {
  const type = n.outputs[0].dtype as ElemType;
  const shape = ctx.g.add1('Shape', [ctx.input(n, 'x')], {}, `${ctx.label(n)}/shape`);
  const t = { dims: [1], dataType: onnxType(type), rawData: rawBytes([value], type) };
  return [ctx.g.add1('ConstantOfShape', [shape], { value: { t } }, ctx.label(n))];
}

const CAST_TO: Record<string, number> = {
  float32: DataType.FLOAT,
  int32: DataType.INT32,
  bool: DataType.BOOL,
};

export const ELEMENTWISE_OPS: Readonly<Record<string, Lowering>> = {
  Add: binary('Add'),
  Sub: binary('Sub'),
  Multiply: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Pow: binary('Pow'),
  Equal: binary('Equal'),
  Greater: binary('Greater'),
  GreaterEqual: binary('GreaterOrEqual'),
  Less: binary('Less'),
  LessEqual: binary('LessOrEqual'),
  LogicalAnd: binary('And'),
  LogicalOr: binary('Or'),
  NotEqual: (ctx, n) => [ctx.g.add1('Not', [binary('Equal')(ctx, n)[0]], {}, ctx.label(n))],
  SquaredDifference: (ctx, n) => {
    const d = binary('Sub')(ctx, n)[0];
    return [ctx.g.add1('Mul', [d, d], {}, ctx.label(n))];
  },
  Abs: unary('Abs'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Sqrt: unary('Sqrt'),
  Neg: unary('Neg'),
  Relu: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Erf: unary('Erf'),
  Floor: unary('Floor'),
  Ceil: unary('Ceil'),
  Round: unary('Round'),
  Sign: unary('Sign'),
  Reciprocal: unary('Reciprocal'),
  LogicalNot: unary('Not'),
  Identity: unary('Identity'),
  Elu: (ctx, n) => [ctx.g.add1('Elu', [ctx.input(n, 'x')], { alpha: { f: 1 } }, ctx.label(n))],
  Rsqrt: (ctx, n) => {
    const s = ctx.g.add1('Sqrt', [ctx.input(n, 'x')], {}, `${ctx.label(n)}/sqrt`);
    return [ctx.g.add1('Reciprocal', [s], {}, ctx.label(n))];
  },
  Square: (ctx, n) => {
    const x = ctx.input(n, 'x');
    return [ctx.g.add1('Mul', [x, x], {}, ctx.label(n))];
  },
  Relu6: (ctx, n) => [clip(ctx, ctx.input(n, 'x'), 0, 6, ctx.label(n))],
  ClipByValue: (ctx, n) => [
    clip(ctx, ctx.input(n, 'x'), num(n, 'clipValueMin'), num(n, 'clipValueMax'), ctx.label(n)),
  ],
  LeakyRelu: (ctx, n) => [
    ctx.g.add1('LeakyRelu', [ctx.input(n, 'x')], { alpha: { f: num(n, 'alpha') } }, ctx.label(n)),
  ],
  Prelu: (ctx, n) => [
    ctx.g.add1('PRelu', [ctx.input(n, 'x'), ctx.input(n, 'alpha')], {}, ctx.label(n)),
  ],
  OffsegGelu: gelu,
  Gelu: gelu,
  Select: (ctx, n) => [
    ctx.g.add1(
      'Where',
      [ctx.input(n, 'condition'), ctx.input(n, 't'), ctx.input(n, 'e')],
      {},
      ctx.label(n),
    ),
  ],
  Cast: (ctx, n) => {
    const to = CAST_TO[n.attrs.dtype as string];
    if (to === undefined) throw new Error(`Cast to ${String(n.attrs.dtype)} has no ONNX mapping`);
    return [ctx.g.add1('Cast', [ctx.input(n, 'x')], { to }, ctx.label(n))];
  },
  AddN: (ctx, n) => [
    ctx.g.add1(
      'Sum',
      Object.keys(n.inputs).map((k) => ctx.input(n, k)),
      {},
      ctx.label(n),
    ),
  ],
  ZerosLike: (ctx, n) => fill(ctx, n, 0),
  OnesLike: (ctx, n) => fill(ctx, n, 1),
};
