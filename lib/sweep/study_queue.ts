/**
 * The proxy study (Tables 6 and 7) trained on the queue instead of in-process, for
 * `npm run reproduce -- --redis URL`: it submits the runs the notebooks will ask for, waits for
 * the workers, and collects the result JSONs into the checkout, where the notebooks' `runStudy`
 * then finds every run cached (same config hashes) and trains nothing itself.
 *
 * It follows the study's seed policy (lib/train/proxy_study.ts): every variant of each table gets
 * the protocol's base seeds; in full mode, both variants of a claim within two standard
 * deviations get the extra seeds, judged per table on the base-seed results exactly as `runStudy`
 * judges them, so the notebooks ask for no run that is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLAIMS, judgeClaims, variantsNeedingMoreSeeds } from '../analysis/claims.ts';
import { repoRoot } from '../paths.ts';
import { proxyProtocol, type ProxyResult } from '../train/proxy.ts';
import { collectResults } from './collect.ts';
import { gridModels, proxySpecs, type GridName } from './grids.ts';
import { DEFAULT_QUEUE, openQueue, probeRedis } from './redis.ts';
import { codeVersion, type Mode, type RunSpec } from './spec.ts';
import { countStates } from './status.ts';
import { submitRuns } from './submit.ts';
import { waitForRuns } from './wait.ts';

export interface QueueStudyOptions {
  redis: string;
  quick: boolean;
  /** The shared store as this host sees it (default: the checkout). */
  store?: string;
  /** Where the notebooks read results (default: the checkout). */
  out?: string;
  queue?: string;
  /** Poll period while waiting, ms (default 10000). */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface QueueStudyReport {
  /** Runs finished on the queue (or found done), base and extra seeds. */
  runs: number;
  /** Variants given the extra seeds, per table. */
  extended: Record<GridName, string[]>;
}

const TABLES: readonly { grid: GridName; table: 6 | 7 }[] = [
  { grid: 'table6', table: 6 },
  { grid: 'table7', table: 7 },
];

/** mIoU per seed of `model`, read from the collected result JSONs. */
function storedMIoUs(out: string, model: string, seeds: readonly number[], mode: Mode): number[] {
  return seeds.flatMap((seed) => {
    const p = join(out, 'results', 'proxy', 'runs', `${model}-s${seed}-${mode}.json`);
    return existsSync(p) ? [(JSON.parse(readFileSync(p, 'utf8')) as ProxyResult).mIoU] : [];
  });
}

/**
 * Train the Tables 6 and 7 proxy runs on the queue at `opts.redis` and collect them.
 * @throws RedisUnreachableError, SweepFailedError (a run failed: nothing is judged on it).
 */
export async function runProxyStudyOnQueue(opts: QueueStudyOptions): Promise<QueueStudyReport> {
  const log = opts.log ?? ((l: string) => console.log(`[sweep] ${l}`));
  const store = opts.store ?? repoRoot();
  const out = opts.out ?? repoRoot();
  const mode: Mode = opts.quick ? 'quick' : 'full';
  await probeRedis(opts.redis);
  const queue = openQueue(opts.redis, opts.queue ?? DEFAULT_QUEUE);
  const version = codeVersion();
  let runs = 0;

  const runOnQueue = async (specs: RunSpec[], label: string) => {
    const r = await submitRuns(queue, specs, { store, version, sweep: label });
    log(
      `${label}: ${r.runs.length} runs (${r.queued.length + r.requeued.length} queued now, ${r.alreadyQueued.length} queued before, ${r.done.length} done)`,
    );
    const workers = await queue.getWorkers().catch(() => undefined); // needs CLIENT LIST rights
    if (workers?.length === 0)
      log(
        `no worker is connected yet: start one per machine with  npx offseg worker --redis ${opts.redis} --store <shared folder>`,
      );
    const inQueue = [];
    for (const run of r.runs) if (await queue.getJob(run.id)) inQueue.push(run.id);
    await waitForRuns(queue, inQueue, {
      pollMs: opts.pollMs ?? 10_000,
      onUpdate: (rows) => {
        const n = countStates(rows);
        log(
          `${label}: ${n.done}/${rows.length} done, ${n.running} running, ${n.queued + n.waiting} queued`,
        );
      },
    });
    const c = collectResults(r.runs, { store, out });
    log(
      `${label}: collected ${c.written.length} files into ${out} (${c.unchanged.length} already there)`,
    );
    runs += r.runs.length;
  };

  try {
    // 1. base seeds of every variant of both tables (shared variants are one run)
    const models = [...new Set(TABLES.flatMap((t) => gridModels(t.grid)))];
    await runOnQueue(proxySpecs(models, mode), `proxy study (${mode}, base seeds)`);

    // 2. extra seeds for close claims, judged per table as runStudy does (full mode only)
    const extended: Record<GridName, string[]> = { table6: [], table7: [] };
    if (!opts.quick) {
      const seeds = proxyProtocol().seeds;
      for (const t of TABLES) {
        const ms = gridModels(t.grid);
        const values = Object.fromEntries(
          ms.map((m) => [m, storedMIoUs(out, m, seeds.full, mode)]),
        );
        const judged = judgeClaims(
          values,
          CLAIMS.filter((c) => c.table === t.table),
        );
        extended[t.grid] = variantsNeedingMoreSeeds(judged).filter((m) => ms.includes(m));
      }
      const more = [...new Set([...extended.table6, ...extended.table7])];
      if (more.length)
        await runOnQueue(proxySpecs(more, mode, seeds.extra), `extra seeds for ${more.join(', ')}`);
    }
    return { runs, extended };
  } finally {
    await queue.close();
  }
}
