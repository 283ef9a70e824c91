/**
 * Writing `.pth` checkpoints PyTorch reads with `torch.load` (and our pth.ts reads back): the
 * same archive layout `torch.save` produces (see pth.ts), STORED entries, storages aligned to 64
 * bytes, a protocol-2 pickle of `{'meta': {...}, 'state_dict': OrderedDict(key → tensor)}` that
 * names only globals `weights_only=True` allows.
 */
import { basename } from 'node:path';
import { writeAtomic } from './atomic_write.ts';
import { encodeStoredZip, type ZipInput } from './zip.ts';
import { PickleWriter, type PlainValue } from './pickle_writer.ts';
import type { TorchTensor } from './torch_types.ts';

type Dtype = TorchTensor['dtype'];

const STORAGE_OF: Record<Dtype, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

/** float → half, round to nearest even (for saving float16 tensors). */
function floatToHalf(f: number): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, f);
  const x = b.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const e = (x >>> 23) & 0xff;
  const m = x & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const he = e - 127 + 15;
  if (he >= 31) return sign | 0x7c00;
  if (he <= 0) {
    if (he < -10) return sign;
    const mm = m | 0x800000;
    const shift = 14 - he;
    let h = mm >>> shift;
    const rem = mm & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = sign | (he << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return h;
}

/** Little-endian storage bytes of a tensor in its declared dtype. */
function encode(t: TorchTensor, key: string): Uint8Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n)
    throw new Error(
      `saveTorchCheckpoint: '${key}' has ${t.data.length} values for shape [${t.shape}]`,
    );
  const d = t.data;
  switch (t.dtype) {
    case 'float32':
      return d instanceof Float32Array
        ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) // no copy
        : new Uint8Array(Float32Array.from(d).buffer);
    case 'float64':
      return new Uint8Array(Float64Array.from(d).buffer);
    case 'float16':
      return new Uint8Array(Uint16Array.from(d, floatToHalf).buffer);
    case 'int32':
      return d instanceof Int32Array
        ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
        : new Uint8Array(Int32Array.from(d).buffer);
    case 'int64': {
      const w = new Int32Array(2 * n);
      for (let i = 0; i < n; i++) {
        w[2 * i] = d[i];
        w[2 * i + 1] = d[i] < 0 ? -1 : 0; // sign extension
      }
      return new Uint8Array(w.buffer);
    }
    case 'uint8':
    case 'bool':
      return Uint8Array.from(d);
  }
}

/**
 * Write `{'meta': meta, 'state_dict': OrderedDict(key → tensor)}` as `torch.save` would (zip,
 * protocol-2 pickle, stored entries, 64-byte aligned storages), atomically: a temporary file in
 * the same folder, fsync, then rename, so an interrupted save never leaves a broken `.pth`.
 * PyTorch reads it back with `torch.load(path)` (also `weights_only=True`).
 */
export function saveTorchCheckpoint(
  path: string,
  entries: Map<string, TorchTensor> | Iterable<[string, TorchTensor]>,
  meta: Record<string, PlainValue> = {},
): void {
  writeAtomic(path, encodeTorchCheckpoint(entries, meta, basename(path).replace(/\.[^.]*$/, '')));
}

/** The bytes of a torch.save-compatible checkpoint, as chunks (see `saveTorchCheckpoint`). */
export function encodeTorchCheckpoint(
  entries: Map<string, TorchTensor> | Iterable<[string, TorchTensor]>,
  meta: Record<string, PlainValue> = {},
  folderName = 'archive',
): Uint8Array[] {
  return encodeTorchArchive({ plain: { meta }, weights: { state_dict: entries } }, folderName);
}

/** What a `.pth` holds at its top level (see `encodeTorchArchive`). */
export interface TorchArchive {
  /** Plain values by top-level key, written first (e.g. `{ meta: {...} }`). */
  plain?: Record<string, PlainValue>;
  /** Dicts of tensors by top-level key, in order (e.g. `{ model: sd, state_dict_ema: ema }`). */
  weights?: Record<string, Map<string, TorchTensor> | Iterable<[string, TorchTensor]>>;
  /** Instead of a dict: the tensors as the top-level object (`torch.save(model.state_dict())`). */
  bare?: Map<string, TorchTensor> | Iterable<[string, TorchTensor]>;
}

/**
 * The bytes of any top-level layout PyTorch training code saves: mmengine's
 * `{'meta', 'state_dict'}`, timm/DeiT's `{'model', 'state_dict_ema', …}` or a bare state_dict.
 * Tensor dicts are `OrderedDict`s as `nn.Module.state_dict()` returns them.
 */
export function encodeTorchArchive(archive: TorchArchive, folderName = 'archive'): Uint8Array[] {
  const folder = folderName.replace(/[^A-Za-z0-9_.-]/g, '_') || 'archive';
  const w = new PickleWriter().proto2();
  const storages: ZipInput[] = [];
  const tensorDict = (entries: Iterable<[string, TorchTensor]>) => {
    w.global('collections', 'OrderedDict').op(0x29).op(0x52); // OrderedDict()
    const items = [...entries];
    if (items.length) w.mark();
    for (const [key, t] of items) {
      const i = storages.length;
      const bytes = encode(t, key);
      // C-order strides of a contiguous tensor.
      const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      storages.push({ name: `${folder}/data/${i}`, data: bytes });
      w.str(key).global('torch._utils', '_rebuild_tensor_v2').mark();
      w.mark().str('storage').global('torch', STORAGE_OF[t.dtype]).str(String(i)).str('cpu');
      w.int(t.data.length).op(0x74).op(0x51); // numel, TUPLE, BINPERSID
      w.int(0).tuple(t.shape).tuple(stride).op(0x89); // offset, size, stride, requires_grad=False
      w.global('collections', 'OrderedDict').op(0x29).op(0x52); // backward_hooks = OrderedDict()
      w.op(0x74).op(0x52); // TUPLE REDUCE
    }
    if (items.length) w.op(0x75); // SETITEMS into the OrderedDict
  };
  if (archive.bare) {
    tensorDict(archive.bare);
  } else {
    w.op(0x7d).mark(); // {  (top-level dict, filled by the final SETITEMS)
    for (const [k, v] of Object.entries(archive.plain ?? {})) w.str(k).value(v);
    for (const [k, entries] of Object.entries(archive.weights ?? {})) {
      w.str(k);
      tensorDict(entries);
    }
    w.op(0x75); // SETITEMS into the top-level dict
  }
  w.op(0x2e); // STOP
  const text = new TextEncoder();
  return encodeStoredZip([
    { name: `${folder}/data.pkl`, data: w.bytes() },
    { name: `${folder}/byteorder`, data: text.encode('little') },
    ...storages,
    { name: `${folder}/version`, data: text.encode('3\n') },
  ]);
}

/** `encodeTorchArchive` written atomically to `path` (see `saveTorchCheckpoint`). */
export function saveTorchArchive(path: string, archive: TorchArchive): void {
  writeAtomic(path, encodeTorchArchive(archive, basename(path).replace(/\.[^.]*$/, '')));
}
