/**
 * PyTorch `.pth` checkpoints ↔ our modules: read an official mmseg/mmengine checkpoint and load
 * its `state_dict` into a `Module` (keys are the official names, so they map one to one), or
 * export a module's weights as a `.pth` PyTorch loads with `model.load_state_dict`.
 *
 * The file format lives in pth.ts / pth_writer.ts (over zip.ts, pickle.ts, pickle_writer.ts),
 * the records they exchange in torch_types.ts; this file owns the key/shape/layout mapping. Weight layouts are converted with
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
import {
  compileRevisions,
  DEFAULT_REVISE_KEYS,
  describeRevision,
  mapKey,
  type KeyMapping,
} from './revise_keys.ts';
import type { TorchCheckpoint, TorchTensor } from './torch_types.ts';
import type { PlainValue } from './pickle_writer.ts';

export { readTorchCheckpoint, parseTorchCheckpoint } from './pth.ts';
export {
  saveTorchCheckpoint,
  encodeTorchCheckpoint,
  saveTorchArchive,
  encodeTorchArchive,
  type TorchArchive,
} from './pth_writer.ts';
export { DEFAULT_REVISE_KEYS, type KeyRevision, type KeyMapping } from './revise_keys.ts';
export type { PlainValue } from './pickle_writer.ts';

export type { TorchTensor, TorchCheckpoint } from './torch_types.ts';

export interface LoadReport {
  /** The file (or 'checkpoint'). */
  source: string;
  /** Where the weights sat in the file ('state_dict', 'model', …; undefined = bare dict). */
  weightsKey?: string;
  /** Our keys that received a checkpoint tensor. */
  loaded: string[];
  /** Our keys the checkpoint lacks (keys present with another shape are in `skipped`). */
  missing: string[];
  /** Checkpoint keys (after key mapping) with no home in the model, not covered by
   * `allowUnexpected`. */
  unexpected: string[];
  /** Checkpoint keys with no home that `allowUnexpected` covers (known leftovers). */
  ignored: string[];
  /** Keys on both sides whose shapes differ, left at their initial value (`skipMismatched`). */
  skipped: ShapeMismatch[];
  /** Checkpoint keys changed by `reviseKeys`, and the revisions applied. */
  revised: { count: number; revisions: string[] };
  /** Checkpoint keys dropped by `stripPrefix` (not under it). */
  dropped: number;
  /** `addPrefix`, when the checkpoint fills only that part of the model. */
  scope?: string;
}

/** A key present in both the checkpoint and the model with different (torch-layout) shapes. */
export interface ShapeMismatch {
  key: string;
  checkpoint: number[];
  model: number[];
}

