/**
 * Heap-copy replacements for the stock WASM data-movement kernels (docs/backends.md):
 * Slice, Concat, Pack, SplitV, Unpack, PadV2, StridedSlice and DepthToSpace (NHWC). See ./heap.ts for why. Each
 * falls back to the stock kernel for dtypes not stored flat on the heap (string, complex).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { attr } from './common.ts';
import { byteOffset, copyBox, heapBytes, internals, strides, type WasmInternals } from './heap.ts';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function sliceInto(
  b: WasmInternals,
  x: TensorInfo,
  begin: number[],
  box: number[],
  outShape: number[],
): TensorInfo {
  const out = b.makeOutput(outShape, x.dtype);
  const bpe = heapBytes(x.dtype) as number;
  const heap = b.wasm.HEAPU8;
  copyBox(
    heap,
    bpe,
    { shape: x.shape, begin, offset: byteOffset(b, x) },
    { shape: box, begin: zeros(box.length), offset: byteOffset(b, out) },
    box,
  );
  return out;
}

function makeSlice(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (!heapBytes(x.dtype) || x.shape.length === 0) return stock(args);
    const [begin, box] = tf.slice_util.parseSliceParams(
      x,
      attr<number | number[]>(args.attrs, 'begin'),
      attr<number | number[] | undefined>(args.attrs, 'size'),
    );
    return sliceInto(internals(args.backend), x, begin, box, box);
  };
}

function makeConcat(stock: KernelFunc): KernelFunc {
  return (args) => {
    const list = Object.values(args.inputs) as TensorInfo[];
    const dtype = list[0]?.dtype;
    if (!dtype || !heapBytes(dtype) || list.some((t) => t.dtype !== dtype)) return stock(args);
    const axis = tf.util.parseAxisParam(attr<number>(args.attrs, 'axis'), list[0].shape)[0];
    const outShape = tf.backend_util.computeOutShape(
      list.map((t) => t.shape),
      axis,
    );
    const b = internals(args.backend);
    const out = b.makeOutput(outShape, dtype);
    const heap = b.wasm.HEAPU8;
    const bpe = heapBytes(dtype) as number;
    let at = 0;
    for (const t of list) {
      if (size(t.shape) > 0) {
        const begin = zeros(outShape.length);
        begin[axis] = at;
        copyBox(
          heap,
          bpe,
          { shape: t.shape, begin: zeros(t.shape.length), offset: byteOffset(b, t) },
          { shape: outShape, begin, offset: byteOffset(b, out) },
          t.shape,
        );
      }
      at += t.shape[axis];
    }
    return out;
  };
}

function fill(
  heap: Uint8Array,
  offset: number,
  n: number,
  dtype: tf.DataType,
  value: number,
): void {
  if (dtype === 'float32') new Float32Array(heap.buffer, offset, n).fill(value);
  else if (dtype === 'int32') new Int32Array(heap.buffer, offset, n).fill(value);
  else new Uint8Array(heap.buffer, offset, n).fill(value);
}

function makePad(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const bpe = heapBytes(x.dtype);
    if (!bpe || x.shape.length === 0) return stock(args);
    const pads = attr<[number, number][]>(args.attrs, 'paddings');
    const value = attr<number | undefined>(args.attrs, 'constantValue') ?? 0;
    const outShape = x.shape.map((n, i) => n + pads[i][0] + pads[i][1]);
    const b = internals(args.backend);
    const out = b.makeOutput(outShape, x.dtype);
    const heap = b.wasm.HEAPU8;
    const off = byteOffset(b, out);
    fill(heap, off, size(outShape), x.dtype, value);
    const begin = pads.map((p) => p[0]);
    copyBox(
      heap,
      bpe,
      { shape: x.shape, begin: zeros(x.shape.length), offset: byteOffset(b, x) },
      { shape: outShape, begin, offset: off },
      x.shape,
    );
    return out;
  };
}

/** out[i…] = x[begin + i·step …] over `box` (any steps, contiguous runs when the last is 1). */
function gatherStrided(
  b: WasmInternals,
  x: TensorInfo,
  begin: number[],
  step: number[],
  box: number[],
  outShape: number[],
): TensorInfo {
  const out = b.makeOutput(outShape, x.dtype);
  const n = size(box);
  if (n === 0) return out;
  const bpe = heapBytes(x.dtype) as number;
  const heap = b.wasm.HEAPU8;
  const xs = strides(x.shape);
  const r = box.length;
  const last = r - 1;
  const xo = byteOffset(b, x) / bpe;
  const oo = byteOffset(b, out) / bpe;
  const view = bpe === 4 ? new Int32Array(heap.buffer) : heap;
  const idx = zeros(r);
  let src = begin.reduce((acc, v, d) => acc + v * xs[d], 0);
  let dst = 0;
  const inner = box[last];
  const innerStep = step[last] * xs[last];
  for (;;) {
    if (innerStep === 1) {
      view.copyWithin(oo + dst, xo + src, xo + src + inner);
    } else {
      for (let k = 0, s = xo + src; k < inner; k++, s += innerStep) view[oo + dst + k] = view[s];
    }
    dst += inner;
    let d = last - 1;
    while (d >= 0) {
      idx[d]++;
      src += step[d] * xs[d];
      if (idx[d] < box[d]) break;
      src -= step[d] * xs[d] * box[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) return out;
  }
}

function makeStridedSlice(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (!heapBytes(x.dtype) || x.shape.length === 0) return stock(args);
    const a = <T>(n: string): T => attr<T>(args.attrs, n);
    const info = tf.slice_util.sliceInfo(
      x.shape,
      a<number[]>('begin'),
      a<number[]>('end'),
      a<number[]>('strides'),
      a<number>('beginMask'),
      a<number>('endMask'),
      a<number>('ellipsisMask'),
      a<number>('newAxisMask'),
      a<number>('shrinkAxisMask'),
    );
    if (info.isIdentity) return stock(args); // a reshape sharing the data
    const b = internals(args.backend);
    const box = tf.slice_util
      .computeOutShape(info.begin, info.end, info.strides)
      .map((v) => Math.max(0, v));
    if (info.sliceDim0 || info.isSimpleSlice) {
      return sliceInto(b, x, info.begin, box, info.finalShape);
    }
    return gatherStrided(b, x, info.begin, info.strides, box, info.finalShape);
  };
}

