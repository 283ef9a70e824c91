/**
 * tfjs data-movement kernels → ONNX (opset 17): Reshape, Transpose, Slice, Concat, Pack/Unpack,
 * SplitV, PadV2, Tile, BroadcastTo, ExpandDims/Squeeze, GatherV2/GatherNd, Range and Fill.
 * Operator semantics: https://onnx.ai/onnx/operators/.
 *
 * Sizes (reshape targets, slice ends, split sizes, range limits) go through the builder's
 * `intVector`, so a dynamic-shape graph computes them from the input's height and width.
 * Reshape targets are taken from the recorded output shape (no −1 left to resolve).
 */
import type { KernelNode } from './record.ts';
import type { LowerContext, Lowering } from './lowering.ts';
import { elemType } from './lowering.ts';
import { rawBytes, onnxType } from './graph_builder.ts';
import { addDim, dimEquals, isSym, type Dim } from './sym.ts';

/** Inputs of a list kernel (Concat, Pack, AddN) in order. */
function listInputs(ctx: LowerContext, n: KernelNode): string[] {
  return Object.keys(n.inputs)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => ctx.input(n, k));
}

function axisOf(n: KernelNode, attr: string, rank: number): number {
  const raw = n.attrs[attr];
  const a = Array.isArray(raw) ? (raw[0] as number) : (raw as number);
  if (typeof a !== 'number') throw new Error(`${n.kernel}: attribute ${attr} is not an axis`);
  return a < 0 ? a + rank : a;
}

function dims(v: unknown): Dim[] {
  if (!Array.isArray(v)) throw new Error(`expected a list of sizes, got ${JSON.stringify(v)}`);
  return v as Dim[];
}

const reshape: Lowering = (ctx, n) => [
  ctx.g.add1('Reshape', [ctx.input(n, 'x'), ctx.g.intVector(n.outputs[0].shape)], {}, ctx.label(n)),
];

/** Slice of the axes where the output differs from the input (begin ≠ 0 or a shorter size). */
const slice: Lowering = (ctx, n) => {
  const inShape = n.inputInfo.x.shape;
  const outShape = n.outputs[0].shape;
  const begin = dims(n.attrs.begin);
  const starts: Dim[] = [];
  const ends: Dim[] = [];
  const axes: number[] = [];
  inShape.forEach((d, i) => {
    const b = begin[i] ?? 0;
    if (dimEquals(b, 0) && dimEquals(outShape[i], d)) return;
    axes.push(i);
    starts.push(b);
    ends.push(addDim(b, outShape[i]));
  });
  if (!axes.length) return [ctx.g.add1('Identity', [ctx.input(n, 'x')], {}, ctx.label(n))];
  return [
    ctx.g.add1(
      'Slice',
      [ctx.input(n, 'x'), ctx.g.intVector(starts), ctx.g.intVector(ends), ctx.g.int64s(axes)],
      {},
      ctx.label(n),
    ),
  ];
};

const pack: Lowering = (ctx, n) => {
  const rank = n.outputs[0].shape.length;
  const axis = axisOf(n, 'axis', rank);
  const parts = listInputs(ctx, n).map((x, i) =>
    ctx.g.add1('Unsqueeze', [x, ctx.g.int64s([axis])], {}, `${ctx.label(n)}/unsqueeze${i}`),
  );
  return [ctx.g.add1('Concat', parts, { axis }, ctx.label(n))];
};

const unpack: Lowering = (ctx, n) => {
  const rank = n.inputInfo.value.shape.length;
  const axis = axisOf(n, 'axis', rank);
  const count = n.outputs.length;
  const parts = ctx.g.add(
    'Split',
    [ctx.input(n, 'value'), ctx.g.int64s(new Array<number>(count).fill(1))],
    { axis },
    { name: `${ctx.label(n)}/split`, outputs: count },
  );
  return parts.map((p, i) =>
    ctx.g.add1('Squeeze', [p, ctx.g.int64s([axis])], {}, `${ctx.label(n)}:${i}`),
  );
};

const splitV: Lowering = (ctx, n) => {
  const rank = n.inputInfo.x.shape.length;
  const axis = axisOf(n, 'axis', rank);
  const sizes = n.outputs.map((o) => o.shape[axis]);
  return ctx.g.add(
    'Split',
    [ctx.input(n, 'x'), ctx.g.intVector(sizes)],
    { axis },
    { name: ctx.label(n), outputs: n.outputs.length },
  );
};

const padV2: Lowering = (ctx, n) => {
  const paddings = n.attrs.paddings as unknown as [Dim, Dim][];
  const pads = [...paddings.map((p) => p[0]), ...paddings.map((p) => p[1])];
  const type = elemType(n.inputInfo.x);
  const value = ctx.g.constant([(n.attrs.constantValue as number) ?? 0], [], type, 'pad_value');
  return [
    ctx.g.add1(
      'Pad',
      [ctx.input(n, 'x'), ctx.g.intVector(pads), value],
      { mode: 'constant' },
      ctx.label(n),
    ),
  ];
};

