/**
 * tfjs reductions → ONNX (opset 17): Mean, Sum, Max, Min, Prod. In opset 17 ReduceSum takes its
 * axes as an input, the others as an attribute (https://onnx.ai/onnx/operators/onnx__ReduceSum.html).
 * tfjs' `keepDims` is ONNX's `keepdims`.
 */
import type { Lowering } from './lowering.ts';

function axes(v: unknown, rank: number): number[] {
  const list = Array.isArray(v) ? (v as number[]) : v === undefined ? [] : [v as number];
  const all = list.length ? list : Array.from({ length: rank }, (_, i) => i);
  return all.map((a) => (a < 0 ? a + rank : a));
}

function reduce(op: string): Lowering {
  return (ctx, n) => {
    const a = axes(n.attrs.axis, n.inputInfo.x.shape.length);
    const keepdims = n.attrs.keepDims ? 1 : 0;
    const x = ctx.input(n, 'x');
    if (op === 'ReduceSum') {
      return [ctx.g.add1(op, [x, ctx.g.int64s(a)], { keepdims }, ctx.label(n))];
    }
    return [ctx.g.add1(op, [x], { axes: a, keepdims }, ctx.label(n))];
  };
}

export const REDUCE_OPS: Readonly<Record<string, Lowering>> = {
  Mean: reduce('ReduceMean'),
  Sum: reduce('ReduceSum'),
  Max: reduce('ReduceMax'),
  Min: reduce('ReduceMin'),
  Prod: reduce('ReduceProd'),
};
