/**
 * The one path by which weights from a file reach a model: the CLI's `forward`, `eval` and
 * `grad-step`, a config's `model.init`, notebooks and the proxy study all call
 * `loadWeightsFile`. It reads a PyTorch `.pth` (weights under `state_dict`, `model`,
 * `state_dict_ema` or a bare dict, see pth.ts) or an offseg-ts training checkpoint (`.ckpt`),
 * maps keys as mmengine's `runner/checkpoint.py` `_load_checkpoint_to_model` does (`^module\.`
 * stripped by default; see revise_keys.ts), and refuses a load that would fill less of the model
 * than asked — with the likely cause (a prefix, another class count, another model) and the fix.
 * Nothing is assigned unless the whole load passes.
 */
import { existsSync } from 'node:fs';
import { oursToTorch, type Module } from '../models/core/module.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import {
  applyPlan,
  describeMismatch,
  inScope,
  planStateDict,
  readTorchCheckpoint,
  type LoadOptions,
  type LoadReport,
  type TorchCheckpoint,
  type TorchTensor,
} from './checkpoint.ts';
import { CheckpointError } from './errors.ts';
import { diagnoseKeys, OPTION_HINTS, setting, type LoadHints } from './key_diagnosis.ts';
import { compileRevisions, DEFAULT_REVISE_KEYS, mapKey } from './revise_keys.ts';

export interface WeightLoadOptions extends Omit<LoadOptions, 'strict'> {
  /**
   * Fraction of the model tensors in scope (under `addPrefix`, or all) that must load, in (0, 1].
   * Default 1: every tensor (inference). Tensors left out by `skipMismatched` count as loaded
   * here — the user asked for them to keep their initial value. A load of 0 tensors always fails.
   */
  minLoaded?: number;
  /** The names of the options in the caller's words, for the fix line (default: option names). */
  hints?: LoadHints;
}

/** A few keys for a message: "a, b, c, … (12 more)". */
function some(keys: readonly string[], n = 3): string {
  const head = keys.slice(0, n).join(', ');
  return keys.length > n ? `${head}, … (${keys.length - n} more)` : head;
}

