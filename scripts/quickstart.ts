/**
 * `npm run quickstart`: train OffSeg-T on the built-in dataset with the quick config, evaluate,
 * print the per-class table and mIoU. Each run gets a fresh work dir (nothing is overwritten).
 * Extra arguments are passed to `offseg train` (e.g. --cfg-options schedule.iterations=50).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const config = 'configs/builtin/offseg-t_builtin-64_quickstart.json';
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
let workDir = join('work_dirs', `quickstart-${stamp}`);
for (let i = 1; existsSync(workDir); i++) workDir = join('work_dirs', `quickstart-${stamp}-${i}`);
const t0 = Date.now();
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    'lib/cli/main.ts',
    'train',
    '--config',
    config,
    '--work-dir',
    workDir,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
const minutes = ((Date.now() - t0) / 60000).toFixed(1);
if (r.status === 0)
  console.log(
    `\nquickstart finished in ${minutes} min; run folder: ${workDir} (PROXY result on the built-in dataset, not ADE20K)`,
  );
process.exit(r.status ?? 1);