const range: Lowering = (ctx, n) => {
  const start = n.attrs.start as Dim;
  const stop = n.attrs.stop as Dim;
  const step = n.attrs.step as number;
  const type = elemType(n.outputs[0]);
  if (!isSym(start) && !isSym(stop)) {
    const count = Math.max(0, Math.ceil((stop - start) / step));
    const values = Array.from({ length: count }, (_, i) => start + i * step);
    return [ctx.g.constant(values, [count], type, `${ctx.label(n)}`)];
  }
  const scalar = (v: Dim): string => {
    const i = ctx.g.scalarInt(v);
    return type === 'int32'
      ? ctx.g.add1('Cast', [i], { to: onnxType('int32') })
      : castFloat(ctx, i);
  };
  const stepName = ctx.g.constant([step], [], type, 'step');
  return [ctx.g.add1('Range', [scalar(start), scalar(stop), stepName], {}, ctx.label(n))];
};

function castFloat(ctx: LowerContext, x: string): string {
  return ctx.g.add1('Cast', [x], { to: onnxType('float32') });
}

const fill: Lowering = (ctx, n) => {
  const type = elemType(n.outputs[0]);
  const t = {
    dims: [1],
    dataType: onnxType(type),
    rawData: rawBytes([n.attrs.value as number], type),
  };
  return [
    ctx.g.add1(
      'ConstantOfShape',
      [ctx.g.intVector(n.outputs[0].shape)],
      { value: { t } },
      ctx.label(n),
    ),
  ];
};

const gather: Lowering = (ctx, n) => {
  if ((n.attrs.batchDims as number | undefined) ?? 0) {
    throw new Error('GatherV2 with batchDims has no ONNX mapping here');
  }
  const axis = axisOf(n, 'axis', n.inputInfo.x.shape.length);
  const idx = ctx.g.add1('Cast', [ctx.input(n, 'indices')], { to: onnxType('int64') });
  return [ctx.g.add1('Gather', [ctx.input(n, 'x'), idx], { axis }, ctx.label(n))];
};

const gatherNd: Lowering = (ctx, n) => {
  const idx = ctx.g.add1('Cast', [ctx.input(n, 'indices')], { to: onnxType('int64') });
  return [ctx.g.add1('GatherND', [ctx.input(n, 'params'), idx], {}, ctx.label(n))];
};

export const SHAPE_OPS: Readonly<Record<string, Lowering>> = {
  Reshape: reshape,
  Transpose: (ctx, n) => [
    ctx.g.add1('Transpose', [ctx.input(n, 'x')], { perm: n.attrs.perm as number[] }, ctx.label(n)),
  ],
  Slice: slice,
  Concat: (ctx, n) => [
    ctx.g.add1(
      'Concat',
      listInputs(ctx, n),
      { axis: axisOf(n, 'axis', n.outputs[0].shape.length) },
      ctx.label(n),
    ),
  ],
  Pack: pack,
  Unpack: unpack,
  SplitV: splitV,
  PadV2: padV2,
  Tile: (ctx, n) => [
    ctx.g.add1('Tile', [ctx.input(n, 'x'), ctx.g.intVector(dims(n.attrs.reps))], {}, ctx.label(n)),
  ],
  BroadcastTo: (ctx, n) => [
    ctx.g.add1(
      'Expand',
      [ctx.input(n, 'x'), ctx.g.intVector(n.outputs[0].shape)],
      {},
      ctx.label(n),
    ),
  ],
  ExpandDims: (ctx, n) => [
    ctx.g.add1(
      'Unsqueeze',
      [ctx.input(n, 'input'), ctx.g.int64s([axisOf(n, 'dim', n.outputs[0].shape.length)])],
      {},
      ctx.label(n),
    ),
  ],
  Squeeze: (ctx, n) => {
    const rank = n.inputInfo.x.shape.length;
    const raw = n.attrs.axis as number[] | undefined;
    const axes = raw && raw.length ? raw.map((a) => (a < 0 ? a + rank : a)) : undefined;
    const inputs = [ctx.input(n, 'x')];
    if (axes) inputs.push(ctx.g.int64s(axes));
    else {
      const ones = n.inputInfo.x.shape.flatMap((d, i) => (!isSym(d) && d === 1 ? [i] : []));
      inputs.push(ctx.g.int64s(ones));
    }
    return [ctx.g.add1('Squeeze', inputs, {}, ctx.label(n))];
  },
  GatherV2: gather,
  GatherNd: gatherNd,
  Range: range,
  Fill: fill,
};
