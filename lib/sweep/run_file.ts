/**
 * Run files: a sweep written out by hand. JSON, either an array of entries or `{ "runs": [...] }`;
 * each entry is a proxy variant or an experiment config, with optional seeds:
 *
 *   { "runs": [
 *     { "model": "offseg-t-co", "seeds": [0, 1, 2] },
 *     { "config": "configs/builtin/offseg-t_builtin-128_quick.json",
 *       "overrides": ["schedule.iterations=200"], "seeds": [0, 1] } ] }
 *
 * Config paths are relative to the checkout, because every worker reads the file from its own
 * checkout (and refuses the job if its copy hashes differently). Every entry is checked here, so
 * a bad one is reported before anything is queued, naming the file and the entry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { listModels } from '../models/registry.ts';
import { closest } from '../config/suggest.ts';
import { proxySeeds } from '../train/proxy.ts';
import { loadSpecConfig, SpecError, type Mode, type RunSpec } from './spec.ts';

const ENTRY_KEYS = ['model', 'config', 'overrides', 'seeds'] as const;

/** Proxy variants: the OffSeg-T family fine-tuned from the shared EfficientFormerV2-S1 backbone. */
function proxyModels(): string[] {
  return listModels().filter((m) => m === 'offseg-t' || m.startsWith('offseg-t-'));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Read and check a run file; entries without `seeds` take `seeds` (or the protocol's base seeds
 * for proxy runs, the config's own seed for config runs).
 * @throws SpecError naming the file and the entry (`runs[2]`) at fault.
 */
export function readRunFile(path: string, mode: Mode, seeds?: readonly number[]): RunSpec[] {
  if (!existsSync(path))
    throw new SpecError(`run file ${path} not found`, 'check the path given to --grid');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SpecError(
      `run file ${path} is not valid JSON: ${(e as Error).message}`,
      'fix the JSON syntax',
    );
  }
  const entries = Array.isArray(doc) ? doc : isObject(doc) ? doc.runs : undefined;
  if (!Array.isArray(entries) || entries.length === 0)
    throw new SpecError(
      `run file ${path}: expected a non-empty list of runs (an array, or {"runs": [...]})`,
      'list entries like {"model": "offseg-t", "seeds": [0, 1]} or {"config": "configs/….json"}',
    );
  return entries.flatMap((e, i) => entrySpecs(e, `${path}: runs[${i}]`, mode, seeds));
}

function entrySpecs(
  e: unknown,
  where: string,
  mode: Mode,
  defaultSeeds?: readonly number[],
): RunSpec[] {
  const fail = (msg: string, fix: string): never => {
    throw new SpecError(`${where}: ${msg}`, fix);
  };
  if (!isObject(e))
    return fail(
      `expected an object, got ${JSON.stringify(e)}`,
      'write {"model": …} or {"config": …}',
    );
  for (const k of Object.keys(e))
    if (!(ENTRY_KEYS as readonly string[]).includes(k)) {
      const near = closest(k, ENTRY_KEYS);
      fail(
        `unknown key '${k}'${near ? ` (did you mean '${near}'?)` : ''}`,
        `an entry takes ${ENTRY_KEYS.join(', ')}`,
      );
    }
  if ('model' in e === 'config' in e)
    fail(
      'give exactly one of "model" (a proxy variant) or "config" (a config file)',
      'split it into two entries',
    );
  let seeds: readonly number[] | undefined = defaultSeeds;
  if ('seeds' in e) {
    const s = e.seeds;
    if (!Array.isArray(s) || s.length === 0 || !s.every((x) => Number.isInteger(x) && x >= 0))
      fail(
        `"seeds" must be a non-empty list of non-negative integers, got ${JSON.stringify(s)}`,
        'e.g. "seeds": [0, 1, 2]',
      );
    seeds = s as number[];
  }

  if ('model' in e) {
    const model = e.model;
    const models = proxyModels();
    if (typeof model !== 'string' || !models.includes(model)) {
      const near = typeof model === 'string' ? closest(model, models) : undefined;
      fail(
        `"model": ${JSON.stringify(model)} is not a proxy variant${near ? ` (did you mean '${near}'?)` : ''}`,
        `proxy variants: ${models.join(', ')}`,
      );
    }
    if ('overrides' in e)
      fail('"overrides" applies to config runs only', 'proxy runs follow configs/proxy/');
    return (seeds ?? proxySeeds(mode === 'quick')).map((seed) => ({
      kind: 'proxy',
      model: model as string,
      seed,
      mode,
    }));
  }

  const config = e.config;
  if (typeof config !== 'string' || !config)
    fail(
      `"config" must be a file path, got ${JSON.stringify(config)}`,
      'e.g. "config": "configs/builtin/….json"',
    );
  const overrides = e.overrides ?? [];
  if (
    !Array.isArray(overrides) ||
    !overrides.every((o) => typeof o === 'string' && o.includes('='))
  )
    fail(
      `"overrides" must be a list of "key.path=value" strings, got ${JSON.stringify(overrides)}`,
      'e.g. "overrides": ["schedule.iterations=100"]',
    );
  const specs: RunSpec[] = (seeds ?? [undefined]).map((seed) => ({
    kind: 'config',
    config: config as string,
    overrides: overrides as string[],
    ...(seed === undefined ? {} : { seed }),
  }));
  for (const s of specs) {
    try {
      if (s.kind === 'config') loadSpecConfig(s);
    } catch (err) {
      const fix = (err as { fix?: string }).fix ?? 'fix the entry';
      fail((err as Error).message.split('\n')[0], fix);
    }
  }
  return specs;
}
