/**
 * What `offseg predict` needs to know before the first photo: which dataset the model speaks
 * (class names and palette) and how that dataset is tested (keep-ratio scale, whole or slide),
 * from a run folder's config, from `--palette`, or from the class count. Every mismatch is a
 * UserError naming the flag that fixes it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/compose.ts';
import type { RunConfig } from '../config/schema.ts';
import { datasetMeta, type BenchmarkName } from '../data/metainfo.ts';
import {
  ensureBuiltinDataset,
  resolveBuiltinOptions,
  type BuiltinOptions,
} from '../data/builtin/builtin.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/transforms/pipeline.ts';
import type { PhotoTest } from '../eval/segment_photo.ts';
import type { Palette } from '../eval/overlay.ts';
import { readLastCheckpoint } from '../train/checkpoint.ts';
import { repoRoot } from '../paths.ts';
import { UserError } from './errors.ts';

export type PaletteName = BenchmarkName | 'builtin';
export const PALETTE_NAMES: readonly PaletteName[] = [
  'ade20k',
  'cityscapes',
  'coco-stuff164k',
  'pascal-context59',
  'builtin',
];

/** Class counts of the datasets, to guess the palette of a bare checkpoint. */
const CLASS_COUNTS: Readonly<Record<PaletteName, number>> = {
  ade20k: 150,
  cityscapes: 19,
  'coco-stuff164k': 171,
  'pascal-context59': 59,
  builtin: 22,
};

export interface DatasetLook {
  name: PaletteName;
  classes: readonly string[];
  palette: Palette;
}

/** `--palette` checked against the list. */
export function paletteOption(v: unknown): PaletteName | undefined {
  if (v === undefined) return undefined;
  if (PALETTE_NAMES.includes(v as PaletteName)) return v as PaletteName;
  throw new UserError(`--palette must be one of ${PALETTE_NAMES.join(', ')}, got '${String(v)}'`);
}

/** The dataset whose class count is `k`, if exactly one has it. */
export function paletteForClasses(k: number): PaletteName | undefined {
  return PALETTE_NAMES.find((n) => CLASS_COUNTS[n] === k);
}

/**
 * The built-in dataset's look from any generated copy with the same glyph source (class names
 * depend only on it, the colours are fixed), so a look-up does not generate a dataset.
 */
function cachedBuiltinLook(opts: Partial<BuiltinOptions>): DatasetLook | undefined {
  const { glyphs, cacheRoot } = resolveBuiltinOptions(opts);
  if (!existsSync(cacheRoot)) return undefined;
  for (const d of readdirSync(cacheRoot)) {
    const p = join(cacheRoot, d, 'builtin.json');
    if (!existsSync(p)) continue;
    try {
      const m = JSON.parse(readFileSync(p, 'utf8')) as {
        glyphs: string;
        classes: string[];
        palette: [number, number, number][];
      };
      if (m.glyphs === glyphs.name)
        return { name: 'builtin', classes: m.classes, palette: m.palette };
    } catch {
      // a manifest being written: try the next one
    }
  }
  return undefined;
}

/**
 * Class names and colours of `name`. The built-in dataset's come from a generated copy's
 * manifest (generated on first use, with `builtin` options from a run's config).
 */
export async function datasetLook(
  name: PaletteName,
  builtin?: Partial<BuiltinOptions>,
): Promise<DatasetLook> {
  if (name === 'builtin') {
    const opts = Object.fromEntries(
      Object.entries(builtin ?? {}).filter(([, v]) => v !== undefined),
    ) as Partial<BuiltinOptions>;
    const cached = cachedBuiltinLook(opts);
    if (cached) return cached;
    const b = await ensureBuiltinDataset(opts);
    return { name, classes: b.classes, palette: b.palette };
  }
  const m = datasetMeta(name);
  return { name, classes: m.classes, palette: m.palette };
}

/** The palette must name exactly the model's classes. */
export function checkPaletteFits(look: DatasetLook, numClasses: number, source: string): void {
  if (look.classes.length === numClasses) return;
  const fit = paletteForClasses(numClasses);
  throw new UserError(
    `${source} predicts ${numClasses} classes but the ${look.name} palette has ${look.classes.length}`,
    2,
    fit
      ? `use --palette ${fit} (${numClasses} classes), or --classes ${look.classes.length} if the checkpoint is a ${look.name} model`
      : `pass --classes ${look.classes.length} if the checkpoint is a ${look.name} model`,
  );
}

interface DatasetBase {
  data: {
    train: { crop: [number, number] };
    test: {
      scale: [number, number];
      mode: 'whole' | 'slide';
      crop?: [number, number];
      stride?: [number, number];
    };
  };
}

/** The test settings of a dataset base (configs/_base_/datasets/<name>.json) or a run config. */
export function photoTest(from: PaletteName | RunConfig, mode?: 'whole' | 'slide'): PhotoTest {
  const d: DatasetBase['data'] =
    typeof from === 'string'
      ? (
          JSON.parse(
            readFileSync(join(repoRoot(), 'configs/_base_/datasets', `${from}.json`), 'utf8'),
          ) as DatasetBase
        ).data
      : (from.data as unknown as DatasetBase['data']);
  const m = mode ?? d.test.mode;
  // A dataset tested whole has no window: slide then uses its training crop at mmseg's
  // Cityscapes overlap (stride = 3/4 of the crop).
  const crop = d.test.crop ?? d.train.crop;
  const stride = d.test.stride ?? [Math.round(crop[0] * 0.75), Math.round(crop[1] * 0.75)];
  return {
    pipeline: { scale: [...d.test.scale], mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] },
    inference:
      m === 'slide'
        ? { mode: 'slide', crop: [crop[0], crop[1]], stride: [stride[0], stride[1]] }
        : { mode: 'whole' },
  };
}

export interface RunModel {
  config: RunConfig;
  checkpoint: string;
}

/**
 * The model of a run folder: its config.json and the checkpoint `last_checkpoint` names (or
 * `checkpoint`, when given).
 * @throws UserError for a folder that is not a run or has no checkpoint yet
 */
export function runModel(dir: string, checkpoint?: string): RunModel {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(dir)) throw new UserError(`run folder not found: ${dir}`, 2, 'check --run');
  if (!existsSync(cfgPath)) {
    throw new UserError(
      `${dir} is not a run folder (no config.json)`,
      2,
      'pass the --work-dir of an offseg train run, or --model/--checkpoint',
    );
  }
  const config = loadConfig(cfgPath).config;
  const ckpt = checkpoint ?? readLastCheckpoint(dir);
  if (!ckpt || !existsSync(ckpt)) {
    throw new UserError(
      `run ${dir} has no checkpoint yet${ckpt ? ` (${ckpt} is missing)` : ''}`,
      2,
      'wait for its first checkpoint, or pass --checkpoint FILE',
    );
  }
  return { config, checkpoint: ckpt };
}
