/**
 * One section of results/REPORT.md per notebook: each notebook writes
 * results/report/<id>.md and `npm run reproduce` concatenates them in file-name order.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsDir } from './paths.ts';
import { envFlag } from '../env.ts';

/** True under `npm run reproduce -- --quick` (tiny schedules); notebooks shorten their work. */
export function isQuick(): boolean {
  return envFlag('OFFSEG_QUICK');
}

/** True under `npm run reproduce -- --skip-train`: proxy notebooks use cached runs or say so. */
export function skipTrain(): boolean {
  return envFlag('OFFSEG_SKIP_TRAIN');
}

const ID = /^[0-9]{2}[a-z0-9_-]*$/;

/** Write results/report/<id>.md (`## title` + markdown, blank-line runs collapsed); returns the path. */
export function writeSection(id: string, title: string, markdown: string): string {
  if (!ID.test(id)) throw new Error(`writeSection: id "${id}" must look like "01-table2"`);
  const file = join(resultsDir('report'), `${id}.md`);
  writeFileSync(file, `## ${title}\n\n${markdown.trim().replace(/\n{3,}/g, '\n\n')}\n`);
  return file;
}
