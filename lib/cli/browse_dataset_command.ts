/**
 * `offseg browse-dataset`: a contact sheet (image | label | overlay) of the first samples a
 * config's training run sees, after its train pipeline, as Plotly HTML + PNG.
 *   offseg browse-dataset --config FILE [--n 16] [--out STEM] [--cfg-options k=v …]
 */
import { basename, join } from 'node:path';
import { loadConfig } from '../config/compose.ts';
import { writeFigure } from '../report/figure.ts';
import { datasetContactSheet } from '../report/contact_sheet.ts';
import { shownPath } from '../report/paths.ts';
import { intOption, parse, requireString, splitCfgOptions } from './args.ts';
import type { Command } from './command.ts';

export const browseDatasetCommand: Command = {
  summary: 'contact sheet of training samples after the train pipeline (HTML + PNG)',
  help: [
    '  --config FILE          experiment config (its train split, seed and train pipeline)',
    '  --n N                  samples to show (default 16)',
    '  --out STEM             write STEM.html and STEM.png',
    '                         (default: work_dirs/browse_dataset/<config name>)',
    '  --cfg-options k=v …    override config keys, e.g. runtime.seed=1',
    '',
    '  The samples are the first N of the training stream (runtime.seed): what `offseg train`',
    '  would feed first. Dataset folders: OFFSEG_<DATASET>_ROOT as for train.',
  ].join('\n'),
  async run(rawArgv) {
    const { argv, overrides } = splitCfgOptions(rawArgv);
    const v = parse(argv, {
      config: { type: 'string' },
      n: { type: 'string' },
      out: { type: 'string' },
    });
    const file = requireString(v.config, 'config');
    const n = intOption(v.n, 'n', 16);
    const { config } = loadConfig(file, overrides, { env: process.env });
    const sheet = await datasetContactSheet(config, { n });
    const stem =
      typeof v.out === 'string'
        ? v.out
        : join('work_dirs', 'browse_dataset', basename(file).replace(/\.json$/, ''));
    const files = await writeFigure(stem, sheet.figure);
    console.log(
      `${sheet.indices.length} samples (dataset indices ${sheet.indices.join(', ')}), crop ${sheet.crop.join('×')}, ${sheet.classes.length} classes shown: ${sheet.classes.join(', ')}`,
    );
    console.log(
      `wrote ${shownPath(files.html)}${files.png ? ` and ${shownPath(files.png)}` : ' (no PNG: Chromium missing)'}`,
    );
    return 0;
  },
};