export interface LoadOptions extends KeyMapping {
  /** Checkpoint keys that may be present without a home (regexes). Defaults: KNOWN_UNUSED. */
  allowUnexpected?: readonly RegExp[];
  /** Throw if anything is missing or unexpected beyond the allowed list (default true). */
  strict?: boolean;
  /**
   * Load every tensor whose shape fits and report the others in `skipped` instead of throwing
   * (mmengine `load_state_dict(strict=False)` logs torch's "size mismatch" and goes on): the
   * fine-tuning case of a checkpoint trained for another class count.
   */
  skipMismatched?: boolean;
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

/** "'key': checkpoint [a,b] vs model [c,d]", the form shape errors and summaries use. */
export function describeMismatch(m: ShapeMismatch): string {
  return `'${m.key}': checkpoint [${m.checkpoint}] vs model [${m.model}]`;
}

/** What a load would do: the (entry, tensor) pairs to assign and the report, nothing assigned. */
export interface LoadPlan {
  assignments: [NamedEntry, TorchTensor][];
  report: LoadReport;
}

/**
 * Match a checkpoint against `model` without touching it: map every key (`reviseKeys`, then
 * `stripPrefix`, then `addPrefix`; see revise_keys.ts), pair it with the model entry of that name
 * and compare shapes in torch layout. Mismatched shapes are always listed in `report.skipped`;
 * whether that is an error is the caller's choice (`loadStateDict`, lib/io/load_weights.ts).
 */
export function planStateDict(
  model: Module,
  ckpt: TorchCheckpoint,
  opts: LoadOptions = {},
): LoadPlan {
  const allowed = opts.allowUnexpected ?? KNOWN_UNUSED;
  const revisions = opts.reviseKeys ?? DEFAULT_REVISE_KEYS;
  const compiled = compileRevisions(revisions);
  const ours = new Map<string, NamedEntry>(model.stateEntries().map((e) => [e.key, e]));
  const assignments: [NamedEntry, TorchTensor][] = [];
  const unexpected: string[] = [];
  const ignored: string[] = [];
  const skipped: ShapeMismatch[] = [];
  let revisedCount = 0;
  let dropped = 0;
  for (const [rawKey, t] of ckpt.stateDict) {
    const mapped = mapKey(rawKey, compiled, opts);
    if (!mapped) {
      dropped++;
      continue;
    }
    if (mapped.revised) revisedCount++;
    const key = mapped.key;
    const e = ours.get(key);
    if (!e) {
      (allowed.some((r) => r.test(key)) ? ignored : unexpected).push(key);
      continue;
    }
    const want = torchShape(e.variable.shape, e.layout);
    if (sameShape(want, t.shape)) assignments.push([e, t]);
    else skipped.push({ key, checkpoint: [...t.shape], model: want });
  }
  const found = new Set([...assignments.map(([e]) => e.key), ...skipped.map((m) => m.key)]);
  return {
    assignments,
    report: {
      source: ckpt.source ?? 'checkpoint',
      weightsKey: ckpt.weightsKey,
      loaded: assignments.map(([e]) => e.key),
      missing: [...ours.keys()].filter((k) => !found.has(k)),
      unexpected,
      ignored,
      skipped,
      revised: {
        count: revisedCount,
        revisions: revisedCount ? revisions.map(describeRevision) : [],
      },
      dropped,
      scope: opts.addPrefix || undefined,
    },
  };
}

/** Assign a plan's tensors (layout converted, dtype cast to the variable's). */
export function applyPlan(plan: LoadPlan): void {
  for (const [e, t] of plan.assignments) {
    const v = tf.tidy(() => {
      const x = torchToOurs(torchTensorToTf(t), e.layout);
      return x.dtype === e.variable.dtype ? x : tf.cast(x, e.variable.dtype);
    });
    e.variable.assign(v);
    v.dispose();
  }
}

/**
 * Load a checkpoint's tensors into `model`'s parameters and persistent buffers. Everything is
 * checked before the first assignment (shapes, then strictness), so a failed load leaves the
 * model untouched. int64 buffers arrive as int32 (range-checked by the reader). Keys are mapped
 * as mmengine does (`^module\.` stripped by default, see revise_keys.ts).
 * Throws CheckpointError on a shape mismatch (unless `skipMismatched`) and, when `strict`, on
 * missing or unexpected keys. For a whole-file load with a coverage check and a summary, use
 * `loadWeightsFile` (load_weights.ts).
 */
export function loadStateDict(
  model: Module,
  ckpt: TorchCheckpoint,
  opts: LoadOptions = {},
): LoadReport {
  const strict = opts.strict ?? true;
  const plan = planStateDict(model, ckpt, opts);
  const { report } = plan;
  const src = report.source;
  if (report.skipped.length && !opts.skipMismatched)
    throw new CheckpointError(
      `${src}: shape mismatch for ${report.skipped.length} key(s) (torch layout): ${listKeys(report.skipped.map(describeMismatch), 10)}`,
      'pass skipMismatched to load the tensors that fit and leave these at their initialisation',
    );
  const missing = report.missing;
  const unexpected = report.unexpected;
  if (strict && (missing.length || unexpected.length)) {
    const parts: string[] = [];
    if (missing.length) parts.push(`${missing.length} missing (${listKeys(missing)})`);
    if (unexpected.length) parts.push(`${unexpected.length} unexpected (${listKeys(unexpected)})`);
    throw new CheckpointError(
      `${src} does not fit the model: ${parts.join('; ')}. Use stripPrefix/addPrefix to map keys, or strict: false to load what fits`,
    );
  }
  applyPlan(plan);
  return report;
}

/** Model keys a report's load was meant to fill: those under `scope`, or all of them. */
export function inScope(r: LoadReport, key: string): boolean {
  return !r.scope || key.startsWith(r.scope);
}

/**
 * One line for logs, e.g. "loaded 819/819 tensors from 'state_dict'; 0 missing; 0 unexpected;
 * 0 skipped (shape mismatch); 4 ignored (known unused); 819 keys revised ('^module\.' → '')".
 * Missing counts only the model keys in scope; the others are said to keep their initial value.
 */
export function summarizeLoadReport(r: LoadReport): string {
  const eg = (keys: string[]) => (keys.length ? ` (${listKeys(keys, 3)})` : '');
  const missing = r.missing.filter((k) => inScope(r, k));
  const skipped = r.skipped.filter((m) => inScope(r, m.key)).length;
  const others = r.missing.length - missing.length;
  const target = r.loaded.length + missing.length + skipped;
  const from = r.weightsKey ? `'${r.weightsKey}'` : 'a bare dict of tensors';
  const parts = [
    `loaded ${r.loaded.length}/${target} tensors${r.scope ? ` under '${r.scope}'` : ''} from ${from}`,
    `${missing.length} missing${eg(missing)}`,
    `${r.unexpected.length} unexpected${eg(r.unexpected)}`,
    `${r.skipped.length} skipped (shape mismatch)${eg(r.skipped.map((m) => `${m.key} [${m.checkpoint}] vs [${m.model}]`))}`,
    `${r.ignored.length} ignored (known unused)`,
  ];
  if (r.revised.count)
    parts.push(`${r.revised.count} keys revised (${r.revised.revisions.join(', ')})`);
  if (r.dropped) parts.push(`${r.dropped} checkpoint keys outside the stripped prefix`);
  if (others) parts.push(`${others} model tensors outside '${r.scope}' keep their initial value`);
  return parts.join('; ');
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
