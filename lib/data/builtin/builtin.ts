/**
 * The built-in dataset: generated deterministically from a seed into the
 * ADE20K layout on first use and cached under `.cache/builtin/<hash>/ADEChallengeData2016/`,
 * then read by the ADE20K loader (reduce_zero_label=True: label 0 = unlabelled clutter).
 * See ./README.md for the classes and how images are made.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeJpeg } from '../image_io.ts';
import { encodePngGray8 } from '../png.ts';
import { STREAM, rngFor } from '../seed.ts';
import {
  type GlyphSourceName,
  type IdxGlyphs,
  SHAPES,
  idxCoverage,
  loadIdxGlyphs,
  makeDigit,
} from './glyphs.ts';
import {
  BUILTIN_VERSION,
  PALETTE,
  builtinClasses,
  resolveBuiltinOptions,
  type BuiltinOptions,
} from './options.ts';
import { type Scene, type SceneSpec, type ThingClass, renderScene } from './scene.ts';
import { STUFF } from './textures.ts';

export {
  BUILTIN_DEFAULTS,
  BUILTIN_VERSION,
  builtinClasses,
  resolveBuiltinOptions,
  type BuiltinOptions,
} from './options.ts';

export interface BuiltinDataset {
  /** The ADEChallengeData2016 folder. */
  root: string;
  classes: string[];
  palette: [number, number, number][];
  /** Number of stuff classes (the first ones); the rest are things. */
  numStuff: number;
  glyphs: GlyphSourceName;
  hash: string;
  /** True when this call generated the files. */
  generated: boolean;
}

function thingClasses(
  glyphs: { name: GlyphSourceName; dir?: string },
  split: 'train' | 'val',
  numGlyphs: number,
): ThingClass[] {
  let idx: IdxGlyphs | undefined;
  if (glyphs.dir && numGlyphs > 0)
    idx = loadIdxGlyphs(glyphs.dir, split === 'train' ? 'train' : 't10k');
  const names = builtinClasses(glyphs.name, numGlyphs).slice(STUFF.length + SHAPES.length);
  const glyphThings: ThingClass[] = names.map((name, k) => ({
    name,
    make: idx
      ? (rng) => {
          const pool = (idx as IdxGlyphs).byClass[k];
          return idxCoverage(pool[rng.int(pool.length)]);
        }
      : (rng) => makeDigit(rng, k),
  }));
  return [...SHAPES, ...glyphThings];
}

function sceneSpec(
  opts: BuiltinOptions,
  glyphs: { name: GlyphSourceName; dir?: string },
  split: 'train' | 'val',
): SceneSpec {
  return {
    height: opts.height,
    width: opts.width,
    things: thingClasses(glyphs, split, opts.numGlyphs),
    thingScale: [opts.thingMin, opts.thingMax],
    maxThings: opts.maxThings,
    textureSize: opts.textureSize,
    freeHue: opts.freeHue,
    thingFill: opts.thingFill,
  };
}

/** Renders image `index` of a split in memory (what the files hold before JPEG/PNG encoding). */
export function renderBuiltin(
  partial: Partial<BuiltinOptions>,
  split: 'train' | 'val',
  index: number,
): Scene {
  const { opts, glyphs } = resolveBuiltinOptions(partial);
  const spec = sceneSpec(opts, glyphs, split);
  return renderScene(rngFor(opts.seed, STREAM.builtin, split === 'train' ? 1 : 2, index), spec);
}

