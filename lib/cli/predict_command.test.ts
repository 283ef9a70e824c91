/**
 * `offseg predict`: one folder run as a user runs it (a child process) — good photos segmented
 * at their own (EXIF-rotated) size with the label map equal to the tensor recipe's, bad files
 * reported with their fix and skipped, exit code 1 — and the bad inputs that stop a run before
 * any photo, called in-process (main.ts turns the UserError into the line and exit code 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { REPO_ROOT } from '../../test/helpers/parity.ts';
import { switchBackend } from '../../test/helpers/backends.ts';
import { createModel } from '../models/registry.ts';
import { exportPth } from '../io/checkpoint.ts';
import { decodePngLabel } from '../data/png.ts';
import { randomRgb, tempDir } from '../data/testing.ts';
import { rescaleSize, resizeBilinearRgb } from '../data/transforms/geometric.ts';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeInto } from '../data/transforms/pipeline.ts';
import { argmaxLabels, predictLogits } from '../eval/inference.ts';
import { formatUserError } from './errors.ts';
import { predictCommand } from './predict_command.ts';

await switchBackend('wasm');

const dir = tempDir('offseg-predict-');
const ckpt = join(dir, 'segformer-b0_k150.pth');
const model = createModel('segformer-b0', { numClasses: 150, seed: 3 });
exportPth(model, ckpt);

/** A smooth random photo (blurred noise), so the labels form regions. */
async function photo(w: number, h: number, seed: number): Promise<Sharp> {
  return sharp(Buffer.from(randomRgb(w, h, seed)), {
    raw: { width: w, height: h, channels: 3 },
  }).blur(3);
}

const folder = join(dir, 'photos');
mkdirSync(folder);
// stored 72×48 with EXIF orientation 6: a portrait 48×72 photo once rotated
writeFileSync(
  join(folder, 'portrait.jpg'),
  await (await photo(72, 48, 1)).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer(),
);
writeFileSync(join(folder, 'wide.png'), await (await photo(90, 40, 2)).png().toBuffer());
writeFileSync(join(folder, 'notes.jpg'), 'this is a text file with a .jpg name\n');
const whole = await (await photo(64, 64, 3)).jpeg().toBuffer();
writeFileSync(join(folder, 'cut.jpg'), whole.subarray(0, whole.length >> 1));
writeFileSync(join(folder, 'tiny.png'), await (await photo(20, 12, 4)).png().toBuffer());

/** The label map by the tensor recipe: whole-image logits at the photo size, argmax. */
async function reference(file: string): Promise<{ labels: Int32Array; w: number; h: number }> {
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const img = { data: new Uint8Array(data), width: info.width, height: info.height };
  const [w, h] = rescaleSize(img.width, img.height, [2048, 512]);
  const x = resizeBilinearRgb(img, w, h);
  const t = tf.tensor4d(normalizeInto(x, IMAGENET_MEAN, IMAGENET_STD), [1, h, w, 3]);
  const logits = predictLogits(model.eval(), t, [img.height, img.width], { mode: 'whole' });
  const labels = await argmaxLabels(logits);
  tf.dispose([t, logits]);
  return { labels, w: img.width, h: img.height };
}

