import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/compose.ts';
import { tempDir } from '../data/testing.ts';
import { REPO_ROOT } from '../../test/helpers/parity.ts';
import { formatUserError } from './errors.ts';
import {
  checkPaletteFits,
  datasetLook,
  paletteForClasses,
  photoTest,
  runModel,
} from './predict_setup.ts';

test('test recipes: the dataset base, a run config, and --mode', () => {
  assert.deepEqual(photoTest('ade20k').inference, {
    mode: 'slide',
    crop: [512, 512],
    stride: [480, 480],
  });
  assert.deepEqual(photoTest('ade20k').pipeline.scale, [2048, 512]);
  assert.deepEqual(photoTest('cityscapes', 'whole').inference, { mode: 'whole' });
  // a dataset tested whole slides with its training crop at stride 3/4 of it
  assert.deepEqual(photoTest('builtin', 'slide').inference, {
    mode: 'slide',
    crop: [128, 128],
    stride: [96, 96],
  });
  const cfg = loadConfig(
    join(REPO_ROOT, 'configs/builtin/offseg-t_builtin-64_quickstart.json'),
  ).config;
  const t = photoTest(cfg);
  assert.deepEqual(t.pipeline.scale, cfg.data.test.scale);
  assert.equal(t.inference.mode, cfg.data.test.mode);
});

test('run folders: config and last checkpoint, or one line saying what is missing', () => {
  const dir = tempDir('offseg-run-');
  assert.match(
    formatUserError(catching(() => runModel(join(dir, 'nope')))),
    /run folder not found/,
  );
  assert.match(
    formatUserError(catching(() => runModel(dir))),
    /is not a run folder \(no config\.json\)/,
  );
  const cfg = loadConfig(
    join(REPO_ROOT, 'configs/builtin/offseg-t_builtin-64_quickstart.json'),
  ).config;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  assert.match(
    formatUserError(catching(() => runModel(dir))),
    /has no checkpoint yet\n {2}fix: wait for its first checkpoint, or pass --checkpoint FILE/,
  );
  writeFileSync(join(dir, 'iter_20.ckpt'), 'x');
  writeFileSync(join(dir, 'last_checkpoint'), 'iter_20.ckpt\n');
  const run = runModel(dir);
  assert.equal(run.checkpoint, join(dir, 'iter_20.ckpt'));
  assert.equal(run.config.model.name, cfg.model.name);
});

test('palettes: chosen by class count, and a mismatch names the palette that fits', async () => {
  assert.equal(paletteForClasses(150), 'ade20k');
  assert.equal(paletteForClasses(171), 'coco-stuff164k');
  assert.equal(paletteForClasses(7), undefined);
  const city = await datasetLook('cityscapes');
  assert.equal(city.classes.length, 19);
  assert.equal(city.palette.length, 19);
  checkPaletteFits(city, 19, 'm');
  assert.equal(
    formatUserError(catching(() => checkPaletteFits(city, 150, 'x.pth'))),
    'offseg: x.pth predicts 150 classes but the cityscapes palette has 19\n' +
      '  fix: use --palette ade20k (150 classes), or --classes 19 if the checkpoint is a cityscapes model\n',
  );
});

function catching(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  assert.fail('no error');
}

test('the built-in look comes from a generated copy with the same glyphs, without generating', async () => {
  const cacheRoot = tempDir('offseg-builtin-look-');
  mkdirSync(join(cacheRoot, 'abc123'));
  const manifest = {
    glyphs: 'procedural',
    classes: ['sky', 'ball'],
    palette: [
      [1, 2, 3],
      [4, 5, 6],
    ],
  };
  writeFileSync(join(cacheRoot, 'abc123', 'builtin.json'), JSON.stringify(manifest));
  const look = await datasetLook('builtin', { cacheRoot, glyphs: 'procedural', seed: 9 });
  assert.deepEqual([look.classes, look.palette], [manifest.classes, manifest.palette]);
});
