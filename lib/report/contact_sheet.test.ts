/**
 * `offseg browse-dataset`: the sheet shows the training stream's first samples (the loader's
 * order and augmentation), three panels each, a legend of exactly the classes in the labels,
 * and the command writes HTML (+ PNG with Chromium) and refuses a bad --n.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/compose.ts';
import { SegDataLoader } from '../data/loader.ts';
import { buildDatasets, trainPipeline } from '../train/build.ts';
import { browseDatasetCommand } from '../cli/browse_dataset_command.ts';
import { CHROMIUM } from './figure.ts';
import { datasetContactSheet } from './contact_sheet.ts';

const tmp = mkdtempSync(join(tmpdir(), 'offseg-browse-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const CONFIG = 'configs/builtin/offseg-t_builtin-64_quickstart.json';
const SMALL = ['data.dataset.builtin.numTrain=12', 'data.dataset.builtin.numVal=2'];

test('contact sheet: the stream order of training, image|label|overlay, legend = classes shown', async () => {
  const { config } = loadConfig(CONFIG, SMALL);
  const sheet = await datasetContactSheet(config, { n: 5, perRow: 2 });
  const { train } = await buildDatasets(config, ['train']);
  const loader = new SegDataLoader(train!, {
    batchSize: 1,
    seed: config.runtime.seed,
    pipeline: trainPipeline(config),
    prefetch: false,
  });
  const expected = await Promise.all([0, 1, 2, 3, 4].map((k) => loader.sampleAt(k)));
  assert.deepEqual(
    sheet.indices,
    expected.map((s) => s.index),
  );
  const present = new Set(expected.flatMap((s) => [...s.label].filter((v) => v !== 255)));
  assert.deepEqual(
    sheet.classes,
    [...present].sort((a, b) => a - b).map((i) => train!.classes[i]),
  );
  const layout = sheet.figure.layout as { annotations: { text: string }[] };
  const titles = layout.annotations.map((a) => a.text).filter((t) => t.startsWith('<b>'));
  assert.deepEqual(titles, [
    '<b>image</b>',
    '<b>label</b>',
    '<b>overlay</b>',
    '<b>image</b>',
    '<b>label</b>',
    '<b>overlay</b>',
  ]);
  const legend = (sheet.figure.data as { name?: string }[]).slice(1).map((t) => t.name);
  assert.deepEqual(legend, sheet.classes);
});

test('offseg browse-dataset writes the sheet; --n must be a positive integer', async () => {
  const out = join(tmp, 'sheet');
  const log = console.log;
  const lines: string[] = [];
  console.log = (s: string) => lines.push(s);
  try {
    const argv = ['--config', CONFIG, '--n', '2', '--out', out, '--cfg-options', ...SMALL];
    assert.equal(await browseDatasetCommand.run(argv), 0);
  } finally {
    console.log = log;
  }
  assert.match(
    lines[0],
    /^2 samples \(dataset indices \d+, \d+\), crop 64×64, \d+ classes shown: /,
  );
  assert.ok(existsSync(`${out}.html`));
  assert.equal(existsSync(`${out}.png`), existsSync(CHROMIUM));
  await assert.rejects(
    browseDatasetCommand.run(['--config', CONFIG, '--n', '0']),
    /--n must be a positive integer/,
  );
});
