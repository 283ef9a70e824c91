/**
 * `offseg plot-log`: training curves of run folders (loss and lr at every logged iteration, val
 * mIoU at every evaluation) from their log.jsonl, as Plotly HTML + PNG.
 *   offseg plot-log RUN_DIR... [--out STEM] [--title TEXT]
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFigure } from '../report/figure.ts';
import { shownPath } from '../report/paths.ts';
import { trainingCurvesFigure } from '../report/training_curves.ts';
import { readTrainingLog } from '../report/training_log.ts';
import { UserError } from './errors.ts';
import type { Command } from './command.ts';

export const plotLogCommand: Command = {
  summary: 'plot loss, lr and val mIoU curves of run folders (log.jsonl) as HTML + PNG',
  help: [
    '  RUN_DIR...        run folders written by `offseg train` (each holds log.jsonl)',
    '  --out STEM        write STEM.html and STEM.png (default: RUN_DIR/curves for one run;',
    '                    required for several)',
    '  --title TEXT      figure title (default: "Training curves — <run names>")',
    '',
    '  Points are what the run logged: loss and lr every runtime.logInterval iterations, mIoU',
    '  every runtime.evalInterval. The PNG needs Chromium (apt-get install chromium).',
  ].join('\n'),
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        options: { out: { type: 'string' }, title: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    const dirs = parsed.positionals;
    if (!dirs.length)
      throw new UserError(
        'plot-log needs at least one run folder',
        2,
        'npx offseg plot-log work_dirs/<run>',
      );
    for (const d of dirs) {
      if (!existsSync(d) || !statSync(d).isDirectory())
        throw new UserError(`${d} is not a folder`, 2, 'pass run folders written by offseg train');
      if (!existsSync(join(d, 'log.jsonl')))
        throw new UserError(
          `${d} has no log.jsonl`,
          2,
          'pass a run folder written by offseg train (it holds config.json and log.jsonl)',
        );
    }
    if (dirs.length > 1 && !parsed.values.out)
      throw new UserError(
        `${dirs.length} run folders and no --out`,
        2,
        'add --out PATH/curves (writes PATH/curves.html and .png)',
      );
    const logs = dirs.map(readTrainingLog);
    const stem = parsed.values.out ?? join(dirs[0], 'curves');
    const files = await writeFigure(stem, trainingCurvesFigure(logs, parsed.values.title));
    for (const l of logs) {
      const every = l.logInterval ? ` (every ${l.logInterval} iterations)` : '';
      const last = l.train[l.train.length - 1]?.iteration;
      console.log(
        `${l.name}: ${l.train.length} loss/lr points${every}${last !== undefined ? ` up to iteration ${last}${l.iterations ? `/${l.iterations}` : ''}` : ''}, ${l.eval.length} val mIoU point(s)`,
      );
    }
    console.log(
      `wrote ${shownPath(files.html)}${files.png ? ` and ${shownPath(files.png)}` : ' (no PNG: Chromium missing)'}`,
    );
    return 0;
  },
};
