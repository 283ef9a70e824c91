/**
 * The seed policy of the proxy study (Tables 6 and 7): every variant gets the protocol's base
 * seeds (3); where two variants of a claim are within two standard deviations of each other
 * (lib/analysis/welch.ts `needsMoreSeeds`), both get the extra seeds (5 in all) before the
 * verdicts are drawn. Runs go through `runProxy`, so they are cached and resumable. With
 * several jobs (OFFSEG_PROXY_JOBS, default one per core), runs that are not cached train side
 * by side in single-threaded child processes (proxy/local_pool.ts) after the shared
 * pretraining; 1 job trains them one after another in this process.
 */
import { existsSync } from 'node:fs';
import {
  judgeClaims,
  variantsNeedingMoreSeeds,
  type Claim,
  type ClaimResult,
} from '../analysis/claims.ts';
import { seedStats } from '../analysis/welch.ts';
import {
  ensurePretrainedBackbone,
  ProxyGateError,
  proxyProtocol,
  runProxy,
  type ProxyResult,
} from './proxy.ts';
import { localJobs, pool, pretrainInChild, trainInChild } from './proxy/local_pool.ts';
import { backbonePath, skipTrain } from './proxy/protocol.ts';
import { cachedProxyResult } from './proxy/runs.ts';

export interface StudyResult {
  /** Finished runs per variant, in seed order. */
  runs: Record<string, ProxyResult[]>;
  /** Verdict of each claim whose variants both have runs. */
  claims: ClaimResult[];
  /** Variants that were given the extra seeds. */
  extended: string[];
  /** Set when the pretraining missed the protocol's gate: no variant was trained (the message). */
  stopped?: string;
}

/**
 * Train (or reuse) the base seeds of `models`, judge `claims`, add the extra seeds to variants
 * of close claims (full mode), and judge again. A pretraining below the protocol's gate stops
 * the study without training any variant: the result then has `stopped` and no runs.
 * @param onRun called after each finished or cached run (progress lines in notebooks).
 */
export async function runStudy(
  models: readonly string[],
  claims: readonly Claim[],
  opts: StudyOptions,
): Promise<StudyResult> {
  try {
    return await studyRuns(models, claims, opts);
  } catch (e) {
    if (!(e instanceof ProxyGateError)) throw e;
    const runs = Object.fromEntries(models.map((m) => [m, [] as ProxyResult[]]));
    return { runs, claims: [], extended: [], stopped: `${e.message}. Fix: ${e.hint}` };
  }
}

interface StudyOptions {
  quick: boolean;
  onRun?: (r: ProxyResult, done: number, total: number) => void;
  /** Runs side by side (default `localJobs()`; 1 when `root` is given). */
  jobs?: number;
  /** Folder holding results/, work_dirs/ and .cache/ (default: the checkout; tests). */
  root?: string;
}

async function studyRuns(
  models: readonly string[],
  claims: readonly Claim[],
  opts: StudyOptions,
): Promise<StudyResult> {
  const p = proxyProtocol();
  const mode = opts.quick ? 'quick' : 'full';
  const runs: Record<string, ProxyResult[]> = Object.fromEntries(models.map((m) => [m, []]));
  const todo = models.flatMap((m) => p.seeds[mode].map((seed) => ({ m, seed })));
  let done = 0;
  const root = opts.root;
  const jobs = root ? 1 : (opts.jobs ?? localJobs()); // child processes work in the checkout
  const record = (r: ProxyResult | undefined, total: number): void => {
    done++;
    if (r) {
      runs[r.model].push(r);
      runs[r.model].sort((a, b) => a.seed - b.seed);
      opts.onRun?.(r, done, total);
    }
  };
  const runAll = async (list: { m: string; seed: number }[], total: number): Promise<void> => {
    const cached = (m: string, seed: number) =>
      cachedProxyResult({ model: m, seed, quick: opts.quick, root });
    const missing = list.filter(({ m, seed }) => !cached(m, seed));
    if (jobs <= 1 || missing.length <= 1 || skipTrain()) {
      for (const { m, seed } of list)
        record(await runProxy({ model: m, seed, quick: opts.quick, root }), total);
      return;
    }
    for (const { m, seed } of list)
      if (!missing.some((x) => x.m === m && x.seed === seed)) record(cached(m, seed), total);
    // once, before the runs that need it: trained in a single-threaded child if missing, then
    // read here, where a pretraining below the gate throws ProxyGateError (runStudy: stopped)
    if (!existsSync(backbonePath(opts.quick))) await pretrainInChild(opts.quick);
    await ensurePretrainedBackbone(opts.quick);
    await pool(missing, jobs, async ({ m, seed }) => {
      await trainInChild(m, seed, opts.quick);
      const r = cached(m, seed);
      if (!r)
        throw new Error(`proxy run ${m} seed ${seed} finished without a matching result record`);
      record(r, total);
    });
  };
  await runAll(todo, todo.length);
  const values = () => Object.fromEntries(models.map((m) => [m, runs[m].map((r) => r.mIoU)]));
  let judged = judgeClaims(values(), claims);
  const extended = opts.quick
    ? []
    : variantsNeedingMoreSeeds(judged).filter((m) => models.includes(m));
  const extra = extended.flatMap((m) => p.seeds.extra.map((seed) => ({ m, seed })));
  await runAll(extra, todo.length + extra.length);
  if (extra.length) judged = judgeClaims(values(), claims);
  return { runs, claims: judged, extended };
}

/** One progress line per finished run, for `runStudy`'s `onRun` (notebooks, reproduce console). */
export function printRun(r: ProxyResult, done: number, total: number): void {
  console.log(
    `[${done}/${total}] ${r.model} seed ${r.seed}: proxy mIoU ${r.mIoU} (${r.seconds} s)`,
  );
}

/** "name: proxy mIoU mean ± std (n=…)" per variant, and which variants got the extra seeds. */
export function studySummary(study: StudyResult): string[] {
  if (study.stopped) return [`proxy study stopped by the pretraining gate: ${study.stopped}`];
  const lines = Object.entries(study.runs).map(([m, rs]) => {
    const s = seedStats(rs.map((r) => r.mIoU));
    return `${m}: proxy mIoU ${s.mean.toFixed(2)} ± ${s.std.toFixed(2)} (n=${s.n})`;
  });
  if (study.extended.length) lines.push(`5 seeds (close claims): ${study.extended.join(', ')}`);
  return lines;
}
