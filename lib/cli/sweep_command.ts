/** `offseg sweep submit|status|collect` and `offseg worker`: the CLI over lib/sweep. */
import { resolve } from 'node:path';
import { BACKEND_NAMES, type BackendName } from '../backend/select.ts';
import { repoRoot } from '../paths.ts';
import { isQuickMode } from '../train/proxy.ts';
import { collectResults, completedRuns } from '../sweep/collect.ts';
import { parseSeeds, sweepSpecs } from '../sweep/grids.ts';
import { DEFAULT_QUEUE, openQueue, probeRedis } from '../sweep/redis.ts';
import { codeVersion } from '../sweep/spec.ts';
import { formatStatus, sweepStatus } from '../sweep/status.ts';
import { formatSubmitReport, submitRuns } from '../sweep/submit.ts';
import { runWorker } from '../sweep/worker.ts';
import { intOption, parse, requireString } from './args.ts';
import { UserError } from './errors.ts';
import { SIGNAL_EXIT_CODES, type StopSignal } from './interrupt.ts';
import type { Command } from './command.ts';

const REDIS_HELP = "  --redis URL            the queue's Redis, e.g. redis://127.0.0.1:6379";
const QUEUE_HELP = `  --queue NAME           queue name (default ${DEFAULT_QUEUE})`;
const STORE_HELP =
  '  --store DIR            shared folder all workers see (results/, work_dirs/, .cache/; default: this checkout)';

const store = (v: unknown) => resolve(typeof v === 'string' ? v : repoRoot());

async function submit(argv: string[]): Promise<number> {
  const v = parse(argv, {
    grid: { type: 'string' },
    redis: { type: 'string' },
    seeds: { type: 'string' },
    quick: { type: 'boolean' },
    store: { type: 'string' },
    queue: { type: 'string' },
  });
  const grid = requireString(v.grid, 'grid');
  const redis = requireString(v.redis, 'redis');
  const seeds = typeof v.seeds === 'string' ? parseSeeds(v.seeds) : undefined;
  const mode = v.quick || isQuickMode() ? 'quick' : 'full';
  const specs = sweepSpecs(grid, mode, seeds); // every entry checked before Redis is contacted
  await probeRedis(redis);
  const name = (v.queue as string | undefined) ?? DEFAULT_QUEUE;
  const queue = openQueue(redis, name);
  try {
    const r = await submitRuns(queue, specs, {
      store: store(v.store),
      version: codeVersion(),
      sweep: grid,
    });
    console.log(formatSubmitReport(r, name));
    return 0;
  } finally {
    await queue.close();
  }
}

async function status(argv: string[]): Promise<number> {
  const v = parse(argv, {
    redis: { type: 'string' },
    queue: { type: 'string' },
    json: { type: 'boolean' },
  });
  const redis = requireString(v.redis, 'redis');
  await probeRedis(redis);
  const queue = openQueue(redis, (v.queue as string | undefined) ?? DEFAULT_QUEUE);
  try {
    const rows = await sweepStatus(queue);
    console.log(v.json ? JSON.stringify(rows, null, 2) : formatStatus(rows));
    return 0;
  } finally {
    await queue.close();
  }
}

async function collect(argv: string[]): Promise<number> {
  const v = parse(argv, {
    redis: { type: 'string' },
    queue: { type: 'string' },
    store: { type: 'string' },
    out: { type: 'string' },
  });
  const redis = requireString(v.redis, 'redis');
  await probeRedis(redis);
  const queue = openQueue(redis, (v.queue as string | undefined) ?? DEFAULT_QUEUE);
  try {
    const from = store(v.store);
    const out = resolve(typeof v.out === 'string' ? v.out : repoRoot());
    const r = collectResults(await completedRuns(queue, from), { store: from, out });
    for (const f of r.written) console.log(`  wrote ${f}`);
    console.log(
      `${r.runs.length} finished runs: ${r.written.length} files written to ${out}, ${r.unchanged.length} already there`,
    );
    if (r.missing.length)
      throw new UserError(
        `${r.missing.length} files of finished runs are not in the store ${from} (${r.missing.slice(0, 3).join(', ')}${r.missing.length > 3 ? ', …' : ''})`,
        2,
        'pass --store with the folder the workers write to, as this host sees it',
      );
    return 0;
  } finally {
    await queue.close();
  }
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  submit,
  status,
  collect,
};

