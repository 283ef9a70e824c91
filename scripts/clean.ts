/**
 * The folders runs and notebooks leave behind, with their size and what it costs to lose them.
 *   npm run clean              remove what is cheap to rebuild (caches, quick-mode results)
 *   npm run clean -- --all     also training runs and pretrained proxy backbones (hours to redo)
 *   npm run clean -- --dry-run only list
 * `npm run reproduce` prints the same list at its end.
 */
import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Generated {
  /** Relative to the checkout. */
  path: string;
  what: string;
  /** Removed by a plain `npm run clean` (cheap to rebuild). */
  cheap: boolean;
}

export const GENERATED: readonly Generated[] = [
  { path: 'results/quick', what: 'quick-mode results (numbers not meaningful)', cheap: true },
  { path: '.cache/complexity', what: 'traced params/FLOPs (minutes to redo)', cheap: true },
  { path: '.cache/builtin', what: 'generated built-in dataset images', cheap: true },
  { path: '.cache/notebook-check', what: 'notebook copies for the type check', cheap: true },
  { path: 'work_dirs/browse_dataset', what: 'offseg browse-dataset sheets', cheap: true },
  { path: '.cache/jupyter', what: 'tslab kernel spec (rewritten by reproduce)', cheap: true },
  {
    path: 'work_dirs',
    what: 'training runs (checkpoints; proxy runs are reused by Figs. 3 and 5, quickstart by notebook 00)',
    cheap: false,
  },
  { path: '.cache/proxy', what: 'pretrained proxy backbones (hours to retrain)', cheap: false },
];

/** Bytes under `p` (symlinks not followed). */
export function folderBytes(p: string): number {
  if (!existsSync(p)) return 0;
  const s = lstatSync(p);
  if (!s.isDirectory()) return s.size;
  return readdirSync(p).reduce((n, f) => n + folderBytes(join(p, f)), 0);
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  return `${Math.ceil(n / 1e3)} kB`;
}

/** One line per existing folder: path, size, what it is (nested folders are not counted twice). */
export function describeGenerated(root: string): string[] {
  return GENERATED.filter((g) => existsSync(join(root, g.path))).map((g) => {
    const inner = GENERATED.filter((o) => o !== g && o.path.startsWith(`${g.path}/`));
    const bytes =
      folderBytes(join(root, g.path)) -
      inner.reduce((n, o) => n + folderBytes(join(root, o.path)), 0);
    return `${g.path}/ ${formatBytes(bytes)}${inner.length ? ' (besides the above)' : ''}: ${g.what}`;
  });
}

function main(argv: string[]): number {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const all = argv.includes('--all');
  const dry = argv.includes('--dry-run');
  const targets = GENERATED.filter((g) => (all || g.cheap) && existsSync(join(root, g.path)));
  for (const line of describeGenerated(root)) console.log(`  ${line}`);
  if (!targets.length) {
    console.log('clean: nothing to remove');
    return 0;
  }
  const freed = targets.reduce((n, g) => n + folderBytes(join(root, g.path)), 0);
  if (dry) {
    console.log(
      `clean: would remove ${targets.map((g) => g.path).join(', ')} (${formatBytes(freed)})`,
    );
    return 0;
  }
  for (const g of targets) rmSync(join(root, g.path), { recursive: true, force: true });
  console.log(
    `clean: removed ${targets.map((g) => g.path).join(', ')} (${formatBytes(freed)})${all ? '' : '; --all also removes work_dirs/ and .cache/proxy'}`,
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]))
  process.exit(main(process.argv.slice(2)));
