/**
 * The command line of `npm run reproduce` (scripts/reproduce.ts), parsed with the CLI's strict
 * flag parser (lib/cli/args.ts over node:util parseArgs): an unknown flag or a bad value is a
 * UserError naming the flag.
 */
import { resolve } from 'node:path';
import { parse } from '../lib/cli/args.ts';
import { UserError } from '../lib/cli/errors.ts';
import { checkRedisUrl } from '../lib/sweep/redis.ts';

export const USAGE = `Usage: npm run reproduce [-- --quick] [-- --skip-train] [-- --only 00,06,demo] [-- --yes]
                         [-- --redis URL [--store DIR]]
  --quick        tiny schedules (OFFSEG_QUICK=1), results in results/quick/ (never results/)
  --skip-train   no proxy training (OFFSEG_SKIP_TRAIN=1): cached runs or "not run"
  --only LIST    only these notebooks (numbers) and/or the demo page, comma-separated
  --yes          install missing Debian packages without asking (as root)
  --redis URL    train the proxy study's runs on this Redis queue (offseg worker processes, on
                 any hosts) and wait for them, instead of in the notebooks' own process
  --store DIR    with --redis: the folder the workers share (default: this checkout)`;

/** The notebooks that train or load proxy runs (Tables 6 and 7, Figs. 3 and 5). */
export const PROXY_NOTEBOOKS: readonly string[] = ['04', '05', '07', '08'];

export interface ReproduceArgs {
  help: boolean;
  quick: boolean;
  skipTrain: boolean;
  yes: boolean;
  /** Notebook numbers and/or `demo`; undefined: everything. */
  only?: string[];
  /** The queue's Redis URL (proxy runs on workers). */
  redis?: string;
  /** The workers' shared folder, absolute. */
  store?: string;
}

/**
 * Parse reproduce's flags (`argv` without node and the script).
 * @throws UserError for an unknown flag, a malformed `--only` list or `--redis` URL, `--store`
 *   without `--redis`, or `--redis` with `--skip-train`.
 */
export function parseReproduceArgs(argv: string[]): ReproduceArgs {
  const v = parse(argv, {
    help: { type: 'boolean', short: 'h' },
    quick: { type: 'boolean' },
    'skip-train': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    only: { type: 'string' },
    redis: { type: 'string' },
    store: { type: 'string' },
  });
  const only = v.only as string | undefined;
  if (only !== undefined && !/^(\d{2}|demo)(,(\d{2}|demo))*$/.test(only))
    throw new UserError(
      `--only takes notebook numbers and/or demo, e.g. --only 00,06,demo; got '${only}'`,
    );
  const redis = v.redis as string | undefined;
  const store = v.store as string | undefined;
  if (redis !== undefined) {
    try {
      checkRedisUrl(redis);
    } catch (e) {
      throw new UserError((e as Error).message, 2, (e as { fix?: string }).fix);
    }
  }
  if (store !== undefined && redis === undefined)
    throw new UserError(
      '--store is the folder the queue workers share: it goes with --redis URL',
      2,
      'add --redis redis://HOST:PORT, or drop --store',
    );
  if (redis !== undefined && v['skip-train'])
    throw new UserError(
      '--redis trains the proxy runs on the queue, --skip-train trains nothing: choose one',
    );
  return {
    help: Boolean(v.help),
    quick: Boolean(v.quick),
    skipTrain: Boolean(v['skip-train']),
    yes: Boolean(v.yes),
    only: only?.split(','),
    redis,
    store: store === undefined ? undefined : resolve(store),
  };
}

/** A Redis URL with its password (if any) masked: for logs and REPORT.md. */
export function shownRedis(arg: string): string {
  return arg.replace(/^((?:--redis=)?rediss?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** The command line for REPORT.md, with a password in a `--redis` URL masked. */
export function shownCommand(argv: readonly string[]): string {
  const masked = argv.map(shownRedis);
  return `npm run reproduce${masked.length ? ' -- ' + masked.join(' ') : ''}`;
}
