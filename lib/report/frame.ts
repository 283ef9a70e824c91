/**
 * Tables as danfojs DataFrames: results/tables/<name>.csv goes through the
 * DataFrame, <name>.md through ./table.ts. danfojs-node is loaded lazily: it pulls in the full
 * tfjs package (through the npm overrides in package.json), which only registers
 * backends and must not be loaded by code that never makes a table.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DataFrame } from 'danfojs-node';
import { resultsDir } from './paths.ts';
import { toMarkdown, type Cell, type Table } from './table.ts';

type Danfo = typeof import('danfojs-node');
let danfo: Danfo | undefined;
function dfd(): Danfo {
  danfo ??= createRequire(import.meta.url)('danfojs-node') as Danfo;
  return danfo;
}

const TAG = /\((measured|proxy|quoted)\)$/;

/** Numeric columns must say where their numbers come from: every cell is tagged. */
export function checkProvenance(t: Table): void {
  t.columns.forEach((c, j) => {
    const numeric = t.rows.some((r) => typeof r[j] === 'number');
    if (numeric && !TAG.test(c))
      throw new Error(
        `table "${t.title}": numeric column "${c}" must end with (measured), (proxy) or (quoted)`,
      );
  });
}

/** A DataFrame with the table's columns; null and NaN cells become NaN. */
export function toDataFrame(t: Table): DataFrame {
  const rows = t.rows.map((r) => r.map((c: Cell) => (c === null ? NaN : c)));
  return new (dfd().DataFrame)(rows, { columns: t.columns });
}

/** RFC 4180 quoting: danfojs's toCSV joins cells with "," and quotes nothing. */
function quote(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text of a table, produced by danfojs (NaN cells left empty, text cells quoted). */
export function frameCsv(t: Table): string {
  const quoted: Table = {
    title: t.title,
    columns: t.columns.map(quote),
    rows: t.rows.map((r) => r.map((c) => (typeof c === 'string' ? quote(c) : c))),
  };
  const csv = dfd().toCSV(toDataFrame(quoted)) as string;
  const lines = csv.replace(/\r\n/g, '\n').trimEnd().split('\n');
  return lines.map((l) => l.replace(/(^|,)NaN(?=,|$)/g, '$1')).join('\n') + '\n';
}

/** Write results/tables/<name>.csv (via danfojs) and <name>.md; returns both paths. */
export function saveTable(name: string, t: Table): { csv: string; md: string } {
  checkProvenance(t);
  const dir = resultsDir('tables');
  const csv = join(dir, `${name}.csv`);
  const md = join(dir, `${name}.md`);
  writeFileSync(csv, frameCsv(t));
  writeFileSync(md, toMarkdown(t));
  return { csv, md };
}
