/** Plain tables written as Markdown and CSV (results/tables). Cells carry their provenance. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Cell = string | number | null;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Free text under the table (provenance, conventions). */
  notes?: string[];
}

/** Decimals a number needs, at most 2 (6.2 → 1, 13 → 0, 6.222 → 2). */
function decimals(x: number): number {
  for (let d = 0; d < 2; d++) if (Math.abs(x * 10 ** d - Math.round(x * 10 ** d)) < 1e-9) return d;
  return 2;
}

/**
 * Decimals per column: the most any of its numbers needs (at most 2), so one column is rounded
 * one way (`13.0` beside `6.2`, never `13` beside `6.20`).
 */
export function columnDecimals(t: Table): number[] {
  return t.columns.map((_, j) =>
    t.rows.reduce((d, r) => {
      const c = r[j];
      return typeof c === 'number' && Number.isFinite(c) ? Math.max(d, decimals(c)) : d;
    }, 0),
  );
}

function fmt(c: Cell, d: number): string {
  if (c === null || (typeof c === 'number' && Number.isNaN(c))) return '–';
  if (typeof c === 'number') return c.toFixed(d);
  return c;
}

/** The table as Markdown: `### title`, the grid (numbers rounded per column), notes as a list. */
export function toMarkdown(t: Table): string {
  const dec = columnDecimals(t);
  const head = `| ${t.columns.join(' | ')} |\n|${t.columns.map(() => '---').join('|')}|`;
  const body = t.rows.map((r) => `| ${r.map((c, j) => fmt(c, dec[j])).join(' | ')} |`).join('\n');
  const notes = t.notes?.length ? '\n\n' + t.notes.map((n) => `- ${n}`).join('\n') : '';
  return `### ${t.title}\n\n${head}\n${body}${notes}\n`;
}

/** The table as RFC 4180 CSV, numbers unrounded. */
export function toCsv(t: Table): string {
  const esc = (c: Cell) => {
    const s = c === null ? '' : String(c);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return (
    [t.columns.map(esc).join(','), ...t.rows.map((r) => r.map(esc).join(','))].join('\n') + '\n'
  );
}

/** Write `<dir>/<name>.md` and `<dir>/<name>.csv`. */
export function writeTable(dir: string, name: string, t: Table): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), toMarkdown(t));
  writeFileSync(join(dir, `${name}.csv`), toCsv(t));
}
