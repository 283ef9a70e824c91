/**
 * Two-way pairing of the notebooks: `notebooks/NN-name.ts` (percent format, what the type check,
 * the tests and git diffs read) and `notebooks/NN-name.ipynb` (what Jupyter opens). Edit either;
 * `sync` carries the edit to the other file, and never overwrites an edit silently:
 *   - only the .ts changed since the last pairing   → the .ipynb is rewritten (outputs of
 *     unchanged cells kept);
 *   - only the .ipynb changed (edited in Jupyter)    → the .ts is rewritten from it;
 *   - both changed                                   → conflict: nothing is written, the differing
 *     cells are named, and `--take ts|ipynb` picks a side.
 * The last pairing is the cell hash the .ipynb records (metadata.offseg.paired). A new .ipynb
 * with no .ts (a notebook started in Jupyter) gets its .ts.
 *   tsx scripts/notebooks.ts sync [--take ts|ipynb] [NN ...]   (npm run notebooks -- sync)
 *   tsx scripts/notebooks.ts check                             exit 1 unless all are paired
 * `npm test`, `npm run typecheck` and `npm run reproduce` run `sync` first.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cellsHash,
  ipynbCells,
  parsePercent,
  toIpynb,
  toPercent,
  type Cell,
  type Ipynb,
} from './notebook_format.ts';

export { parsePercent, toIpynb, toPercent } from './notebook_format.ts';

/** Notebook stems: `NN-name`, two digits first (the runner executes them in that order). */
export const NOTEBOOK_STEM = /^[0-9]{2}-[a-z0-9_-]+$/;

export type PairState =
  | 'paired'
  | 'new-ipynb' // a .ts without .ipynb
  | 'new-ts' // an .ipynb without .ts
  | 'ts-changed'
  | 'ipynb-changed'
  | 'conflict';

export interface Pair {
  stem: string;
  state: PairState;
  /** What differs, for messages (e.g. "cells 3, 5"). */
  detail: string;
}

/** Every notebook stem in `dir` (from .ts and .ipynb files), in execution order. */
export function notebookStems(dir: string): string[] {
  const stems = readdirSync(dir)
    .filter((f) => /\.(ts|ipynb)$/.test(f))
    .map((f) => f.replace(/\.(ts|ipynb)$/, ''))
    .filter((s) => NOTEBOOK_STEM.test(s));
  return [...new Set(stems)].sort();
}

/** Every notebook source in `dir`, in execution order (absolute .ts paths). */
export function notebookSources(dir: string): string[] {
  return notebookStems(dir)
    .map((s) => join(dir, `${s}.ts`))
    .filter(existsSync);
}

function readIpynb(file: string): Ipynb {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Ipynb;
  } catch (e) {
    throw new Error(`${file} is not a readable notebook: ${(e as Error).message}`);
  }
}

/** "cells 2, 5 (of 12)" or "cell count 12 → 13". */
function differing(a: readonly Cell[], b: readonly Cell[]): string {
  const n = Math.max(a.length, b.length);
  const idx: number[] = [];
  for (let i = 0; i < n; i++)
    if (a[i]?.kind !== b[i]?.kind || a[i]?.source !== b[i]?.source) idx.push(i);
  const count =
    a.length === b.length ? '' : ` (cell count ${a.length} in the .ts, ${b.length} in the .ipynb)`;
  return `cell${idx.length > 1 ? 's' : ''} ${idx.slice(0, 8).join(', ')}${idx.length > 8 ? ', …' : ''}${count}`;
}

/** The pairing state of one notebook. */
export function pairState(dir: string, stem: string): Pair {
  const ts = join(dir, `${stem}.ts`);
  const ipynb = join(dir, `${stem}.ipynb`);
  if (!existsSync(ipynb)) return { stem, state: 'new-ipynb', detail: 'no .ipynb yet' };
  if (!existsSync(ts)) return { stem, state: 'new-ts', detail: 'no .ts yet' };
  const nb = readIpynb(ipynb);
  const a = parsePercent(readFileSync(ts, 'utf8'));
  const b = ipynbCells(nb);
  const record = nb.metadata?.offseg?.paired;
  const [ha, hb] = [cellsHash(a), cellsHash(b)];
  if (ha === hb) return { stem, state: 'paired', detail: record === ha ? '' : 'record refreshed' };
  const detail = differing(a, b);
  if (!record) return { stem, state: 'conflict', detail: `${detail}; no pairing record` };
  if (hb === record) return { stem, state: 'ts-changed', detail };
  if (ha === record) return { stem, state: 'ipynb-changed', detail };
  return { stem, state: 'conflict', detail };
}

