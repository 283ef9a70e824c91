/**
 * Reading PyTorch `.pth` files (the zip format `torch.save` writes since 1.6): the weights (under
 * `state_dict`, `model` or `state_dict_ema`, or a bare dict of tensors; see `findWeights`), the
 * names of the other top-level entries and a plain copy of `meta`. Writing: pth_writer.ts.
 *
 * Layout of the archive: `<folder>/data.pkl` (the pickled object), `<folder>/data/<key>` (one raw
 * little-endian storage per key), `<folder>/version`, `<folder>/byteorder`. The folder name
 * differs between files, so `data.pkl` is found by suffix. Tensors in the pickle are
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` calls whose storage is a
 * persistent id `('storage', torch.FloatStorage, key, location, numel)`; the pickle reader hands
 * both to the hooks below, which build lazy `TensorRef`s. Only tensors of the state_dict are
 * materialised, so optimizer moments in a training checkpoint cost nothing.
 */
import { CheckpointError } from './errors.ts';
import { readFileSync, statSync } from 'node:fs';
import { isZip, readZipEntries, zipEntryData } from './zip.ts';
import { PyDict, PyGlobal, PyObject, PyTuple, PySet, unpickle, type PyValue } from './pickle.ts';
import type { PlainValue } from './pickle_writer.ts';
import type { TorchCheckpoint, TorchTensor } from './torch_types.ts';
import {
  STORAGES,
  isTensorRef,
  materialise,
  type StorageRef,
  type TensorRef,
} from './pth_tensor.ts';

/** Top-level keys that hold the weights, in the order they are looked for. */
export const WEIGHTS_KEYS = ['state_dict', 'model', 'state_dict_ema'] as const;

const LEGACY_MAGIC = [
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
];

function intList(v: PyValue, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items || !items.every((x) => typeof x === 'number'))
    throw new CheckpointError(`${what}: expected a tuple of ints`);
  return items as number[];
}

/** Hooks that turn the torch-specific parts of the pickle into plain values (never executing). */
function torchHooks(source: string) {
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: PyValue): PyValue => {
    const t = pid instanceof PyTuple ? pid.items : [];
    const [tag, type, key, , numel] = t;
    if (
      tag !== 'storage' ||
      !(type instanceof PyGlobal) ||
      typeof key !== 'string' ||
      typeof numel !== 'number'
    )
      throw new CheckpointError(`${source}: unsupported persistent id in data.pkl`);
    const known = type.module.startsWith('torch') ? STORAGES[type.name] : undefined;
    let s = storages.get(key);
    if (!s) {
      const [dtype, itemSize] = known ?? [undefined, 1];
      s = { hostKind: 'storage', type: type.qualname, dtype, itemSize, key, numel };
      storages.set(key, s);
    }
    return s;
  };
  const reduce = (fn: PyGlobal, args: PyValue[]): PyValue | undefined => {
    switch (fn.qualname) {
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = args;
        if (
          typeof storage !== 'object' ||
          storage === null ||
          !('hostKind' in storage) ||
          typeof offset !== 'number'
        )
          return undefined;
        const ref: TensorRef = {
          hostKind: 'tensor',
          storage: storage as StorageRef,
          offset,
          shape: intList(size, `${source}: tensor size`),
          stride: intList(stride, `${source}: tensor stride`),
        };
        return ref;
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return isTensorRef(args[0]) ? args[0] : undefined; // nn.Parameter(data): keep the data
      case 'torch._tensor._rebuild_from_type_v2': {
        // (func, subclass, func_args, state): rebuild the plain tensor, drop the subclass.
        const [inner, , innerArgs] = args;
        if (!(inner instanceof PyGlobal) || !(innerArgs instanceof PyTuple)) return undefined;
        return reduce(inner, innerArgs.items);
      }
      default:
        return undefined;
    }
  };
  return { persistentLoad, reduce };
}

/** What a non-tensor value is, for error messages. */
function describe(v: PyValue): string {
  if (v instanceof PyObject) return v.className;
  if (v instanceof PyGlobal) return `the global ${v.qualname}`;
  if (v instanceof PyDict) return v.cls === 'builtins.dict' ? 'a dict' : v.cls;
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof PyTuple) return 'a tuple';
  return `a ${typeof v}`;
}

/**
 * A JSON-friendly copy of a pickled value (placeholders become '<class>' strings). Memo sharing
 * can make a small pickle describe a huge tree, so depth and node count are capped.
 */
function toPlain(root: PyValue): PlainValue {
  let budget = 100_000;
  const go = (v: PyValue, depth: number): PlainValue => {
    if (depth > 32 || --budget < 0) return '<…>';
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string')
      return v;
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (v instanceof Uint8Array) return `<bytes ${v.length}>`;
    if (Array.isArray(v)) return v.map((x) => go(x, depth + 1));
    if (v instanceof PyTuple || v instanceof PySet) return v.items.map((x) => go(x, depth + 1));
    if (v instanceof PyDict) {
      const o: Record<string, PlainValue> = {};
      for (const [k, x] of v.map) {
        const name = typeof k === 'string' || typeof k === 'number' ? k : go(k, depth + 1);
        o[String(name)] = go(x, depth + 1);
      }
      return o;
    }
    if (isTensorRef(v)) return `<tensor ${v.storage.dtype ?? v.storage.type} [${v.shape}]>`;
    return `<${describe(v)}>`;
  };
  return go(root, 0);
}

