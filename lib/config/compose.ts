/**
 * Config composition as mmseg does it (mmengine's `Config` `_base_` inheritance): a leaf JSON lists `_base_` files (model ×
 * dataset × schedule), which are deep-merged in order, then the leaf's own keys, then CLI
 * overrides `key.path=value`. An object with `"_delete_": true` replaces instead of merging.
 * `loadConfig` validates the result and names the file and key of any problem.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { ZodError } from 'zod';
import { type RunConfig, runConfigSchema } from './schema.ts';
import { closest, schemaKeysAt } from './suggest.ts';
import { dataRootFromEnv, type EnvDataRoot } from './dataset_env.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export class ConfigError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(`${message}\n  fix: ${fix}`);
    this.name = 'ConfigError';
    this.fix = fix;
  }
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (isObject(v) && v._delete_ === true) {
      const { _delete_: _, ...rest } = v;
      out[k] = rest;
    } else if (isObject(v) && isObject(out[k])) {
      out[k] = deepMerge(out[k] as JsonObject, v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

function readJson(path: string): JsonObject {
  if (!existsSync(path))
    throw new ConfigError(
      `config file not found: ${path}`,
      'check the path (configs live in configs/)',
    );
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Json;
    if (!isObject(v)) throw new Error('top level must be an object');
    return v;
  } catch (e) {
    throw new ConfigError(
      `${path} is not valid JSON: ${(e as Error).message}`,
      'fix the JSON syntax',
    );
  }
}

/** Resolve `_base_` chains (relative to each file) and merge. */
export function composeFile(path: string, seen: string[] = []): JsonObject {
  const abs = resolve(path);
  if (seen.includes(abs))
    throw new ConfigError(`_base_ cycle: ${[...seen, abs].join(' → ')}`, 'remove the cycle');
  const raw = readJson(abs);
  const bases = raw._base_;
  delete raw._base_;
  let merged: JsonObject = {};
  if (bases !== undefined) {
    const list = Array.isArray(bases) ? bases : [bases];
    for (const b of list) {
      if (typeof b !== 'string')
        throw new ConfigError(`${abs}: _base_ entries must be paths`, 'use relative paths');
      merged = deepMerge(merged, composeFile(resolve(dirname(abs), b), [...seen, abs]));
    }
  }
  return deepMerge(merged, raw);
}

/** `a.b.c=value` overrides; the value is parsed as JSON when possible, else kept as a string. */
export function applyOverrides(cfg: JsonObject, overrides: string[]): JsonObject {
  let out = cfg;
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq < 1) throw new ConfigError(`bad override '${o}'`, 'write overrides as key.path=value');
    const keys = o.slice(0, eq).split('.');
    const text = o.slice(eq + 1);
    let value: Json;
    try {
      value = JSON.parse(text) as Json;
    } catch {
      value = text;
    }
    const patch: JsonObject = {};
    let cur = patch;
    keys.forEach((k, i) => {
      if (i === keys.length - 1) cur[k] = value;
      else cur = cur[k] = {};
    });
    out = deepMerge(out, patch);
  }
  return out;
}

/** Where an unknown key came from: the file, or the override that introduced it. */
function origin(path: string, file: string, overrides: readonly string[]): string {
  const o = overrides.find((x) => x.slice(0, x.indexOf('=')) === path);
  return o ? `--cfg-options ${o}` : file;
}

function describeZod(e: ZodError, file: string, overrides: readonly string[]): string {
  return e.issues
    .map((i) => {
      const where = i.path.join('.') || '(top level)';
      if (i.code === 'unrecognized_keys') {
        const known = schemaKeysAt(runConfigSchema, i.path);
        return i.keys
          .map((k) => {
            const full = i.path.length ? `${where}.${k}` : k;
            const near = closest(k, known);
            const hint = near
              ? ` (did you mean '${i.path.length ? `${where}.${near}` : near}'?)`
              : ` (allowed here: ${known.join(', ')})`;
            return `${origin(full, file, overrides)}: unknown key '${full}'${hint}`;
          })
          .join('\n');
      }
      return `${file}: ${where}: ${i.message}`;
    })
    .join('\n');
}

export interface LoadedConfig {
  config: RunConfig;
  /** sha256 of the resolved config (first 12 hex digits). */
  hash: string;
  file: string;
  /** Set when `data.dataset.dataRoot` came from an environment variable (see dataset_env.ts). */
  dataRootFromEnv?: EnvDataRoot;
}

/**
 * Validate a composed config into a frozen RunConfig. Throws ConfigError naming `file` (or the
 * `--cfg-options` entry that introduced a bad key) and, for an unknown key, the closest allowed
 * one.
 */
export function validateConfig(
  obj: JsonObject,
  file: string,
  overrides: readonly string[] = [],
): RunConfig {
  const r = runConfigSchema.safeParse(obj);
  if (!r.success) {
    throw new ConfigError(
      describeZod(r.error, file, overrides),
      'correct the key or value (see lib/config/schema.ts for every key and its meaning)',
    );
  }
  const cfg = { ...r.data, name: r.data.name ?? basename(file).replace(/\.json$/, '') };
  return deepFreeze(cfg);
}

export interface LoadOptions {
  /** Environment to read dataset folders from (the CLI passes process.env; see dataset_env.ts). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Compose `file`, apply the environment's dataset folder and `overrides`, validate. */
export function loadConfig(
  file: string,
  overrides: string[] = [],
  opts: LoadOptions = {},
): LoadedConfig {
  let composed = applyOverrides(composeFile(file), overrides);
  const dataset = (composed.data as JsonObject | undefined)?.dataset as JsonObject | undefined;
  const fromEnv = opts.env ? dataRootFromEnv(dataset?.type, overrides, opts.env) : undefined;
  if (fromEnv) composed = deepMerge(composed, { data: { dataset: { dataRoot: fromEnv.value } } });
  const config = validateConfig(composed, file, overrides);
  const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
  return { config, hash, file, ...(fromEnv ? { dataRootFromEnv: fromEnv } : {}) };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
