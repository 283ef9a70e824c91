/**
 * PyTorch `.pth` checkpoints ↔ our modules: read an official mmseg/mmengine checkpoint and load
 * its `state_dict` into a `Module` (keys are the official names, so they map one to one), or
 * export a module's weights as a `.pth` PyTorch loads with `model.load_state_dict`.
 *
 * The file format lives in pth.ts / pth_writer.ts (over zip.ts, pickle.ts, pickle_writer.ts);
 * this file owns the types and the key/shape/layout mapping. Weight layouts are converted with
 * each module entry's `layout` (torch (O,I,kH,kW) conv ↔ our (kH,kW,I,O) etc., see
 * lib/models/core/module.ts).
 */
import { CheckpointError } from './errors.ts';
import * as tf from '@tensorflow/tfjs-core';
import {
  oursToTorch,
  torchShape,
  torchToOurs,
  type Module,
  type NamedEntry,
} from '../models/core/module.ts';
import { saveTorchCheckpoint } from './pth_writer.ts';
import type { PlainValue } from './pickle_writer.ts';

export { readTorchCheckpoint, parseTorchCheckpoint } from './pth.ts';
export { saveTorchCheckpoint, encodeTorchCheckpoint } from './pth_writer.ts';
export type { PlainValue } from './pickle_writer.ts';

/** One tensor from a checkpoint, in PyTorch layout and C order. */
export interface TorchTensor {
  dtype: 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
  shape: number[];
  /** float tensors as Float32Array; integer tensors as Int32Array (int64 narrowed, checked). */
  data: Float32Array | Int32Array;
}

export interface TorchCheckpoint {
  /** The `state_dict` (or the top-level dict if the file holds a bare state_dict), in file order. */
  stateDict: Map<string, TorchTensor>;
  /** Top-level keys of the file other than state_dict (e.g. meta, optimizer, message_hub). */
  otherKeys: string[];
  /** The file it came from (for messages). */
  source?: string;
  /** A JSON-like copy of the top-level `meta` dict, if any (foreign objects as '<class>'). */
  meta?: Record<string, PlainValue>;
}

export interface LoadReport {
  /** Our keys that received a checkpoint tensor. */
  loaded: string[];
  /** Our keys the checkpoint lacks. */
  missing: string[];
  /** Checkpoint keys (after prefix mapping) with no home in the model, not covered by
   * `allowUnexpected`. */
  unexpected: string[];
  /** Checkpoint keys with no home that `allowUnexpected` covers (known leftovers). */
  ignored: string[];
}

export interface LoadOptions {
  /** Strip this prefix from checkpoint keys first (e.g. 'backbone.'), keeping only keys with it. */
  stripPrefix?: string;
  /** Add this prefix to checkpoint keys (e.g. 'decode_head.freqfusions.0.' for a single module). */
  addPrefix?: string;
  /** Checkpoint keys that may be present without a home (regexes). Defaults: KNOWN_UNUSED. */
  allowUnexpected?: readonly RegExp[];
  /** Throw if anything is missing or unexpected beyond the allowed list (default true). */
  strict?: boolean;
}

/**
 * Buffers official checkpoints carry that a model of ours may legitimately not keep (see
 * /work/shared/fixtures/parity/README.md, "Buffers are stored whenever…"). They only matter when
 * our model lacks the key; if it has it, the tensor is loaded like any other.
 */
export const KNOWN_UNUSED: readonly RegExp[] = [
  /(^|\.)attention_biases$/, // EfficientFormerV2 ImageNet leftovers; `_seg` tables are used
  /(^|\.)attention_bias_idxs$/, // the constant leftover index table (not `_seg`)
  /(^|\.)num_batches_tracked$/, // BN counter, unused with momentum set
  /(^|\.)hamming_(lowpass|highpass)$/, // FreqFusion's constant [1.0] windows
];