/** The model name a checkpoint's meta records, when it is one of ours (exportPth meta.config). */
function metaModelName(ckpt: TorchCheckpoint): string | undefined {
  const cfg = ckpt.meta?.config;
  if (typeof cfg !== 'string') return undefined;
  try {
    const name = (JSON.parse(cfg) as { model?: { name?: unknown } }).model?.name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An offseg-ts training checkpoint (lib/train/checkpoint.ts) as a TorchCheckpoint: the `model.*`
 * tensors, converted to torch layout with the layout of the model entry each key maps to.
 */
export function readTrainingCheckpointWeights(
  path: string,
  model: Module,
  opts: WeightLoadOptions = {},
): TorchCheckpoint {
  let contents: ReturnType<typeof loadCheckpoint<{ config?: unknown }>>;
  try {
    contents = loadCheckpoint<{ config?: unknown }>(path);
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
  const entries = new Map(model.stateEntries().map((e) => [e.key, e]));
  const revisions = compileRevisions(opts.reviseKeys ?? DEFAULT_REVISE_KEYS);
  const stateDict = new Map<string, TorchTensor>();
  for (const [k, t] of contents.tensors) {
    if (k.startsWith('model.')) {
      const key = k.slice('model.'.length);
      const target = mapKey(key, revisions, opts);
      const e = target && entries.get(target.key);
      const torch = e ? oursToTorch(t, e.layout) : t;
      const data = torch.dataSync();
      stateDict.set(key, {
        dtype: torch.dtype === 'float32' ? 'float32' : 'int32',
        shape: [...torch.shape],
        data: torch.dtype === 'float32' ? (data as Float32Array) : Int32Array.from(data),
      });
      if (torch !== t) torch.dispose();
    }
    t.dispose();
  }
  const config = contents.meta.config;
  return {
    stateDict,
    weightsKey: 'model',
    otherKeys: ['optim', 'meta'],
    source: path,
    meta: config === undefined ? undefined : { config: JSON.stringify(config) },
  };
}

/** Read weights from `path`: `.ckpt` (offseg-ts training checkpoint) or a PyTorch `.pth`. */
export function readWeights(
  path: string,
  model: Module,
  opts: WeightLoadOptions = {},
): TorchCheckpoint {
  if (!existsSync(path))
    throw new CheckpointError(`Checkpoint file not found: ${path}`, 'check the path');
  return path.endsWith('.ckpt')
    ? readTrainingCheckpointWeights(path, model, opts)
    : readTorchCheckpoint(path);
}

/**
 * Load `ckpt` into `model` if it fills enough of it; otherwise throw a CheckpointError whose
 * message says how much would load and why not, and whose `fix` names the option to change.
 * Checks, in order: nothing loads or less than `minLoaded` of the scope (cause: a prefix fix
 * found by key_diagnosis.ts, shape mismatches, or another model); then shape mismatches without
 * `skipMismatched`. Returns the report (see `summarizeLoadReport` for its one-line form).
 */
export function loadWeightsChecked(
  model: Module,
  ckpt: TorchCheckpoint,
  opts: WeightLoadOptions = {},
): LoadReport {
  const hints = opts.hints ?? OPTION_HINTS;
  const minLoaded = opts.minLoaded ?? 1;
  if (!(minLoaded > 0 && minLoaded <= 1))
    throw new CheckpointError(
      `minLoaded must be in (0, 1], got ${minLoaded}`,
      `set ${hints.minLoaded ?? 'minLoaded'} between 0 and 1`,
    );
  const plan = planStateDict(model, ckpt, opts);
  const r = plan.report;
  const src = r.source;
  const modelKeys = model.stateEntries().map((e) => e.key);
  const target = modelKeys.filter((k) => inScope(r, k)).length;
  const skipped = r.skipped.filter((m) => inScope(r, m.key));
  const covered = r.loaded.length + skipped.length;
  const needed = Math.ceil(minLoaded * target);
  const from = r.weightsKey ? ` (weights under '${r.weightsKey}')` : '';
  const scope = r.scope ? ` under '${r.scope}'` : '';

  if (r.loaded.length === 0 || covered < needed) {
    const head =
      `${src}${from}: ${r.loaded.length} of the model's ${target} tensors${scope} would load` +
      (minLoaded < 1 ? ` (at least ${needed} required)` : '');
    // 1. a prefix problem?
    const revisions = compileRevisions(opts.reviseKeys ?? DEFAULT_REVISE_KEYS);
    const ckptKeys = [...ckpt.stateDict.keys()].map((k) => mapKey(k, revisions, {})!.key);
    const d = diagnoseKeys(
      modelKeys,
      ckptKeys,
      {
        stripPrefix: opts.stripPrefix ?? '',
        addPrefix: opts.addPrefix ?? '',
        loaded: r.loaded.length,
        minLoaded,
      },
      hints,
    );
    if (d) throw new CheckpointError(`${head}; ${d.cause}`, d.fix);
    // 2. the right keys with other shapes: another class count or model size
    if (skipped.length > 0 && covered >= needed)
      throw new CheckpointError(
        `${head}: ${skipped.length} keys differ in shape (${some(skipped.map(describeMismatch), 2)})`,
        `a checkpoint for another class count or size: check ${hints.model}, or ${setting(hints, hints.skipMismatched, true)} to keep them at their initial value`,
      );
    // 3. another model
    const named = metaModelName(ckpt);
    const missing = r.missing.filter((k) => inScope(r, k));
    throw new CheckpointError(
      `${head}; ${missing.length} missing (e.g. ${some(missing)}), ${r.unexpected.length} checkpoint keys unused (e.g. ${some(r.unexpected) || 'none'})` +
        (named ? `; the checkpoint's meta names the model '${named}'` : '') +
        (skipped.length ? `; ${skipped.length} differ in shape` : ''),
      `use a checkpoint of this model (check ${hints.model})` +
        (hints.minLoaded && minLoaded < 1 && r.loaded.length > 0
          ? `, or lower ${hints.minLoaded} to accept a partial load`
          : ''),
    );
  }
  if (r.skipped.length && !opts.skipMismatched)
    throw new CheckpointError(
      `${src}: shape mismatch for ${r.skipped.length} key(s) (torch layout): ${some(r.skipped.map(describeMismatch), 10)}`,
      `a checkpoint for another class count or size: check ${hints.model}, or ${setting(hints, hints.skipMismatched, true)} to load the other ${r.loaded.length} tensors and keep these at their initial value`,
    );
  applyPlan(plan);
  return r;
}

/**
 * Read `path` and load it into `model` (see `loadWeightsChecked`). Throws CheckpointError for a
 * missing or unreadable file and for a load that does not fit; the model is untouched then.
 */
export function loadWeightsFile(
  model: Module,
  path: string,
  opts: WeightLoadOptions = {},
): LoadReport {
  return loadWeightsChecked(model, readWeights(path, model, opts), opts);
}
