/**
 * Headless Jupyter for the notebooks: Debian's nbclient (the executor behind
 * `jupyter nbconvert --execute`, python at /usr/bin/python3) running notebooks
 * on the tslab kernel, whose spec is written inside the checkout (.cache/jupyter, passed as
 * JUPYTER_PATH) so nothing is registered for the user. Also runs a notebook source as a plain
 * script (tsx).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { repoRoot } from '../paths.ts';

export const PYTHON = '/usr/bin/python3';
/** The notebook server the README tells users to open (`jupyter notebook notebooks/`). */
export const NOTEBOOK_SERVER = '/usr/bin/jupyter-notebook';
export const CHROMIUM_BIN = '/usr/bin/chromium';
/**
 * The minimum for headless runs, the notebook server and PNG figures (Debian 12 names). Installed
 * without recommends: those pull in desktop services (avahi, cups helpers, samba libraries,
 * pandoc…) that none of this needs.
 */
export const APT_PACKAGES = [
  'jupyter-notebook',
  'python3-nbclient',
  'python3-nbformat',
  'chromium',
];
export const APT_COMMAND = `apt-get install -y --no-install-recommends ${APT_PACKAGES.join(' ')}`;

/** What is missing for headless execution, the notebook server and figures (empty = ready). */
export function jupyterMissing(): string[] {
  const missing: string[] = [];
  if (!existsSync(NOTEBOOK_SERVER)) missing.push(`${NOTEBOOK_SERVER} (jupyter-notebook)`);
  if (!existsSync(PYTHON)) missing.push(PYTHON);
  else if (spawnSync(PYTHON, ['-c', 'import nbclient, nbformat'], { stdio: 'ignore' }).status !== 0)
    missing.push('python3-nbclient / python3-nbformat');
  if (!existsSync(CHROMIUM_BIN)) missing.push(`${CHROMIUM_BIN} (chromium)`);
  return missing;
}

/** The folder given to Jupyter as JUPYTER_PATH (holds kernels/tslab/kernel.json). */
export function jupyterPath(): string {
  return join(repoRoot(), '.cache', 'jupyter');
}

/** Write the tslab kernel spec for this checkout; returns its path. */
export function writeKernelSpec(): string {
  const tslab = join(repoRoot(), 'node_modules', '.bin', 'tslab');
  if (!existsSync(tslab)) throw new Error(`${tslab} not found: run npm ci first`);
  const dir = join(jupyterPath(), 'kernels', 'tslab');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kernel.json');
  const spec = {
    argv: [tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript',
    language: 'typescript',
  };
  writeFileSync(file, JSON.stringify(spec, null, 1) + '\n');
  return file;
}

export interface RunResult {
  ok: boolean;
  ms: number;
  /** On failure: the failing cell and the error, as nbconvert / the script reported them. */
  error?: string;
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  echo: boolean,
): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: repoRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (b: Buffer, to: NodeJS.WriteStream) => {
      out = (out + b.toString()).slice(-200_000);
      if (echo) to.write(b);
    };
    p.stdout.on('data', (b: Buffer) => keep(b, process.stdout));
    p.stderr.on('data', (b: Buffer) => keep(b, process.stderr));
    p.on('close', (code) => {
      const ms = Date.now() - t0;
      resolve(code === 0 ? { ok: true, ms } : { ok: false, ms, error: failure(out, code) });
    });
  });
}

/** The useful part of a failure: the runner's failing-cell block, else the output's tail. */
export function failure(output: string, code: number | null): string {
  const at = output.indexOf('OFFSEG_CELL_FAILED');
  const text = at >= 0 ? output.slice(at) : output;
  const lines = text.trimEnd().split('\n');
  const shown = at >= 0 ? lines.slice(0, 80) : lines.slice(-40);
  return `${shown.join('\n')}\n(exit code ${code})`;
}

