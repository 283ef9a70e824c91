/**
 * Dry-run execution for the complexity counter.
 *
 * The model's real forward runs op by op — every traced wrapper in lib/ops is called with the
 * real shapes and records exactly what it records in a normal run — but on a "shape-only"
 * backend whose kernels return a tensor of the right shape and dtype without computing it.
 *
 * Why: counting MACs needs shapes only, while computing e.g. OffSeg-L at 1024×2048 takes minutes
 * and more memory than the WASM heap holds (the attention-downsample logits alone are
 * 8×2048×8192 floats). complexity.test.ts checks that a dry run records the same ops, and
 * returns the same output shape, as a computed one.
 *
 * The backend (`offseg-dry-run`) is tfjs's CPU backend with the kernels below replaced. Their
 * outputs are fresh zero-filled typed arrays, which the OS maps lazily, so untouched outputs
 * cost no memory. Kernels without a stand-in (cheap ones: Reshape, Fill, Range, StridedSlice…)
 * run for real on those zeros. Tensors made on the previous backend (the model's weights) move
 * only if a real kernel reads them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, broadcast_util, slice_util, util } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

export const DRY_RUN_BACKEND = 'offseg-dry-run';

type Info = tf.TensorInfo;
type Shape4 = [number, number, number, number];
type Attrs = Record<string, unknown>;

function typedArray(dtype: tf.DataType, n: number): backend_util.TypedArray {
  if (dtype === 'int32') return new Int32Array(n);
  if (dtype === 'bool') return new Uint8Array(n);
  return new Float32Array(n);
}

/** A zero tensor owned by the dry-run backend, no computation involved. */
function out(backend: unknown, shape: number[], dtype: tf.DataType = 'float32'): Info {
  return (backend as MathBackendCPU).makeTensorInfo(
    shape,
    dtype,
    typedArray(dtype, util.sizeFromShape(shape)),
  );
}

/** A stand-in kernel from a shape rule over (inputs, attrs). */
function rule(f: (inputs: Record<string, Info>, attrs: Attrs, list: Info[]) => Info | Info[]) {
  return (({ inputs, attrs, backend }) => {
    const list = Object.values(inputs as Record<string, Info>);
    const r = f(inputs as Record<string, Info>, (attrs ?? {}) as Attrs, list);
    const outs = Array.isArray(r) ? r : [r];
    const made = outs.map((o) => out(backend, [...o.shape], o.dtype));
    return Array.isArray(r) ? made : made[0];
  }) as tf.KernelFunc;
}

/** Shape/dtype description used by the rules (`dataId` is never read). */
const like = (shape: number[], dtype: tf.DataType = 'float32'): Info =>
  ({ shape, dtype, dataId: {} }) as Info;

const same = rule((_, __, [x]) => like([...x.shape], x.dtype));
const broadcast = (dtype?: tf.DataType) =>
  rule((_, __, list) =>
    like(
      list
        .map((t) => [...t.shape])
        .reduce((a, b) => broadcast_util.assertAndGetBroadcastShape(a, b)),
      dtype ?? list.map((t) => t.dtype).reduce((a, b) => backend_util.upcastType(a, b)),
    ),
  );

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const conv = (depthwise: boolean) =>
  rule(({ x, filter }, attrs) => {
    const a = attrs as unknown as ConvAttrs;
    const info = backend_util.computeConv2DInfo(
      x.shape as Shape4,
      filter.shape as Shape4,
      a.strides,
      a.dilations,
      a.pad,
      a.dimRoundingMode,
      depthwise,
      backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'),
    );
    return like(info.outShape);
  });

const matMul = rule(({ a, b }, attrs) => {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = attrs.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = attrs.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batch = broadcast_util.assertAndGetBroadcastShape(
    a.shape.slice(0, -2),
    b.shape.slice(0, -2),
  );
  return like([...batch, m, n]);
});

const reduce = (dtype?: tf.DataType) =>
  rule(({ x }, attrs) => {
    const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const [outShape] = backend_util.computeOutAndReduceShapes([...x.shape], axes);
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return like(shape, dtype ?? x.dtype);
  });

const resize = rule(({ images }, attrs) => {
  const [b, , , c] = images.shape;
  const [h, w] = attrs.size as [number, number];
  return like([b, h, w, c], images.dtype);
});

const COMPARE = ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual'];
const ARITH = ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'Pow'];
const UNARY = [
  'Abs',
  'Ceil',
  'ClipByValue',
  'Elu',
  'Erf',
  'Exp',
  'Floor',
  'LeakyRelu',
  'Log',
  'Neg',
  'OnesLike',
  'Reciprocal',
  'Relu',
  'Relu6',
  'Round',
  'Rsqrt',
  'Sigmoid',
  'Sign',
  'Sqrt',
  'Square',
  'Step',
  'Tanh',
  'ZerosLike',
  'Softmax',
  'LogSoftmax',
];

