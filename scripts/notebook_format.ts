/**
 * The two files of a notebook and the cells they share. `notebooks/NN-name.ts` is percent-format
 * TypeScript (a code cell starts at `// %%`, a Markdown cell at `// %% [markdown]` with `// `
 * comment lines); `notebooks/NN-name.ipynb` is the Jupyter file (tslab kernel). Both hold the
 * same list of cells; what differs (outputs, cell ids, Jupyter's metadata) is the .ipynb's own.
 * The .ipynb records the hash of the cells it was last paired with (metadata.offseg.paired), so
 * scripts/notebooks.ts can tell which side changed since.
 */
import { createHash } from 'node:crypto';

export interface Cell {
  kind: 'markdown' | 'code';
  source: string;
}

/** The parts of an nbformat-4 notebook this tool reads and writes. */
export interface Ipynb {
  cells: IpynbCell[];
  metadata: Record<string, unknown> & { offseg?: PairRecord };
  nbformat: number;
  nbformat_minor: number;
}

export interface IpynbCell {
  cell_type: string;
  id?: string;
  metadata: Record<string, unknown>;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

export interface PairRecord {
  /** The paired source, `NN-name.ts`. */
  source: string;
  /** Hash of the cells both files held when last paired. */
  paired: string;
  note: string;
}

const MARKER = /^\/\/ %%(.*)$/;

function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a].trim() === '') a++;
  while (b > a && lines[b - 1].trim() === '') b--;
  return lines.slice(a, b);
}

/** Blank lines around a cell carry nothing and empty cells are dropped, on both sides. */
function normalise(cells: Cell[]): Cell[] {
  return cells
    .map((c) => ({ kind: c.kind, source: trimBlank(c.source.split('\n')).join('\n') }))
    .filter((c) => c.source.length > 0);
}

/** Split a percent-format source into cells (text before the first marker is a code cell). */
export function parsePercent(text: string): Cell[] {
  const cells: Cell[] = [];
  let kind: Cell['kind'] = 'code';
  let lines: string[] = [];
  const flush = () => {
    const body = trimBlank(lines);
    if (body.length) {
      const src =
        kind === 'markdown'
          ? body.map((l) => l.replace(/^\/\/ ?/, '')).join('\n')
          : body.join('\n');
      cells.push({ kind, source: src });
    }
    lines = [];
  };
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    const m = MARKER.exec(line);
    if (m) {
      flush();
      kind = /\[markdown\]/.test(m[1]) ? 'markdown' : 'code';
    } else lines.push(line);
  }
  flush();
  return normalise(cells);
}

/**
 * The percent-format text of `cells` (parsePercent(toPercent(c)) gives c back).
 * @throws Error when a code cell holds a line that would start a new cell.
 */
export function toPercent(cells: readonly Cell[]): string {
  return (
    cells
      .map((c, i) => {
        if (c.kind === 'markdown')
          return [
            '// %% [markdown]',
            ...c.source.split('\n').map((l) => (l ? `// ${l}` : '//')),
          ].join('\n');
        const bad = c.source.split('\n').find((l) => MARKER.test(l));
        if (bad) throw new Error(`cell ${i}: the line "${bad}" would start a new cell in the .ts`);
        return `// %%\n${c.source}`;
      })
      .join('\n\n') + '\n'
  );
}

/** The cells of a notebook (raw cells count as Markdown), normalised as parsePercent does. */
export function ipynbCells(nb: Ipynb): Cell[] {
  return normalise(
    nb.cells.map((c) => ({
      kind: c.cell_type === 'code' ? 'code' : 'markdown',
      source: (Array.isArray(c.source) ? c.source.join('') : c.source).replace(/\r\n/g, '\n'),
    })),
  );
}

/** A short stable hash of a cell list. */
export function cellsHash(cells: readonly Cell[]): string {
  const h = createHash('sha256');
  for (const c of cells) h.update(`${c.kind}\u0000${c.source}\u0001`);
  return h.digest('hex').slice(0, 16);
}

/** Jupyter keeps a cell's source as lines that end with "\n" (except the last). */
function sourceLines(s: string): string[] {
  const parts = s.split('\n');
  return parts.map((l, i) => (i < parts.length - 1 ? l + '\n' : l));
}

const KERNEL = {
  kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
  language_info: {
    codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
    file_extension: '.ts',
    mimetype: 'text/typescript',
    name: 'typescript',
  },
};

/**
 * The .ipynb of `cells`, paired with `stem`.ts. With `previous`, a cell whose kind and source
 * are unchanged keeps its id, outputs and metadata, and the notebook keeps its own metadata.
 */
export function toIpynb(cells: readonly Cell[], stem: string, previous?: Ipynb): string {
  const slug = stem.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 40);
  const old = previous ? previous.cells.map((c, i) => ({ c, cell: ipynbCellOf(c), i })) : [];
  const used = new Set<number>();
  const out = cells.map((c, i) => {
    const match = old.find(
      (o) => !used.has(o.i) && o.cell?.kind === c.kind && o.cell.source === c.source,
    );
    if (match) used.add(match.i);
    const id = match?.c.id ?? `${slug}-${String(i).padStart(2, '0')}`;
    const metadata = match?.c.metadata ?? {};
    return c.kind === 'markdown'
      ? { cell_type: 'markdown', id, metadata, source: sourceLines(c.source) }
      : {
          cell_type: 'code',
          execution_count: match?.c.execution_count ?? null,
          id,
          metadata,
          outputs: match?.c.outputs ?? [],
          source: sourceLines(c.source),
        };
  });
  const record: PairRecord = {
    source: `${stem}.ts`,
    paired: cellsHash(cells),
    note: 'paired with the .ts by scripts/notebooks.ts: edit either, then run `npm run notebooks -- sync`',
  };
  const nb = {
    cells: out,
    metadata: { ...(previous?.metadata ?? {}), ...KERNEL, offseg: record },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return JSON.stringify(nb, null, 1) + '\n';
}

/** One cell of a notebook as a Cell (undefined for an empty one). */
function ipynbCellOf(c: IpynbCell): Cell | undefined {
  return ipynbCells({ cells: [c], metadata: {}, nbformat: 4, nbformat_minor: 5 })[0];
}