function makeDepthToSpace(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const bs = attr<number>(args.attrs, 'blockSize');
    const fmt = attr<string | undefined>(args.attrs, 'dataFormat') ?? 'NHWC';
    const bpe = heapBytes(x.dtype);
    if (!bpe || fmt !== 'NHWC' || x.shape.length !== 4) return stock(args);
    const [n, h, w, cbb] = x.shape;
    const c = cbb / (bs * bs);
    const b = internals(args.backend);
    const out = b.makeOutput([n, h * bs, w * bs, c], x.dtype);
    const heap = b.wasm.HEAPU8;
    // out[n, h·bs + i, w·bs + j, c] = x[n, h, w, (i·bs + j)·C + c]  (TF's DCR order)
    const src = { shape: [n, h, 1, w, 1, cbb], offset: byteOffset(b, x) };
    const dst = { shape: [n, h, bs, w, bs, c], offset: byteOffset(b, out) };
    for (let i = 0; i < bs; i++) {
      for (let j = 0; j < bs; j++) {
        copyBox(
          heap,
          bpe,
          { ...src, begin: [0, 0, 0, 0, 0, (i * bs + j) * c] },
          { ...dst, begin: [0, 0, i, 0, j, 0] },
          [n, h, 1, w, 1, c],
        );
      }
    }
    return out;
  };
}

function makePack(stock: KernelFunc): KernelFunc {
  return (args) => {
    const list = Object.values(args.inputs) as TensorInfo[];
    const dtype = list[0]?.dtype;
    if (!dtype || !heapBytes(dtype) || list.some((t) => t.dtype !== dtype)) return stock(args);
    const axis = attr<number>(args.attrs, 'axis');
    const shape = list[0].shape;
    const ax = axis < 0 ? axis + shape.length + 1 : axis;
    const one = [...shape.slice(0, ax), 1, ...shape.slice(ax)]; // each input with the new axis
    const outShape = [...shape.slice(0, ax), list.length, ...shape.slice(ax)];
    const b = internals(args.backend);
    const out = b.makeOutput(outShape, dtype);
    const heap = b.wasm.HEAPU8;
    const bpe = heapBytes(dtype) as number;
    list.forEach((t, i) => {
      const begin = zeros(outShape.length);
      begin[ax] = i;
      copyBox(
        heap,
        bpe,
        { shape: one, begin: zeros(one.length), offset: byteOffset(b, t) },
        { shape: outShape, begin, offset: byteOffset(b, out) },
        one,
      );
    });
    return out;
  };
}

function makeSplitV(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (!heapBytes(x.dtype) || x.shape.length === 0) return stock(args);
    const axis = tf.util.parseAxisParam(attr<number>(args.attrs, 'axis'), x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as tf.Tensor,
      attr<number | number[]>(args.attrs, 'numOrSizeSplits'),
      axis,
    );
    const b = internals(args.backend);
    let at = 0;
    return sizes.map((n) => {
      const begin = zeros(x.shape.length);
      begin[axis] = at;
      at += n;
      const box = [...x.shape];
      box[axis] = n;
      return sliceInto(b, x, begin, box, box);
    });
  };
}

function makeUnpack(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.value as TensorInfo;
    if (!x || !heapBytes(x.dtype) || x.shape.length === 0) return stock(args);
    const axis = tf.util.parseAxisParam(attr<number>(args.attrs, 'axis'), x.shape)[0];
    const b = internals(args.backend);
    const box = [...x.shape];
    box[axis] = 1;
    const outShape = x.shape.filter((_, i) => i !== axis);
    return Array.from({ length: x.shape[axis] }, (_, i) => {
      const begin = zeros(x.shape.length);
      begin[axis] = i;
      return sliceInto(b, x, begin, box, outShape);
    });
  };
}

const MAKERS: Record<string, (stock: KernelFunc) => KernelFunc> = {
  Slice: makeSlice,
  Concat: makeConcat,
  Pack: makePack,
  SplitV: makeSplitV,
  Unpack: makeUnpack,
  PadV2: makePad,
  StridedSlice: makeStridedSlice,
  DepthToSpace: makeDepthToSpace,
};

/** Replacement configs for the stock kernels given (keeps their setup/dispose hooks). */
export function dataMovementKernels(
  getStock: (name: string) => KernelConfig | undefined,
): KernelConfig[] {
  const out: KernelConfig[] = [];
  for (const [name, make] of Object.entries(MAKERS)) {
    const stock = getStock(name);
    if (stock) out.push({ ...stock, kernelFunc: make(stock.kernelFunc) });
  }
  return out;
}
