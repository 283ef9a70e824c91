/** A progress bar on a terminal (cli-progress), or a plain line every few seconds otherwise. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, fields?: Record<string, string>): void;
  stop(): void;
}

export interface ProgressOptions {
  /**
   * Where the count starts (a resumed run starts at its checkpoint's iteration): the rate, and so
   * the ETA, counts only the steps done since.
   */
  start?: number;
  /** Tests: clock in ms, output sink and whether it is a terminal. */
  now?: () => number;
  write?: (line: string) => void;
  tty?: boolean;
}

export function progressBar(
  total: number,
  label: string,
  fieldsFormat = '',
  opts: ProgressOptions = {},
): Progress {
  const start = opts.start ?? 0;
  if (opts.tty ?? process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} |{bar}| {value}/{total} ${fieldsFormat} | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, start, {});
    return { update: (v, f) => bar.update(v, f ?? {}), stop: () => bar.stop() };
  }
  const now = opts.now ?? Date.now;
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const t0 = now();
  let lastPrint = -Infinity;
  return {
    update(v, f) {
      const t = now();
      if (t - lastPrint < 5000 && v < total) return;
      lastPrint = t;
      const rate = (v - start) / Math.max((t - t0) / 1000, 1e-9);
      const eta = rate > 0 ? `${Math.round((total - v) / rate)}s` : '?';
      let fields = fieldsFormat;
      for (const [k, val] of Object.entries(f ?? {})) fields = fields.replace(`{${k}}`, val);
      write(`${label} ${v}/${total} ${fields} | ETA ${eta}\n`);
    },
    stop() {},
  };
}