/** A checkpoint tensor as a tf tensor in torch layout (floats → float32, ints → int32). */
export function torchTensorToTf(t: TorchTensor): tf.Tensor {
  switch (t.dtype) {
    case 'float32':
    case 'float64':
    case 'float16':
      return tf.tensor(t.data, t.shape, 'float32');
    case 'bool':
      return tf.tensor(Uint8Array.from(t.data), t.shape, 'bool');
    default:
      return tf.tensor(t.data, t.shape, 'int32');
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function listKeys(keys: string[], max = 20): string {
  const head = keys.slice(0, max).join(', ');
  return keys.length > max ? `${head}, … (${keys.length - max} more)` : head;
}

/**
 * Load a checkpoint's tensors into `model`'s parameters and persistent buffers. Everything is
 * checked before the first assignment (shapes, then strictness), so a failed load leaves the
 * model untouched. int64 buffers arrive as int32 (range-checked by the reader).
 */
export function loadStateDict(
  model: Module,
  ckpt: TorchCheckpoint,
  opts: LoadOptions = {},
): LoadReport {
  const strict = opts.strict ?? true;
  const allowed = opts.allowUnexpected ?? KNOWN_UNUSED;
  const src = ckpt.source ?? 'checkpoint';
  const ours = new Map<string, NamedEntry>(model.stateEntries().map((e) => [e.key, e]));
  const plan: [NamedEntry, TorchTensor][] = [];
  const unexpected: string[] = [];
  const ignored: string[] = [];
  const mismatches: string[] = [];
  for (const [rawKey, t] of ckpt.stateDict) {
    let key = rawKey;
    if (opts.stripPrefix) {
      if (!key.startsWith(opts.stripPrefix)) continue;
      key = key.slice(opts.stripPrefix.length);
    }
    if (opts.addPrefix) key = opts.addPrefix + key;
    const e = ours.get(key);
    if (!e) {
      (allowed.some((r) => r.test(key)) ? ignored : unexpected).push(key);
      continue;
    }
    const want = torchShape(e.variable.shape, e.layout);
    if (sameShape(want, t.shape)) plan.push([e, t]);
    else mismatches.push(`'${key}': checkpoint [${t.shape}] vs model [${want}]`);
  }
  if (mismatches.length)
    throw new CheckpointError(
      `${src}: shape mismatch for ${mismatches.length} key(s) (torch layout): ${listKeys(mismatches, 10)}`,
    );
  const loadedKeys = new Set(plan.map(([e]) => e.key));
  const missing = [...ours.keys()].filter((k) => !loadedKeys.has(k));
  if (strict && (missing.length || unexpected.length)) {
    const parts: string[] = [];
    if (missing.length) parts.push(`${missing.length} missing (${listKeys(missing)})`);
    if (unexpected.length) parts.push(`${unexpected.length} unexpected (${listKeys(unexpected)})`);
    throw new CheckpointError(
      `${src} does not fit the model: ${parts.join('; ')}. Use stripPrefix/addPrefix to map keys, or strict: false to load what fits`,
    );
  }
  for (const [e, t] of plan) {
    const v = tf.tidy(() => {
      const x = torchToOurs(torchTensorToTf(t), e.layout);
      return x.dtype === e.variable.dtype ? x : tf.cast(x, e.variable.dtype);
    });
    e.variable.assign(v);
    v.dispose();
  }
  return { loaded: plan.map(([e]) => e.key), missing, unexpected, ignored };
}

/** One line for logs: "loaded 819 tensors; 0 missing; 0 unexpected; 4 ignored (known unused)". */
export function summarizeLoadReport(r: LoadReport): string {
  const eg = (keys: string[]) => (keys.length ? ` (${listKeys(keys, 3)})` : '');
  return (
    `loaded ${r.loaded.length} tensors; ${r.missing.length} missing${eg(r.missing)}; ` +
    `${r.unexpected.length} unexpected${eg(r.unexpected)}; ${r.ignored.length} ignored (known unused)`
  );
}

/**
 * The model's official state_dict in torch layout. int32 buffers are declared int64 as in
 * PyTorch (num_batches_tracked, index tables), so `load_state_dict` sees the dtypes it expects.
 */
export function torchStateDict(model: Module): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  for (const e of model.stateEntries()) {
    const t = oursToTorch(e.variable, e.layout);
    const shape = [...t.shape];
    if (e.variable.dtype === 'float32')
      out.set(e.key, { dtype: 'float32', shape, data: t.dataSync() as Float32Array });
    else {
      const data = Int32Array.from(t.dataSync());
      out.set(e.key, { dtype: e.variable.dtype === 'bool' ? 'bool' : 'int64', shape, data });
    }
    t.dispose();
  }
  return out;
}

/** Save the model's weights as a `.pth` PyTorch and mmseg load (`{'meta', 'state_dict'}`). */
export function exportPth(
  model: Module,
  path: string,
  meta: Record<string, PlainValue> = {},
): void {
  saveTorchCheckpoint(path, torchStateDict(model), meta);
}
