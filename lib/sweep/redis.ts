/**
 * The Redis a sweep runs on: URL checks, one probe that turns "unreachable" into a single message
 * naming the URL and how to start a server, and the connection options every queue and worker
 * uses (reconnect every ≤ 2 s, forever, so a restarted Redis is found again within seconds).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobData, RunOutcome } from './spec.ts';

/** Queue name unless `--queue` says otherwise (one Redis can hold several sweeps' queues). */
export const DEFAULT_QUEUE = 'offseg';

/** Thrown when the URL is malformed or nothing answers there; carries the remedy. */
export class RedisUnreachableError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.name = 'RedisUnreachableError';
    this.fix = fix;
  }
}

/**
 * Check the shape of a `--redis` value: `redis://[user:pass@]host:port[/db]` (or rediss://).
 * @throws RedisUnreachableError for anything else.
 */
export function checkRedisUrl(url: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname)
    throw new RedisUnreachableError(
      `--redis takes a URL like redis://127.0.0.1:6379, got '${url}'`,
      'write the scheme, host and port: --redis redis://HOST:PORT',
    );
  return u;
}

/** Options for BullMQ's queues and workers: retry forever with short waits. */
export function connectionOptions(url: string): {
  url: string;
  maxRetriesPerRequest: null;
  retryStrategy: (times: number) => number;
} {
  return {
    url,
    maxRetriesPerRequest: null, // BullMQ's blocking commands require it
    retryStrategy: (times: number) => Math.min(250 * times, 2000),
  };
}

/**
 * Connect once, PING, disconnect.
 * @param timeoutMs how long to wait for a connection (ms).
 * @throws RedisUnreachableError naming the URL and how to start a Redis there.
 */
export async function probeRedis(url: string, timeoutMs = 3000): Promise<void> {
  const u = checkRedisUrl(url);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: (Error & { code?: string }) | undefined;
  client.on('error', (e: Error) => (cause ??= e)); // the socket's error: more telling than connect()'s
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const err = cause ?? (e as Error & { code?: string });
    const reason = err.code ?? err.message;
    const port = u.port || '6379';
    const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname);
    throw new RedisUnreachableError(
      `cannot reach Redis at ${url} (${reason})`,
      local
        ? `start one: redis-server --port ${port} --daemonize yes (Debian: apt-get install redis-server), or pass the URL of a running one with --redis`
        : `check that Redis runs on ${u.hostname}:${port} and accepts connections from this host, or pass another --redis URL`,
    );
  } finally {
    client.disconnect();
  }
}

/** The sweep's BullMQ queue on `url` (close it when done). */
export function openQueue(url: string, name = DEFAULT_QUEUE): Queue<JobData, RunOutcome> {
  const queue = new Queue<JobData, RunOutcome>(name, { connection: connectionOptions(url) });
  // Connection trouble shows in the commands that fail; the client keeps reconnecting.
  queue.on('error', () => {});
  return queue;
}
