/**
 * A real Redis for the sweep tests: Debian's `redis-server` on 127.0.0.1 at a free port, with
 * its data in a temporary folder and an append-only file fsynced on every write, so a restart
 * keeps the queue (as a production Redis with persistence would). Tests skip with one line when
 * the binary is missing (.ci/run installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { probeRedis } from '../../lib/sweep/redis.ts';

/** Path of redis-server on PATH, or undefined. */
export function redisServerPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, 'redis-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** The skip reason of tests that need Redis (false when it is there). */
export function redisSkip(): string | false {
  return redisServerPath()
    ? false
    : 'redis-server not found: apt-get install -y --no-install-recommends redis-server';
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestRedis {
  url: string;
  port: number;
  /** Stop (SIGTERM: the append-only file is flushed) and start again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function waitReady(url: string, deadlineMs: number): Promise<void> {
  for (;;) {
    try {
      await probeRedis(url, 500);
      return;
    } catch (e) {
      if (Date.now() > deadlineMs) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Start a private redis-server (call `stop` in a finally). */
export async function startRedis(): Promise<TestRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server not found');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'offseg-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--logfile',
    '',
  ];
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(bin, args, { stdio: 'ignore' });
    await waitReady(url, Date.now() + 10_000);
  };
  const halt = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await start();
  return {
    url,
    port,
    restart: async () => {
      await halt();
      await start();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a test file that needs Redis: a temporary folder, and (unless `redisSkip()`) a private
 * redis-server started before the file's tests (after `setup`, e.g. choosing a backend); both
 * are removed after them. `redis()` is valid inside the tests.
 */
export function redisTestFixture(
  prefix: string,
  setup: () => Promise<unknown> = async () => undefined,
): { tmp: string; redis: () => TestRedis } {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  let server: TestRedis | undefined;
  before(async () => {
    if (redisSkip()) return;
    await setup();
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  return { tmp, redis: () => server! };
}

/** Write `v` as JSON to `path`, creating its folder. */
export function writeJsonFile(path: string, v: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(v));
}
