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

function fmt(c: Cell): string {
  if (c === null || (typeof c === 'number' && Number.isNaN(c))) return '–';
  if (typeof c === 'number') return Number.isInteger(c) ? String(c) : c.toFixed(2);
  return c;
}

export function toMarkdown(t: Table): string {
  const head = `| ${t.columns.join(' | ')} |\n|${t.columns.map(() => '---').join('|')}|`;
  const body = t.rows.map((r) => `| ${r.map(fmt).join(' | ')} |`).join('\n');
  const notes = t.notes?.length ? '\n\n' + t.notes.map((n) => `- ${n}`).join('\n') : '';
  return `### ${t.title}\n\n${head}\n${body}${notes}\n`;
}

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