export interface SyncOptions {
  /** Write the files (false: only report). */
  write: boolean;
  /** Resolve conflicts (and any difference) in favour of one side. */
  take?: 'ts' | 'ipynb';
  /** Only these stems or two-digit numbers. */
  only?: readonly string[];
  log?: (line: string) => void;
}

export interface SyncResult {
  pairs: Pair[];
  /** Files written. */
  wrote: string[];
  /** Notebooks left unresolved (both sides changed). */
  conflicts: Pair[];
}

/** Bring every notebook's two files together (see the file header for the rules). */
export function syncNotebooks(dir: string, opts: SyncOptions): SyncResult {
  const log = opts.log ?? (() => undefined);
  const pick = (s: string) => !opts.only || opts.only.some((o) => s === o || s.startsWith(`${o}-`));
  const out: SyncResult = { pairs: [], wrote: [], conflicts: [] };
  for (const stem of notebookStems(dir).filter(pick)) {
    const p = pairState(dir, stem);
    out.pairs.push(p);
    const ts = join(dir, `${stem}.ts`);
    const ipynb = join(dir, `${stem}.ipynb`);
    let from: 'ts' | 'ipynb' | undefined =
      p.state === 'new-ipynb' || p.state === 'ts-changed'
        ? 'ts'
        : p.state === 'new-ts' || p.state === 'ipynb-changed'
          ? 'ipynb'
          : undefined;
    if (p.state === 'conflict') {
      if (opts.take) from = opts.take;
      else {
        out.conflicts.push(p);
        log(
          `${stem}: the .ts and the .ipynb both changed since they were last paired (${p.detail}); nothing written. Keep one side: npm run notebooks -- sync --take ipynb ${stem.slice(0, 2)}   (or --take ts)`,
        );
        continue;
      }
    }
    if (p.state === 'paired' && p.detail && opts.write) {
      // Same cells, record missing or stale: write the record, nothing else changes.
      const nb = readIpynb(ipynb);
      writeFileSync(ipynb, toIpynb(ipynbCells(nb), stem, nb));
      continue;
    }
    if (!from) continue;
    const prev = existsSync(ipynb) ? readIpynb(ipynb) : undefined;
    const cells = from === 'ts' ? parsePercent(readFileSync(ts, 'utf8')) : ipynbCells(prev!);
    const target = from === 'ts' ? ipynb : ts;
    log(
      `${stem}: ${from === 'ts' ? '.ts → .ipynb' : '.ipynb → .ts'} (${p.state}${p.detail ? `: ${p.detail}` : ''})${opts.write ? '' : ' [not written: check only]'}`,
    );
    if (!opts.write) continue;
    if (from === 'ipynb') writeFileSync(ts, toPercent(cells));
    writeFileSync(ipynb, toIpynb(cells, stem, prev));
    out.wrote.push(target);
  }
  return out;
}

function main(argv: string[]): number {
  const dir = join(fileURLToPath(new URL('..', import.meta.url)), 'notebooks');
  const [cmd, ...rest] = argv;
  const takeAt = rest.indexOf('--take');
  const take = takeAt >= 0 ? rest[takeAt + 1] : undefined;
  const only = rest.filter((a, i) => !a.startsWith('--') && i !== takeAt + 1);
  const check = cmd === 'check' || rest.includes('--check');
  if (
    (cmd !== 'sync' && cmd !== 'check') ||
    (take !== undefined && take !== 'ts' && take !== 'ipynb')
  ) {
    console.error('Usage: tsx scripts/notebooks.ts sync [--take ts|ipynb] [NN ...] | check');
    return 2;
  }
  const r = syncNotebooks(dir, {
    write: !check,
    take: take as 'ts' | 'ipynb' | undefined,
    only: only.length ? only : undefined,
    log: (l) => console.log(`notebooks: ${l}`),
  });
  if (r.conflicts.length) return 1;
  const pending = r.pairs.filter((p) => p.state !== 'paired');
  if (check && pending.length) {
    console.error(`notebooks: ${pending.length} not paired: npm run notebooks -- sync`);
    return 1;
  }
  console.log(
    `notebooks: ${r.pairs.length} paired${r.wrote.length ? `; wrote ${r.wrote.map((f) => basename(f)).join(', ')}` : ''}`,
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]))
  process.exit(main(process.argv.slice(2)));
