/** A progress bar on a terminal (cli-progress), or a plain line every few seconds otherwise. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, fields?: Record<string, string>): void;
  stop(): void;
}

export function progressBar(total: number, label: string, fieldsFormat = ''): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} |{bar}| {value}/{total} ${fieldsFormat} | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, {});
    return { update: (v, f) => bar.update(v, f ?? {}), stop: () => bar.stop() };
  }
  const t0 = Date.now();
  let lastPrint = 0;
  return {
    update(v, f) {
      const now = Date.now();
      if (now - lastPrint < 5000 && v < total) return;
      lastPrint = now;
      const rate = v / Math.max((now - t0) / 1000, 1e-9);
      const eta = rate > 0 ? Math.round((total - v) / rate) : NaN;
      let fields = fieldsFormat;
      for (const [k, val] of Object.entries(f ?? {})) fields = fields.replace(`{${k}}`, val);
      process.stderr.write(`${label} ${v}/${total} ${fields} | ETA ${eta}s\n`);
    },
    stop() {},
  };
}
