/**
 * setupWasm in fresh processes: 2 threads start (with SIMD), 1 thread and OFFSEG_THREADS are
 * honoured, a failing threaded init falls back to 1 thread with a reason, and every process
 * exits by itself (the pthread workers must not keep the event loop alive).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'kernels', 'wasm_probe.ts');

interface Probe {
  threads: number;
  simd: boolean;
  threadsNote?: string;
  backend: string;
  ok: boolean;
}

function probe(opts: object, env: Record<string, string> = {}): { r: Probe; ms: number } {
  const t0 = Date.now();
  const p = spawnSync(process.execPath, ['--import', 'tsx', PROBE, JSON.stringify(opts)], {
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, ...env },
  });
  const ms = Date.now() - t0;
  assert.equal(p.signal, null, `probe killed (${p.signal}) — did it hang on exit?\n${p.stderr}`);
  assert.equal(p.status, 0, p.stderr);
  const line = p.stdout.trim().split('\n').pop() ?? '';
  return { r: JSON.parse(line) as Probe, ms };
}

describe('setupWasm (separate processes)', () => {
  test('2 threads with SIMD; the process exits by itself', () => {
    const { r, ms } = probe({ threads: 2 });
    console.log(`[wasm] 2 threads → ${JSON.stringify(r)} in ${ms} ms`);
    assert.equal(r.backend, 'wasm');
    assert.ok(r.ok);
    if (r.simd) assert.equal(r.threads, 2, r.threadsNote ?? '');
    else assert.equal(r.threads, 1);
  });
  test('1 thread on request and through OFFSEG_THREADS', () => {
    assert.equal(probe({ threads: 1 }).r.threads, 1);
    const { r } = probe({}, { OFFSEG_THREADS: '1' });
    assert.equal(r.threads, 1);
    assert.equal(r.threadsNote, undefined);
  });
  test('a threaded init that fails falls back to 1 thread with a reason', () => {
    const { r } = probe({ threads: 2, initTimeoutMs: 1 });
    console.log(`[wasm] forced failure → ${JSON.stringify(r)}`);
    assert.equal(r.threads, 1);
    assert.ok(r.ok);
    assert.match(r.threadsNote ?? '', /threads disabled|SIMD/);
  });
});