export const sweepCommand: Command = {
  summary: 'distributed sweeps on a Redis queue: submit, status, collect',
  help: [
    '  offseg sweep submit --grid table6|table7|FILE.json --redis URL [--seeds 0,1,2] [--quick]',
    '      queue one job per run; a run already done or queued (same config hash) is not queued again',
    '  offseg sweep status --redis URL [--json]',
    '      queued / running (worker, iteration, ETA) / done / failed',
    '  offseg sweep collect --redis URL [--store DIR] [--out DIR]',
    '      copy finished runs from the store into the checkout (results/proxy/runs/, results/sweep/runs/)',
    REDIS_HELP,
    QUEUE_HELP,
    STORE_HELP,
    "  --seeds LIST           seeds of each run (default: the proxy protocol's base seeds; a run",
    '                         file entry with its own "seeds" keeps them)',
    '  --quick                tiny proxy schedules (as OFFSEG_QUICK=1)',
    '  A run file: {"runs": [{"model": "offseg-t-co", "seeds": [0, 1]},',
    '               {"config": "configs/….json", "overrides": ["schedule.iterations=100"]}]}',
  ].join('\n'),
  async run(argv) {
    const [sub, ...rest] = argv;
    const fn = sub ? SUBCOMMANDS[sub] : undefined;
    if (!fn)
      throw new UserError(
        `offseg sweep takes submit, status or collect${sub ? `, not '${sub}'` : ''}`,
        2,
        'e.g. offseg sweep status --redis redis://127.0.0.1:6379',
      );
    return fn(rest);
  },
};

export const workerCommand: Command = {
  summary: 'take sweep jobs from a Redis queue and train them into the shared store',
  help: [
    REDIS_HELP,
    STORE_HELP,
    QUEUE_HELP,
    '  --concurrency N        jobs at once, each in its own thread (default 1)',
    "  --lease SECONDS        lease of a running job (default 30): a dead worker's job is re-taken",
    '                         by another after about three leases and resumes from its last checkpoint',
    '  --backend NAME         auto | wasm | cpu | tensorflow | tensorflow-gpu',
    '  Ctrl-C (SIGINT) or SIGTERM: running jobs go back to the queue; a second signal quits at once.',
  ].join('\n'),
  async run(argv) {
    const v = parse(argv, {
      redis: { type: 'string' },
      store: { type: 'string' },
      queue: { type: 'string' },
      concurrency: { type: 'string' },
      lease: { type: 'string' },
      backend: { type: 'string' },
    });
    const backend = (v.backend as string | undefined) ?? 'auto';
    if (backend !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(backend))
      throw new UserError(
        `--backend ${backend}: unknown backend`,
        2,
        `use auto or one of ${BACKEND_NAMES.join(', ')}`,
      );
    const controller = new AbortController();
    let stopped: StopSignal | undefined;
    const on = (sig: StopSignal) => () => {
      if (stopped) process.exit(SIGNAL_EXIT_CODES[sig]);
      stopped = sig;
      process.stderr.write(
        `\n[worker] ${sig}: putting running jobs back in the queue (again to quit at once)\n`,
      );
      controller.abort(sig);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    try {
      await runWorker({
        redis: requireString(v.redis, 'redis'),
        store: store(v.store),
        queue: v.queue as string | undefined,
        concurrency: intOption(v.concurrency, 'concurrency', 1),
        leaseSeconds: intOption(v.lease, 'lease', 30),
        backend: backend as BackendName | 'auto',
        signal: controller.signal,
      });
      return stopped ? SIGNAL_EXIT_CODES[stopped] : 0;
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
  },
};