/**
 * Where the weights sit, in the order checkpoint loaders look: `state_dict` (mmengine
 * `runner/checkpoint.py` `_load_checkpoint_to_model`), `model` (the official EfficientFormerV2 /
 * OffSeg backbone `init_weights`, timm and DeiT training checkpoints), `state_dict_ema` (timm's
 * EMA copy), else the top-level dict itself when it holds tensors (a bare
 * `torch.save(model.state_dict())`). A key whose value is not a dict (e.g. a pickled module) is
 * passed over; the first dict found is used even if it holds something other than tensors, so
 * the caller's per-key message names the culprit.
 */
function findWeights(top: PyDict, source: string): { dict: PyDict; key?: string } {
  for (const key of WEIGHTS_KEYS) {
    const v = top.get(key);
    if (v instanceof PyDict) return { dict: v, key };
  }
  if ([...top.map.values()].some(isTensorRef)) return { dict: top };
  const keys = [...top.map.keys()].map((k) => String(k));
  const held = WEIGHTS_KEYS.filter((k) => top.get(k) !== undefined).map(
    (k) => `; '${k}' holds ${describe(top.get(k) as PyValue)}`,
  );
  throw new CheckpointError(
    `${source} holds no weights: no dict of tensors under ${WEIGHTS_KEYS.map((k) => `'${k}'`).join(', ')} and the top level is not one (top-level keys: ${keys.slice(0, 20).join(', ') || 'none'}${held.join('')})`,
  );
}

/** Parse the bytes of a `.pth` file (see `readTorchCheckpoint` for the messages). */
export function parseTorchCheckpoint(buf: Uint8Array, source: string): TorchCheckpoint {
  if (buf.length === 0) throw new CheckpointError(`${source} is empty, not a PyTorch checkpoint`);
  const legacy =
    LEGACY_MAGIC.every((b, i) => buf[i] === b) ||
    (buf.length > 262 && String.fromCharCode(...buf.subarray(257, 262)) === 'ustar');
  if (legacy)
    throw new CheckpointError(
      `${source} is a legacy (non-zip) PyTorch checkpoint; re-save it with torch.save(obj, path) from PyTorch ≥ 1.6 (\`_use_new_zipfile_serialization=True\`)`,
    );
  if (!isZip(buf))
    throw new CheckpointError(
      `${source} is not a PyTorch checkpoint (expected a zip archive written by torch.save)`,
    );
  const entries = readZipEntries(buf, source);
  const pkl = entries
    .filter((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'))
    .sort((a, b) => a.name.length - b.name.length)[0];
  if (!pkl)
    throw new CheckpointError(
      `${source} is a zip archive but not a PyTorch checkpoint (no data.pkl)`,
    );
  const folder = pkl.name.slice(0, -'data.pkl'.length);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const order = byName.get(`${folder}byteorder`);
  if (order && new TextDecoder().decode(zipEntryData(buf, order, source)).trim() !== 'little')
    throw new CheckpointError(`${source}: big-endian checkpoints are not supported`);
  const torchscript = byName.has(`${folder}constants.pkl`);

  const top = unpickle(zipEntryData(buf, pkl, source), torchHooks(source), `${source}: data.pkl`);
  if (!(top instanceof PyDict))
    throw new CheckpointError(
      `${source} holds ${describe(top)}, not a dict${torchscript ? ' (a TorchScript archive)' : ''}; save the weights with torch.save(model.state_dict(), path)`,
    );
  const { dict: sd, key: weightsKey } = findWeights(top, source);
  const otherKeys = [...top.map.keys()]
    .filter((k) => weightsKey !== undefined && k !== weightsKey)
    .map((k) => String(k));
  const label = weightsKey ?? 'state_dict';

  const storageBytes = new Map<string, Uint8Array>();
  const stateDict = new Map<string, TorchTensor>();
  for (const [k, v] of sd.map) {
    if (typeof k !== 'string')
      throw new CheckpointError(`${source}: ${label} has a non-string key ${String(k)}`);
    if (!isTensorRef(v))
      throw new CheckpointError(
        `${source}: ${label} key '${k}' holds ${describe(v)}, not a tensor`,
      );
    let bytes = storageBytes.get(v.storage.key);
    if (!bytes) {
      const e = byName.get(`${folder}data/${v.storage.key}`);
      if (!e)
        throw new CheckpointError(`${source}: storage data/${v.storage.key} of '${k}' is missing`);
      bytes = zipEntryData(buf, e, source);
      storageBytes.set(v.storage.key, bytes);
    }
    stateDict.set(k, materialise(v, bytes, `${source}: ${label} key '${k}'`));
  }
  const metaValue = top.get('meta');
  return {
    stateDict,
    weightsKey,
    otherKeys,
    source,
    meta:
      metaValue instanceof PyDict ? (toPlain(metaValue) as Record<string, PlainValue>) : undefined,
  };
}

/** Read a `.pth` written by `torch.save` (zip format). Never executes anything from the file. */
export function readTorchCheckpoint(path: string): TorchCheckpoint {
  let buf: Buffer;
  try {
    if (statSync(path).isDirectory())
      throw new CheckpointError(`${path} is a directory, not a checkpoint file`);
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`Checkpoint file not found: ${path}`);
    if (code) throw new CheckpointError(`Cannot read checkpoint ${path}: ${code}`);
    throw e;
  }
  return parseTorchCheckpoint(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}
