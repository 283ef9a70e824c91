/**
 * The workspace's own trained models, for notebooks that want to show a real segmentation: run
 * folders written by `offseg train` (e.g. `npm run quickstart` → work_dirs/quickstart-<time>/)
 * that finished, i.e. hold config.json and final.pth.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../config/schema.ts';

export interface TrainedRun {
  dir: string;
  /** final.pth (the model's weights, PyTorch layout). */
  checkpoint: string;
  /** The resolved config the run trained with. */
  config: RunConfig;
  /** Its final val mIoU (final_eval.json), when recorded. */
  mIoU?: number;
  /** When final.pth was written (ms since the epoch). */
  finishedMs: number;
}

/**
 * The most recently finished run under `workDirs` whose folder name starts with `prefix`, or
 * undefined when there is none.
 */
export function latestTrainedRun(workDirs: string, prefix = 'quickstart-'): TrainedRun | undefined {
  if (!existsSync(workDirs)) return undefined;
  const runs = readdirSync(workDirs)
    .filter((d) => d.startsWith(prefix))
    .map((d) => join(workDirs, d))
    .filter((d) => existsSync(join(d, 'final.pth')) && existsSync(join(d, 'config.json')))
    .map((dir) => {
      const evalFile = join(dir, 'final_eval.json');
      const mIoU = existsSync(evalFile)
        ? (JSON.parse(readFileSync(evalFile, 'utf8')) as { mIoU?: number }).mIoU
        : undefined;
      return {
        dir,
        checkpoint: join(dir, 'final.pth'),
        config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RunConfig,
        mIoU,
        finishedMs: statSync(join(dir, 'final.pth')).mtimeMs,
      };
    });
  return runs.sort((a, b) => b.finishedMs - a.finishedMs)[0];
}
