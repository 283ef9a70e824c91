/**
 * CI catches a broken notebook: the quick path of notebooks/00-quickstart runs as
 * a plain script (tsx, OFFSEG_QUICK=1) and, when Jupyter (nbclient) and tslab are installed,
 * its .ipynb is executed headlessly on the tslab kernel; both must leave their artefacts (the
 * list in ./artefacts.ts) in a temporary results folder. dist/lib is rebuilt first if stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../test/helpers/parity.ts';
import { repoRoot } from '../paths.ts';
import { artefactsOf, missingArtefacts } from './artefacts.ts';
import {
  buildNotebookLib,
  executeNotebook,
  jupyterMissing,
  notebookLibStale,
  runNotebookScript,
  writeKernelSpec,
} from './jupyter.ts';

await useBackend('cpu');

const NB = '00-quickstart';
const tmp = mkdtempSync(join(tmpdir(), 'offseg-nb-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const env = { OFFSEG_QUICK: '1', OFFSEG_SKIP_TRAIN: '1' };
const expected = artefactsOf(NB)!;

if (notebookLibStale()) {
  console.log('[notebook] dist/lib is stale: npm run build:notebooks');
  buildNotebookLib();
}

test(`notebooks/${NB}.ts runs as a plain script (quick) and writes its artefacts`, async () => {
  const out = join(tmp, 'script');
  const r = await runNotebookScript(join(repoRoot(), 'notebooks', `${NB}.ts`), {
    env: { ...env, OFFSEG_RESULTS_DIR: out },
  });
  console.log(`[notebook] ${NB} as a script: ${(r.ms / 1000).toFixed(1)} s`);
  assert.ok(r.ok, r.error ?? 'failed');
  assert.deepEqual(missingArtefacts(out, [expected]), []);
  assert.match(readFileSync(join(out, 'report', `${expected.section}.md`), 'utf8'), /measured/);
});

const missing = jupyterMissing();
test(
  `notebooks/${NB}.ipynb executes headlessly on the tslab kernel (Jupyter nbclient)`,
  { skip: missing.length ? `not installed: ${missing.join(', ')}` : false },
  async () => {
    writeKernelSpec();
    const out = join(tmp, 'jupyter');
    const r = await executeNotebook(join(repoRoot(), 'notebooks', `${NB}.ipynb`), {
      outDir: join(out, 'notebooks'),
      env: { ...env, OFFSEG_RESULTS_DIR: out },
      cellTimeout: 600,
    });
    console.log(`[notebook] ${NB} through Jupyter: ${(r.ms / 1000).toFixed(1)} s`);
    assert.ok(r.ok, r.error ?? 'failed');
    assert.deepEqual(missingArtefacts(out, [expected], { executed: true }), []);
    const nb = JSON.parse(readFileSync(join(out, 'notebooks', `${NB}.ipynb`), 'utf8')) as {
      cells: { cell_type: string; outputs?: { output_type: string; data?: object }[] }[];
    };
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
    assert.ok(!outputs.some((o) => o.output_type === 'error'));
    assert.ok(
      outputs.some((o) => o.data && 'image/png' in o.data),
      'the segmentation is displayed inline',
    );
    assert.ok(existsSync(join(out, 'figures', '00_quickstart.png')));
  },
);
