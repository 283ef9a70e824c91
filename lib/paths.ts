/**
 * Where the repository is. Library files run from `lib/` (tsx) and from the compiled copy in
 * `dist/lib/` that the notebooks import, so a fixed `../..` from a file would point to different
 * folders; instead walk up to the package.json of this workspace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Absolute path of the offseg-ts checkout (the folder holding its package.json). */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'offseg-ts')
          return (cached = dir);
      } catch {
        // not ours or unreadable: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the offseg-ts package.json above ' + dir);
    dir = up;
  }
}
