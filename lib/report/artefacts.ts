/**
 * What each notebook must leave in results/: the one list that `npm run reproduce` and the
 * notebook test check. Paths are relative to results/. Edit it
 * when a notebook adds or renames an output.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface NotebookArtefacts {
  /** Notebook stem: notebooks/<notebook>.ts / .ipynb. */
  notebook: string;
  /** results/report/<section>.md. */
  section: string;
  /** results/tables/<name>.csv and .md. */
  tables: readonly string[];
  /** results/figures/<name>.html and .png (Plotly). */
  figures: readonly string[];
  /** results/figures/<name>.png (plain images). */
  images: readonly string[];
}

export const EXPECTED: readonly NotebookArtefacts[] = [
  {
    notebook: '00-quickstart',
    section: '00-quickstart',
    tables: [],
    figures: ['00_quickstart'],
    images: [],
  },
  {
    notebook: '01-table2-offseg',
    section: '01-table2',
    tables: ['table2_offseg', 'table2_offseg_miou'],
    figures: [],
    images: [],
  },
  {
    notebook: '02-table3-segnext',
    section: '02-table3',
    tables: ['table3_segnext', 'table3_segnext_ol_cost', 'table3_segnext_miou'],
    figures: [],
    images: [],
  },
  {
    notebook: '03-table4-segformer',
    section: '03-table4',
    tables: ['table4_segformer', 'table4_segformer_ol_cost', 'table4_segformer_miou'],
    figures: [],
    images: [],
  },
  {
    notebook: '04-table6-components',
    section: '04-table6',
    tables: ['table6_components', 'table6_claims'],
    figures: ['table6_components'],
    images: [],
  },
  {
    notebook: '05-table7-channels',
    section: '05-table7',
    tables: ['table7_channels', 'table7_claims'],
    figures: ['table7_channels'],
    images: [],
  },
  {
    notebook: '06-fig1-tradeoff',
    section: '06-fig1',
    tables: ['fig1_tradeoff'],
    figures: ['fig1_tradeoff'],
    images: [],
  },
  {
    notebook: '07-fig3-ideal-representations',
    section: '07-fig3',
    tables: ['fig3_ideal_representations'],
    figures: ['fig3_ideal_representations'],
    images: [],
  },
  {
    notebook: '08-fig5-qualitative',
    section: '08-fig5',
    tables: [],
    figures: ['fig5_qualitative'],
    images: [],
  },
  {
    notebook: '09-table5-mask2former',
    section: '09-table5',
    tables: ['table5_mask2former', 'table5_mask2former_miou'],
    figures: [],
    images: [],
  },
];

/** The files (relative to results/) one notebook must produce. */
export function expectedFiles(a: NotebookArtefacts, opts: { executed?: boolean } = {}): string[] {
  return [
    `report/${a.section}.md`,
    ...a.tables.flatMap((t) => [`tables/${t}.csv`, `tables/${t}.md`]),
    ...a.figures.flatMap((f) => [`figures/${f}.html`, `figures/${f}.png`]),
    ...a.images.map((f) => `figures/${f}.png`),
    ...(opts.executed ? [`notebooks/${a.notebook}.ipynb`] : []),
  ];
}

/** Expected files missing under `resultsDir`. */
export function missingArtefacts(
  resultsDir: string,
  which: readonly NotebookArtefacts[] = EXPECTED,
  opts: { executed?: boolean } = {},
): string[] {
  return which
    .flatMap((a) => expectedFiles(a, opts))
    .filter((f) => !existsSync(join(resultsDir, f)));
}

/** The entry of a notebook stem, if listed. */
export function artefactsOf(notebook: string): NotebookArtefacts | undefined {
  return EXPECTED.find((a) => a.notebook === notebook);
}
