/**
 * The tensors of a `.pth` file: torch storage classes, the lazy references the pickle hooks in
 * pth.ts build (`TensorRef` over a `StorageRef`), and their decoding into `TorchTensor`s
 * (offset and strides honoured, float16/float64 widened to float32, int64 narrowed to int32
 * with a range check), as `torch._utils._rebuild_tensor_v2` would lay them out.
 */
import { CheckpointError } from './errors.ts';
import type { HostValue, PyValue } from './pickle.ts';
import type { TorchTensor } from './torch_types.ts';

export type Dtype = TorchTensor['dtype'];

/** torch storage class name → element type and size in bytes. */
export const STORAGES: Record<string, [Dtype, number]> = {
  FloatStorage: ['float32', 4],
  DoubleStorage: ['float64', 8],
  HalfStorage: ['float16', 2],
  LongStorage: ['int64', 8],
  IntStorage: ['int32', 4],
  ByteStorage: ['uint8', 1],
  BoolStorage: ['bool', 1],
  UntypedStorage: ['uint8', 1], // torch ≥ 2.0 untyped bytes
};

export interface StorageRef extends HostValue {
  hostKind: 'storage';
  /** The torch class, e.g. 'torch.FloatStorage'. */
  type: string;
  /** undefined for storage types we cannot decode (an error only if the state_dict uses it). */
  dtype: Dtype | undefined;
  itemSize: number;
  key: string;
  numel: number;
}

export interface TensorRef extends HostValue {
  hostKind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

export function isTensorRef(v: PyValue | undefined): v is TensorRef {
  return typeof v === 'object' && v !== null && 'hostKind' in v && v.hostKind === 'tensor';
}

/** half → float, exactly (subnormals, inf, NaN included). */
function halfToFloat(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Contiguous little-endian bytes of `n` elements → our TorchTensor data (copied). */
function decode(
  dtype: Dtype,
  bytes: Uint8Array,
  n: number,
  what: string,
): Float32Array | Int32Array {
  const own = bytes.slice(); // fresh, aligned ArrayBuffer
  switch (dtype) {
    case 'float32':
      return new Float32Array(own.buffer, 0, n);
    case 'float64':
      return new Float32Array(new Float64Array(own.buffer, 0, n));
    case 'float16': {
      const h = new Uint16Array(own.buffer, 0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(h[i]);
      return out;
    }
    case 'int32':
      return new Int32Array(own.buffer, 0, n);
    case 'uint8':
    case 'bool':
      return new Int32Array(own.subarray(0, n));
    case 'int64': {
      // Narrow to int32: the high word must be the sign extension of the low word.
      const w = new Int32Array(own.buffer, 0, 2 * n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = w[2 * i];
        if (w[2 * i + 1] !== lo >> 31)
          throw new CheckpointError(
            `${what}: int64 value at flat index ${i} does not fit in int32`,
          );
        out[i] = lo;
      }
      return out;
    }
  }
}

/** Read a tensor's elements out of its storage bytes (honouring offset and strides). */
export function materialise(ref: TensorRef, storageBytes: Uint8Array, what: string): TorchTensor {
  const { storage, offset, shape, stride } = ref;
  const dtype = storage.dtype;
  if (!dtype)
    throw new CheckpointError(
      `${what} is a ${storage.type} tensor (supported: ${Object.keys(STORAGES).join(', ')})`,
    );
  const is = storage.itemSize;
  const n = shape.reduce((a, b) => a * b, 1);
  if (shape.length !== stride.length)
    throw new CheckpointError(`${what}: size and stride ranks differ`);
  let last = offset;
  for (let d = 0; d < shape.length; d++) if (shape[d] > 0) last += (shape[d] - 1) * stride[d];
  if (n > 0 && (offset < 0 || (last + 1) * is > storageBytes.length))
    throw new CheckpointError(`${what}: tensor reaches beyond its storage (${storage.key})`);
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  let bytes: Uint8Array;
  if (contiguous) {
    bytes = storageBytes.subarray(offset * is, (offset + n) * is);
  } else {
    // Rare (views saved as-is): gather element by element in C order.
    bytes = new Uint8Array(n * is);
    const idx = new Array<number>(shape.length).fill(0);
    let src = offset;
    for (let i = 0; i < n; i++) {
      bytes.set(storageBytes.subarray(src * is, (src + 1) * is), i * is);
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) {
          src += stride[d];
          break;
        }
        src -= (shape[d] - 1) * stride[d];
        idx[d] = 0;
      }
    }
  }
  return { dtype, shape: [...shape], data: decode(dtype, bytes, n, what) };
}
