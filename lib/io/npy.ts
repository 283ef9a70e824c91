/**
 * NumPy `.npy` (format 1.0/2.0) reading and writing: float32, float64, uint8, int32, int64, C order.
 * The tool researchers use to exchange arrays with any other implementation.
 */
import { CheckpointError } from './errors.ts';
import { readFileSync } from 'node:fs';
import { writeAtomic } from './atomic_write.ts';

export type NpyDtype = '<f4' | '<f8' | '|u1' | '<i4' | '<i8' | '|b1';
export type NpyData = Float32Array | Float64Array | Uint8Array | Int32Array | BigInt64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = '\x93NUMPY';

export function parseNpy(buf: Uint8Array, source = '<buffer>'): NpyArray {
  const magic = String.fromCharCode(...buf.subarray(0, 6));
  if (magic !== MAGIC) throw new CheckpointError(`${source} is not a .npy file (bad magic)`);
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(buf.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeStr === undefined)
    throw new CheckpointError(`${source}: unreadable .npy header: ${header}`);
  if (fortran === 'True')
    throw new CheckpointError(
      `${source}: Fortran-order arrays are not supported; save with np.ascontiguousarray`,
    );
  const shape = shapeStr
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + headerLen;
  const bytes = buf.slice(off); // copy → aligned ArrayBuffer
  const ab = bytes.buffer;
  let data: NpyData;
  switch (descr) {
    case '<f4':
      data = new Float32Array(ab, 0, n);
      break;
    case '<f8':
      data = new Float64Array(ab, 0, n);
      break;
    case '|u1':
    case '|b1':
      data = new Uint8Array(ab, 0, n);
      break;
    case '<i4':
      data = new Int32Array(ab, 0, n);
      break;
    case '<i8':
      data = new BigInt64Array(ab, 0, n);
      break;
    default:
      throw new CheckpointError(
        `${source}: unsupported dtype ${descr} (supported: <f4 <f8 |u1 <i4 <i8)`,
      );
  }
  return { dtype: descr as NpyDtype, shape, data };
}

export function readNpy(path: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(
      `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseNpy(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

export function encodeNpy(arr: NpyArray): Uint8Array {
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${arr.dtype}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + arr.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(
    new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength),
    10 + header.length,
  );
  return out;
}

/** Write atomically (temporary file, then rename): a failed write never leaves a half file. */
export function writeNpy(path: string, arr: NpyArray): void {
  writeAtomic(path, encodeNpy(arr));
}