export interface ExecuteOptions {
  /** Folder for the executed copy (same file name); written even when a cell fails. */
  outDir: string;
  env?: NodeJS.ProcessEnv;
  /** Per-cell timeout in seconds. */
  cellTimeout?: number;
  /** Echo the runner's output. */
  echo?: boolean;
}

/**
 * nbclient (what `jupyter nbconvert --execute` runs) driven directly: tslab reports a failing
 * cell's error on the cell's stderr stream with an empty error reply, so nbconvert's message
 * shows the cell but not the error. This runner prints the cell, its outputs and the error,
 * and keeps the executed copy (outputs up to the failure) for inspection.
 */
const RUNNER = `
import os, sys, nbformat
from nbclient import NotebookClient
src, out, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(src, as_version=4)
current = {}
def on_start(cell, cell_index, **_):
    current['i'] = cell_index
client = NotebookClient(nb, kernel_name='tslab', timeout=timeout, on_cell_start=on_start,
    resources={'metadata': {'path': os.path.dirname(os.path.abspath(src))}})
code = 0
try:
    client.execute()
except BaseException as e:
    code = 1
    i = current.get('i')
    lines = ['OFFSEG_CELL_FAILED: cell %s of %s' % (i, os.path.basename(src))]
    if i is not None:
        cell = nb.cells[i]
        lines += ['------------------ cell source', cell.source, '------------------ cell output']
        for o in cell.get('outputs', []):
            if o.get('output_type') == 'stream':
                lines.append(o.get('text', '').rstrip())
            elif o.get('output_type') == 'error':
                lines.append('%s: %s' % (o.get('ename'), o.get('evalue')))
                lines += o.get('traceback', [])
    lines += ['------------------ runner', '%s: %s' % (type(e).__name__, str(e).strip().splitlines()[-1] if str(e).strip() else '')]
    sys.stderr.write('\\n'.join(lines) + '\\n')
finally:
    nbformat.write(nb, out)
sys.exit(code)
`;

/** Execute one .ipynb headlessly on the tslab kernel; the executed copy goes to outDir. */
export function executeNotebook(ipynb: string, opts: ExecuteOptions): Promise<RunResult> {
  mkdirSync(opts.outDir, { recursive: true });
  const out = join(opts.outDir, basename(ipynb));
  const args = ['-c', RUNNER, ipynb, out, String(opts.cellTimeout ?? 3600)];
  const env = { ...process.env, ...opts.env, JUPYTER_PATH: jupyterPath() };
  return run(PYTHON, args, env, opts.echo ?? false);
}

/** Run a notebook source as a plain Node script (`node --import tsx notebooks/NN-x.ts`). */
export function runNotebookScript(
  ts: string,
  opts: { env?: NodeJS.ProcessEnv; echo?: boolean } = {},
): Promise<RunResult> {
  const env = { ...process.env, ...opts.env };
  return run(process.execPath, ['--import', 'tsx', ts], env, opts.echo ?? false);
}

function newestMtime(dir: string, keep: (f: string) => boolean): number {
  let t = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const s = statSync(p);
    if (s.isDirectory()) t = Math.max(t, newestMtime(p, keep));
    else if (keep(f)) t = Math.max(t, s.mtimeMs);
  }
  return t;
}

/** True when dist/lib (what the notebooks import) is missing or older than a lib/ source. */
export function notebookLibStale(): boolean {
  const dist = join(repoRoot(), 'dist', 'lib');
  if (!existsSync(join(dist, 'models', 'registry.js'))) return true;
  const src = newestMtime(
    join(repoRoot(), 'lib'),
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  );
  return src > newestMtime(dist, (f) => f.endsWith('.js'));
}

/** `npm run build:notebooks` (scripts/build-notebook-lib.mjs); throws if it fails. */
export function buildNotebookLib(): void {
  const r = spawnSync(process.execPath, ['scripts/build-notebook-lib.mjs'], {
    cwd: repoRoot(),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error('npm run build:notebooks failed (see above)');
}