test('predict on a folder: good photos segmented, bad ones reported and skipped, exit 1', async (t) => {
  const out = join(dir, 'out');
  const r = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, 'bin/offseg.mjs'),
      'predict',
      '--model',
      'segformer-b0',
      '--checkpoint',
      ckpt,
      '--palette',
      'ade20k',
      '--mode',
      'whole',
      '--input',
      folder,
      '--output',
      out,
      '--json',
      '--engine',
      'tfjs',
      '--backend',
      'wasm',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stderr);
  const err = r.stderr;
  assert.match(err, /2 of 5 images segmented into .*out; 3 failed/);
  assert.match(err, /notes\.jpg is not an image \(.*\)\n {2}fix: give a JPEG, PNG or WebP file/);
  assert.match(
    err,
    /cut\.jpg is truncated or corrupt \(jpeg: .*\)\n {2}fix: copy or export the image again/,
  );
  assert.match(err, /tiny\.png is 20×12 px, smaller than 32 px, the size divisor of segformer-b0/);
  for (const [name, file] of [
    ['portrait', 'portrait.jpg'],
    ['wide', 'wide.png'],
  ]) {
    const png = decodePngLabel(readFileSync(join(out, 'pred', `${name}.png`)));
    const ref = await reference(join(folder, file));
    assert.deepEqual([png.width, png.height], [ref.w, ref.h], name);
    let diff = 0;
    for (let i = 0; i < ref.labels.length; i++) if (png.data[i] !== ref.labels[i]) diff++;
    // the tensor recipe resizes with XNNPACK on wasm, the host recipe in doubles: a pixel may
    // flip where two classes tie to within float32 rounding
    assert.ok(diff <= ref.labels.length * 0.001, `${name}: ${diff} of ${ref.labels.length} differ`);
    t.diagnostic(`${name}: ${diff} of ${ref.labels.length} labels differ from the tensor recipe`);
    const vis = await sharp(join(out, 'vis', `${name}.jpg`)).metadata();
    assert.deepEqual([vis.width, vis.height], [ref.w, ref.h]);
    const json = JSON.parse(readFileSync(join(out, 'pred', `${name}.json`), 'utf8')) as {
      classes: { id: number; pixels: number; share: number }[];
      model: string;
    };
    assert.equal(json.model, 'segformer-b0');
    assert.equal(
      json.classes.reduce((s, c) => s + c.pixels, 0),
      ref.w * ref.h,
    );
  }
  assert.equal(existsSync(join(out, 'pred', 'notes.png')), false);
});

async function failure(args: string[]): Promise<string> {
  try {
    await predictCommand.run(args);
  } catch (e) {
    return formatUserError(e as Error);
  }
  assert.fail(`no error for ${args.join(' ')}`);
}

test('bad inputs that stop a run: one line naming the file and the fix', async () => {
  const base = ['--model', 'segformer-b0', '--checkpoint', ckpt, '--engine', 'tfjs'];
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'readme.txt'), 'no photos here');
  assert.match(
    await failure([...base, '--input', join(dir, 'missing.jpg')]),
    /^offseg: input not found: .*missing\.jpg\n {2}fix: check --input\n$/,
  );
  assert.match(
    await failure([...base, '--input', empty]),
    /^offseg: no images in .*empty \(looked for \.jpg .*\)\n {2}fix: point --input at an image or a folder of images\n$/,
  );
  assert.match(
    await failure([...base, '--input', join(folder, 'notes.jpg')]),
    /^offseg: .*notes\.jpg is not an image/,
  );
  assert.match(
    await failure([...base, '--classes', '150', '--palette', 'cityscapes', '--input', folder]),
    /--model segformer-b0 --classes 150 predicts 150 classes but the cityscapes palette has 19\n {2}fix: use --palette ade20k \(150 classes\)/,
  );
  // the palette's class count (19) does not fit a 150-class checkpoint
  assert.match(
    await failure([...base, '--palette', 'cityscapes', '--input', folder]),
    /k150\.pth: shape mismatch .*checkpoint \[150,256,1,1\] vs model \[19,256,1,1\].*\n {2}fix: .*check --model\/--classes/,
  );
  const notOnnx = join(dir, 'model.onnx');
  writeFileSync(notOnnx, 'garbage');
  assert.match(
    await failure(['--onnx', notOnnx, '--input', folder]),
    /model\.onnx is not a readable ONNX file/,
  );
  assert.match(
    await failure(['--run', dir, '--input', folder]),
    /is not a run folder \(no config\.json\)\n {2}fix: pass the --work-dir/,
  );
});