/** Renders one split into `<dir>/{images,annotations}/<sub>/`. */
async function writeSplit(
  dir: string,
  split: 'train' | 'val',
  n: number,
  opts: BuiltinOptions,
  glyphs: { name: GlyphSourceName; dir?: string },
): Promise<void> {
  const sub = split === 'train' ? 'training' : 'validation';
  const prefix = split === 'train' ? 'ADE_train_' : 'ADE_val_';
  await mkdir(join(dir, 'images', sub), { recursive: true });
  await mkdir(join(dir, 'annotations', sub), { recursive: true });
  const spec = sceneSpec(opts, glyphs, split);
  const splitId = split === 'train' ? 1 : 2;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const scene = renderScene(rngFor(opts.seed, STREAM.builtin, splitId, i), spec);
    const name = `${prefix}${String(i + 1).padStart(8, '0')}`;
    const png = encodePngGray8(scene.label, opts.width, opts.height);
    inflight.push(
      (async () => {
        const jpg = await encodeJpeg(
          { data: scene.rgb, height: opts.height, width: opts.width },
          opts.jpegQuality,
        );
        await writeFile(join(dir, 'images', sub, `${name}.jpg`), jpg);
        await writeFile(join(dir, 'annotations', sub, `${name}.png`), png);
      })(),
    );
    if (inflight.length >= 8) await inflight.shift();
  }
  await Promise.all(inflight);
}

interface Manifest {
  version: number;
  hash: string;
  options: Omit<BuiltinOptions, 'cacheRoot'>;
  glyphs: GlyphSourceName;
  classes: string[];
  palette: [number, number, number][];
  numStuff: number;
  encoder: { sharp: string; vips: string };
}

const inflight = new Map<string, Promise<boolean>>();

/** Writes the dataset into a temporary folder, then renames it into place. */
async function generate(
  cacheRoot: string,
  hash: string,
  opts: BuiltinOptions,
  glyphs: { name: GlyphSourceName; dir?: string },
): Promise<boolean> {
  const final = join(cacheRoot, hash);
  const manifestPath = join(final, 'builtin.json');
  const tmp = join(cacheRoot, `${hash}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp, { recursive: true });
  try {
    const ade = join(tmp, 'ADEChallengeData2016');
    await writeSplit(ade, 'train', opts.numTrain, opts, glyphs);
    await writeSplit(ade, 'val', opts.numVal, opts, glyphs);
    const { cacheRoot: _c, ...saved } = opts;
    const manifest: Manifest = {
      version: BUILTIN_VERSION,
      hash,
      options: saved,
      glyphs: glyphs.name,
      classes: builtinClasses(glyphs.name, opts.numGlyphs),
      palette: PALETTE.slice(0, STUFF.length + SHAPES.length + opts.numGlyphs),
      numStuff: STUFF.length,
      encoder: { sharp: sharp.versions.sharp ?? '', vips: sharp.versions.vips },
    };
    await writeFile(join(tmp, 'builtin.json'), JSON.stringify(manifest, null, 1) + '\n');
    if (existsSync(manifestPath)) {
      // another process finished first: keep its (identical) files, which may be in use
      await rm(tmp, { recursive: true, force: true });
      return false;
    }
    if (existsSync(final)) await rm(final, { recursive: true, force: true }); // incomplete leftover
    await rename(tmp, final);
    return true;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(manifestPath)) throw e; // a concurrent process may have won the rename
    return false;
  }
}

/** Returns the cached dataset, generating it first when missing. */
export async function ensureBuiltinDataset(
  partial: Partial<BuiltinOptions> = {},
): Promise<BuiltinDataset> {
  const clean = Object.fromEntries(
    Object.entries(partial).filter(([, v]) => v !== undefined),
  ) as Partial<BuiltinOptions>;
  const { opts, glyphs, hash, cacheRoot } = resolveBuiltinOptions(clean);
  const final = join(cacheRoot, hash);
  const manifestPath = join(final, 'builtin.json');
  let generated = false;
  if (!existsSync(manifestPath)) {
    // one generation per folder per process, even when train and val are built concurrently
    let job = inflight.get(final);
    if (!job) {
      job = generate(cacheRoot, hash, opts, glyphs);
      inflight.set(final, job);
      const done = (): void => void inflight.delete(final);
      job.then(done, done);
    }
    generated = await job;
  }
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  return {
    root: join(final, 'ADEChallengeData2016'),
    classes: m.classes,
    palette: m.palette,
    numStuff: m.numStuff,
    glyphs: m.glyphs,
    hash,
    generated,
  };
}