const STAND_INS: Record<string, tf.KernelFunc> = {
  Conv2D: conv(false),
  FusedConv2D: conv(false),
  DepthwiseConv2dNative: conv(true),
  FusedDepthwiseConv2D: conv(true),
  BatchMatMul: matMul,
  _FusedMatMul: matMul,
  SquaredDifference: broadcast(),
  Select: rule(({ t, e, condition }) =>
    like(
      broadcast_util.assertAndGetBroadcastShape(
        broadcast_util.assertAndGetBroadcastShape([...t.shape], [...e.shape]),
        [...condition.shape],
      ),
      t.dtype,
    ),
  ),
  Cast: rule(({ x }, attrs) => like([...x.shape], attrs.dtype as tf.DataType)),
  AddN: rule((_, __, list) => like([...list[0].shape], list[0].dtype)),
  Transpose: rule(({ x }, attrs) =>
    like(
      (attrs.perm as number[]).map((p) => x.shape[p]),
      x.dtype,
    ),
  ),
  Mean: reduce('float32'),
  Sum: reduce(),
  Max: reduce(),
  Min: reduce(),
  Prod: reduce(),
  ResizeBilinear: resize,
  ResizeNearestNeighbor: resize,
  Slice: rule(({ x }, attrs) => {
    const [, size] = slice_util.parseSliceParams(
      x,
      attrs.begin as number[],
      attrs.size as number[],
    );
    return like(size, x.dtype);
  }),
  PadV2: rule(({ x }, attrs) =>
    like(
      (attrs.paddings as [number, number][]).map(([a, b], i) => a + x.shape[i] + b),
      x.dtype,
    ),
  ),
  Concat: rule((_, attrs, list) => {
    const shapes = list.map((t) => [...t.shape]).filter((s) => util.sizeFromShape(s) > 0);
    const axis = util.parseAxisParam(attrs.axis as number, list[0].shape)[0];
    return like(backend_util.computeOutShape(shapes, axis), list[0].dtype);
  }),
  Pack: rule((_, attrs, list) => {
    const shape = [...list[0].shape];
    const axis = attrs.axis as number;
    shape.splice(axis < 0 ? axis + shape.length + 1 : axis, 0, list.length);
    return like(shape, list[0].dtype);
  }),
  Unpack: rule(({ value }, attrs) => {
    const axis = util.parseAxisParam(attrs.axis as number, value.shape)[0];
    const shape = value.shape.filter((_, i) => i !== axis);
    return Array.from({ length: value.shape[axis] }, () => like(shape, value.dtype));
  }),
  SplitV: rule(({ x }, attrs) => {
    const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x, attrs.numOrSizeSplits as number[], axis);
    return sizes.map((s) =>
      like(
        x.shape.map((d, i) => (i === axis ? s : d)),
        x.dtype,
      ),
    );
  }),
  GatherV2: rule(({ x, indices }, attrs) => {
    const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const info = backend_util.segment_util.collectGatherOpShapeInfo(
      x as tf.Tensor,
      indices as tf.Tensor,
      axis,
      (attrs.batchDims as number) ?? 0,
    );
    return like(info.outputShape, x.dtype);
  }),
  GatherNd: rule(({ params, indices }) => {
    const [resultShape] = backend_util.prepareAndValidate(params, indices);
    return like(resultShape, params.dtype);
  }),
  MaxPool: rule(({ x }, attrs) => {
    const info = backend_util.computePool2DInfo(
      x.shape as Shape4,
      attrs.filterSize as number,
      attrs.strides as number,
      1,
      attrs.pad as 'valid',
      attrs.dimRoundingMode as 'floor' | undefined,
    );
    return like(info.outShape, x.dtype);
  }),
  DepthToSpace: rule(({ x }, attrs) => {
    const s = attrs.blockSize as number;
    const [b, h, w, c] = x.shape;
    return like([b, h * s, w * s, c / (s * s)], x.dtype);
  }),
  Tile: rule(({ x }, attrs) =>
    like(
      x.shape.map((d, i) => d * (attrs.reps as number[])[i]),
      x.dtype,
    ),
  ),
};
for (const k of ARITH) STAND_INS[k] = broadcast();
for (const k of COMPARE) STAND_INS[k] = broadcast('bool');
for (const k of UNARY) STAND_INS[k] = same;

let registered = false;

function register(): void {
  if (registered) return;
  tf.registerBackend(
    DRY_RUN_BACKEND,
    () => {
      const b = new MathBackendCPU();
      (b as unknown as { firstUse: boolean }).firstUse = false; // no "install tfjs-node" banner
      return b;
    },
    -1, // never chosen automatically
  );
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (!(k.kernelName in STAND_INS)) tf.registerKernel({ ...k, backendName: DRY_RUN_BACKEND });
  }
  for (const [kernelName, kernelFunc] of Object.entries(STAND_INS)) {
    tf.registerKernel({ kernelName, backendName: DRY_RUN_BACKEND, kernelFunc });
  }
  registered = true;
}

/**
 * Run `fn` on the shape-only backend, then switch back to the previous backend. Tensors `fn`
 * returns live on the dry-run backend and hold zeros.
 */
export async function withDryRun<T>(fn: () => T): Promise<T> {
  register();
  const prev = tf.getBackend();
  await tf.setBackend(DRY_RUN_BACKEND);
  try {
    return fn();
  } finally {
    await tf.setBackend(prev);
  }
}
