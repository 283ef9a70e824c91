/**
 * The parent side of the case protocol: run `node --import tsx <script> --case <json>` and read
 * the last stdout line as a CaseReport. Each case gets a fresh process so its peak RSS is its
 * own and a case that runs out of memory, crashes or exceeds its cap is reported, not fatal.
 */
import { spawn } from 'node:child_process';
import type { BenchCase, CaseMeasurement, CaseReport } from './cases.ts';

export type CaseOutcome =
  | { status: 'ok'; measurement: CaseMeasurement; wall_s: number }
  | { status: 'failed'; error: string; wall_s: number }
  | { status: 'timeout'; cap_s: number; wall_s: number };

export interface SpawnOptions {
  /** The script that answers `--case <json>` (scripts/bench.ts). */
  script: string;
  timeoutS: number;
  /** Called every `heartbeatS` seconds while the child runs (progress for long cases). */
  onHeartbeat?: (elapsedS: number) => void;
  heartbeatS?: number;
  /** Extra environment for the child. */
  env?: Record<string, string>;
}

/** Parse a child's stdout: its last non-empty line must be one CaseReport JSON object. */
export function parseCaseOutput(stdout: string): CaseReport | undefined {
  const line = stdout.trim().split('\n').pop()?.trim() ?? '';
  if (!line.startsWith('{')) return undefined;
  try {
    const r = JSON.parse(line) as CaseReport;
    return typeof r === 'object' && r !== null && typeof r.ok === 'boolean' ? r : undefined;
  } catch {
    return undefined;
  }
}

export function spawnCase(c: BenchCase, opts: SpawnOptions): Promise<CaseOutcome> {
  const t0 = Date.now();
  const wall = () => (Date.now() - t0) / 1000;
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', opts.script, '--case', JSON.stringify(c)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutS * 1000);
    const beat = opts.onHeartbeat
      ? setInterval(() => opts.onHeartbeat?.(wall()), (opts.heartbeatS ?? 60) * 1000)
      : undefined;
    const finish = (o: CaseOutcome) => {
      clearTimeout(killer);
      if (beat) clearInterval(beat);
      resolve(o);
    };
    child.on('error', (e) => finish({ status: 'failed', error: e.message, wall_s: wall() }));
    child.on('close', (code, signal) => {
      if (timedOut) return finish({ status: 'timeout', cap_s: opts.timeoutS, wall_s: wall() });
      const r = parseCaseOutput(stdout);
      if (r?.ok) {
        const { ok: _ok, ...measurement } = r;
        return finish({ status: 'ok', measurement, wall_s: wall() });
      }
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      const why = r && !r.ok ? r.error : signal ? `killed by ${signal}` : `exit code ${code}`;
      finish({ status: 'failed', error: tail && !r ? `${why}: ${tail}` : why, wall_s: wall() });
    });
  });
}
