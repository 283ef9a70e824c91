/**
 * Run specs: what one job of a sweep trains, and everything derived from it that submitter and
 * workers must agree on — the job id (kind, name and config hash, so submitting the same run twice
 * finds the first job), the config hash, the schedule length, and where in the shared store the
 * run's folder and result JSON live (paths relative to the store, as the proxy engine writes them).
 *
 * Three kinds:
 *   - `pretrain`: the proxy study's shared backbone (lib/train/proxy.ts `ensurePretrainedBackbone`);
 *   - `proxy`: one Table 6/7 variant × seed fine-tuned from it (`runProxy`), which waits for it;
 *   - `config`: any experiment config + overrides + seed through the generic training loop.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { loadConfig } from '../config/compose.ts';
import type { RunConfig } from '../config/schema.ts';
import { repoRoot } from '../paths.ts';
import { backbonePath, finetuneConfig, pretrainConfig } from '../train/proxy.ts';

export type Mode = 'quick' | 'full';

export interface PretrainSpec {
  kind: 'pretrain';
  mode: Mode;
}

export interface ProxySpec {
  kind: 'proxy';
  /** A proxy variant (Table 6 or 7), e.g. `offseg-t-co`. */
  model: string;
  seed: number;
  mode: Mode;
}

export interface ConfigSpec {
  kind: 'config';
  /** Config file, relative to the checkout (every worker reads its own copy) or absolute. */
  config: string;
  /** `key.path=value` overrides applied after the file, as `--cfg-options` does. */
  overrides: readonly string[];
  /** Sets `runtime.seed` (absent: the config's own seed). */
  seed?: number;
}

export type RunSpec = PretrainSpec | ProxySpec | ConfigSpec;

/** A spec with what every process derives from it. */
export interface ResolvedRun {
  spec: RunSpec;
  /** Queue job id: `<kind>-<name>-<config hash>`. */
  id: string;
  /** Human label: `offseg-t-s0-quick`, `pretrain-full`, `<config name>-s3`. */
  name: string;
  configHash: string;
  /** Schedule length in iterations. */
  iterations: number;
  /** Run folder, relative to the store. */
  workDir: string;
  /** Result JSON, relative to the store (the same relative path in the checkout after collect). */
  result: string;
  /** Id of the job that must finish first (the pretraining of a proxy run). */
  after?: string;
}

/** What a job carries besides its spec: who submitted it, from which code. */
export interface JobData {
  spec: RunSpec;
  configHash: string;
  /** `codeVersion()` of the submitter. */
  version: string;
  /** Grid name or run file the job came from (for the status table). */
  sweep: string;
  submitted: string;
}

/** Thrown for a spec this checkout cannot resolve (unknown config file, invalid override…). */
export class SpecError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = 'SpecError';
    this.fix = fix;
  }
}

const isQuick = (m: Mode) => m === 'quick';

/** Job ids are Redis key parts: keep them to a safe alphabet. */
function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** The config file of a config spec, absolute. */
export function configFile(spec: ConfigSpec): string {
  return isAbsolute(spec.config) ? spec.config : join(repoRoot(), spec.config);
}

/** The resolved config of a config spec (seed override last), and its hash. */
export function loadSpecConfig(spec: ConfigSpec): { config: RunConfig; hash: string } {
  const file = configFile(spec);
  if (!existsSync(file))
    throw new SpecError(
      `config ${spec.config} not found in this checkout (${file})`,
      'give a path relative to the checkout (e.g. configs/…) that exists on every worker',
    );
  const seed = spec.seed === undefined ? [] : [`runtime.seed=${spec.seed}`];
  const { config, hash } = loadConfig(file, [...spec.overrides, ...seed]);
  return { config, hash };
}

/**
 * Derive id, hash, schedule and store paths of a spec. `store` is the shared folder the proxy
 * engine uses as its root (only the backbone file name enters the hashes, never the folder).
 * @throws SpecError or ConfigError when a config file is missing or does not validate.
 */
export function resolveRun(spec: RunSpec, store: string): ResolvedRun {
  if (spec.kind === 'pretrain') {
    const { config, hash } = pretrainConfig(isQuick(spec.mode));
    return {
      spec,
      id: `pretrain-${spec.mode}-${hash}`,
      name: `pretrain-${spec.mode}`,
      configHash: hash,
      iterations: config.schedule.iterations,
      workDir: `work_dirs/proxy/pretrain-${spec.mode}-${hash}`,
      result: `results/proxy/runs/pretrain-${spec.mode}.json`,
    };
  }
  if (spec.kind === 'proxy') {
    const quick = isQuick(spec.mode);
    const { config, hash } = finetuneConfig(
      spec.model,
      spec.seed,
      backbonePath(quick, store),
      quick,
    );
    const name = `${spec.model}-s${spec.seed}-${spec.mode}`;
    return {
      spec,
      id: `proxy-${safe(name)}-${hash}`,
      name,
      configHash: hash,
      iterations: config.schedule.iterations,
      workDir: `work_dirs/proxy/${spec.model}-s${spec.seed}-${hash}`,
      result: `results/proxy/runs/${name}.json`,
      after: resolveRun({ kind: 'pretrain', mode: spec.mode }, store).id,
    };
  }
  const { config, hash } = loadSpecConfig(spec);
  const name = `${safe(config.name ?? basename(spec.config, '.json'))}-s${config.runtime.seed}`;
  return {
    spec,
    id: `config-${name}-${hash}`,
    name,
    configHash: hash,
    iterations: config.schedule.iterations,
    workDir: `work_dirs/sweep/${name}-${hash}`,
    result: `results/sweep/runs/${name}-${hash}.json`,
  };
}

/** The config hash a finished run's result JSON records, if the file exists. */
export function storedHash(store: string, run: ResolvedRun): string | undefined {
  const p = join(store, run.result);
  if (!existsSync(p)) return undefined;
  try {
    return (JSON.parse(readFileSync(p, 'utf8')) as { configHash?: string }).configHash;
  } catch {
    return undefined; // a torn or foreign file: not a finished run
  }
}

/** The outcome recorded in the store for a finished run (undefined: not finished there). */
export function storedOutcome(store: string, run: ResolvedRun): RunOutcome | undefined {
  if (!isDone(store, run)) return undefined;
  const r = JSON.parse(readFileSync(join(store, run.result), 'utf8')) as Partial<RunOutcome>;
  return {
    result: run.result,
    mIoU: r.mIoU ?? NaN,
    iterations: r.iterations ?? 0,
    seconds: r.seconds ?? 0,
  };
}

/**
 * Is the run's result already in the store? For the pretraining the backbone file must exist
 * too (proxy runs load it).
 */
export function isDone(store: string, run: ResolvedRun): boolean {
  if (storedHash(store, run) !== run.configHash) return false;
  if (run.spec.kind === 'pretrain') return existsSync(backbonePath(isQuick(run.spec.mode), store));
  return true;
}

/**
 * The code a process runs: the checkout's commit, with `-dirty` when tracked files differ from
 * it ('unknown' without git). Submitter and workers compare it so results never mix versions.
 */
export function codeVersion(root = repoRoot()): string {
  const git = (args: string[]) =>
    execFileSync('git', ['-C', root, ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  try {
    const sha = git(['rev-parse', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** What a finished job returns (BullMQ keeps it as the job's return value). */
export interface RunOutcome {
  /** Result JSON, relative to the store. */
  result: string;
  /** Validation mIoU of the finished run (the pretraining's on its own val split). */
  mIoU: number;
  iterations: number;
  seconds: number;
}
