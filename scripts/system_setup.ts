/**
 * The Debian packages `npm run reproduce` needs (Jupyter's executor, the notebook server and
 * Chromium; lib/report/jupyter.ts lists them), installed only with consent: as root it shows
 * what apt would install and asks (or takes `--yes`); anyone else gets the exact command. Never
 * with recommends, never an upgrade of what is installed beyond what apt requires.
 */
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { APT_COMMAND, APT_PACKAGES, jupyterMissing } from '../lib/report/jupyter.ts';

const log = (s: string) => console.log(`[reproduce] ${s}`);

/** apt's own summary of the install ("N newly installed …", download and disk sizes). */
function aptSummary(): string[] {
  const r = spawnSync(
    'apt-get',
    ['install', '--no-install-recommends', '--assume-no', ...APT_PACKAGES],
    { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  return `${r.stdout}`
    .split('\n')
    .filter((l) => /newly installed|^Need to get|^After this operation/.test(l))
    .map((l) => l.trim());
}

function install(): boolean {
  const apt = (a: string[]) => spawnSync('apt-get', a, { stdio: 'inherit' }).status === 0;
  const args = APT_COMMAND.split(' ').slice(1);
  if (apt(args)) return true;
  log('apt-get install failed: refreshing the package lists (apt-get update) and trying again');
  return apt(['update']) && apt(args);
}

/**
 * Make sure the packages are there. Returns false (after saying why and what to run) when they
 * are missing and were not installed.
 */
export async function ensureSystemPackages(opts: { yes: boolean }): Promise<boolean> {
  const missing = jupyterMissing();
  if (!missing.length) return true;
  log(`missing: ${missing.join(', ')}`);
  if (process.getuid?.() !== 0) {
    console.error(
      `reproduce: install them first (as root), then run again:\n  sudo ${APT_COMMAND}\n` +
        '(on a bare Debian 12 that is about 300 packages, 250 MB to download, 920 MB on disk, ' +
        'Chromium ≈ 740 MB of it; far less where a desktop is installed)',
    );
    return false;
  }
  const summary = aptSummary();
  log(`to install: ${APT_COMMAND}`);
  for (const l of summary) log(`  apt: ${l}`);
  let yes = opts.yes;
  if (!yes && process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question('[reproduce] install these packages now? [y/N] ');
    rl.close();
    yes = /^y(es)?$/i.test(answer.trim());
  }
  if (!yes) {
    console.error(
      `reproduce: not installing without consent. Run it yourself:\n  ${APT_COMMAND}\nor re-run with: npm run reproduce -- --yes`,
    );
    return false;
  }
  if (!install()) {
    console.error(`reproduce: apt-get failed; the command was:\n  ${APT_COMMAND}`);
    return false;
  }
  const still = jupyterMissing();
  if (still.length)
    console.error(`reproduce: still missing after the install: ${still.join(', ')}`);
  return still.length === 0;
}
