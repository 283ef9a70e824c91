/**
 * The four benchmark datasets in their exact mmseg on-disk layouts (docs/data_and_metrics.md), the
 * built-in synthetic one (read through the ADE20K layout), and `buildDataset(cfg)`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ClassSpec, type LayoutSpec, SegDataset } from './dataset.ts';
import { DatasetError } from './errors.ts';
import { lutFromLabelMap } from './label.ts';
import { type BenchmarkName, datasetMeta } from './metainfo.ts';
import { type BuiltinOptions, ensureBuiltinDataset } from './builtin/builtin.ts';

export type DatasetType = BenchmarkName | 'builtin';
export type Split = 'train' | 'val';

/** A dataset as a JSON config describes it. */
export interface DatasetConfig {
  type: DatasetType;
  /**
   * The folder holding the layout: `…/ADEChallengeData2016`, `…/cityscapes`,
   * `…/coco_stuff164k`, `…/VOCdevkit/VOC2010`. For 'builtin': the cache root (default
   * `<repo>/.cache/builtin`).
   */
  dataRoot?: string;
  split: Split;
  /** Overrides the type's reduce_zero_label (mmseg default per dataset). */
  reduceZeroLabel?: boolean;
  /** mmseg label_map as [old, new] pairs, applied after reduce_zero_label. */
  labelMap?: [number, number][];
  /** Check each label for values outside [0, K) ∪ {255} (default true). */
  checkLabels?: boolean;
  /** Options of the built-in dataset (type 'builtin' only). */
  builtin?: Partial<BuiltinOptions>;
}

export const DATASET_TYPES: readonly DatasetType[] = [
  'ade20k',
  'cityscapes',
  'coco-stuff164k',
  'pascal-context59',
  'builtin',
];

const ADE_TREE = `  images/{training,validation}/ADE_{train,val}_000xxxxx.jpg
  annotations/{training,validation}/ADE_{train,val}_000xxxxx.png   (0 = other, 1..150 classes)`;

export function ade20kLayout(root: string, split: Split): LayoutSpec {
  const dir = split === 'train' ? 'training' : 'validation';
  return {
    name: 'ADE20K',
    root,
    layoutHelp: ADE_TREE,
    imgDir: join('images', dir),
    segDir: join('annotations', dir),
    imgSuffix: '.jpg',
    segSuffix: '.png',
  };
}

export function cityscapesLayout(root: string, split: Split): LayoutSpec {
  return {
    name: 'Cityscapes',
    root,
    layoutHelp: `  leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
  gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png   (made from *_gtFine_labelIds.png by the converter)`,
    imgDir: join('leftImg8bit', split),
    segDir: join('gtFine', split),
    imgSuffix: '_leftImg8bit.png',
    segSuffix: '_gtFine_labelTrainIds.png',
    missingLabelHint: (_img, seg) =>
      hasFileEnding(seg, '_gtFine_labelIds.png')
        ? `found *_gtFine_labelIds.png but no *_gtFine_labelTrainIds.png: run \`npx tsx lib/data/convert_cli.ts cityscapes ${root}\``
        : undefined,
  };
}

export function cocoStuff164kLayout(root: string, split: Split): LayoutSpec {
  const dir = split === 'train' ? 'train2017' : 'val2017';
  return {
    name: 'COCO-Stuff-164K',
    root,
    layoutHelp: `  images/{train2017,val2017}/000000xxxxxx.jpg
  annotations/{train2017,val2017}/000000xxxxxx_labelTrainIds.png   (0..170, 255 = ignore; made from stuffthingmaps by the converter)`,
    imgDir: join('images', dir),
    segDir: join('annotations', dir),
    imgSuffix: '.jpg',
    segSuffix: '_labelTrainIds.png',
    missingLabelHint: (_img, seg) =>
      hasRawCocoMaps(seg)
        ? `found raw stuffthingmaps <id>.png but no <id>_labelTrainIds.png: run \`npx tsx lib/data/convert_cli.ts coco-stuff164k ${root}\``
        : undefined,
  };
}

export function pascalContext59Layout(root: string, split: Split): LayoutSpec {
  return {
    name: 'Pascal Context-59',
    root,
    layoutHelp: `  JPEGImages/*.jpg
  SegmentationClassContext/*.png   (0 = background, 1..59 classes)
  ImageSets/SegmentationContext/{train,val}.txt   (one basename per line)`,
    imgDir: 'JPEGImages',
    segDir: 'SegmentationClassContext',
    imgSuffix: '.jpg',
    segSuffix: '.png',
    splitFile: join('ImageSets', 'SegmentationContext', `${split}.txt`),
  };
}

function hasFileEnding(dir: string, suffix: string): boolean {
  if (!existsSync(dir)) return false;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop() as string;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) stack.push(join(d, e.name));
      else if (e.name.endsWith(suffix)) return true;
    }
  }
  return false;
}

function hasRawCocoMaps(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => /^\d+\.png$/.test(f));
}

/** Default reduce_zero_label per type: ADE and PC-59 True, Cityscapes and COCO-164K False. */
export const REDUCE_ZERO_LABEL: Record<DatasetType, boolean> = {
  ade20k: true,
  cityscapes: false,
  'coco-stuff164k': false,
  'pascal-context59': true,
  builtin: true,
};

const DEFAULT_ROOTS: Record<BenchmarkName, string> = {
  ade20k: 'data/ade/ADEChallengeData2016',
  cityscapes: 'data/cityscapes',
  'coco-stuff164k': 'data/coco_stuff164k',
  'pascal-context59': 'data/VOCdevkit/VOC2010',
};

function checkConfig(cfg: DatasetConfig): void {
  if (!DATASET_TYPES.includes(cfg.type)) {
    throw new DatasetError(
      'bad-config',
      `dataset type must be one of ${DATASET_TYPES.join(', ')}, but got '${String(cfg.type)}'`,
      'fix dataset.type in the config',
    );
  }
  if (cfg.split !== 'train' && cfg.split !== 'val') {
    throw new DatasetError(
      'bad-config',
      `dataset split must be 'train' or 'val', but got '${String(cfg.split)}'`,
      'fix dataset.split in the config',
    );
  }
  if (cfg.builtin !== undefined && cfg.type !== 'builtin') {
    throw new DatasetError(
      'bad-config',
      `dataset.builtin options given for type '${cfg.type}'`,
      "remove dataset.builtin or set dataset.type to 'builtin'",
    );
  }
}

/** Builds and lists one split. Throws DatasetError with a fix for every bad input. */
export async function buildDataset(cfg: DatasetConfig): Promise<SegDataset> {
  checkConfig(cfg);
  let layout: LayoutSpec;
  let classes: ClassSpec;
  const reduce = cfg.reduceZeroLabel ?? REDUCE_ZERO_LABEL[cfg.type];
  const labelLut = cfg.labelMap ? lutFromLabelMap(Object.fromEntries(cfg.labelMap)) : undefined;
  if (cfg.type === 'builtin') {
    const built = await ensureBuiltinDataset({
      ...cfg.builtin,
      cacheRoot: cfg.dataRoot ?? cfg.builtin?.cacheRoot,
    });
    layout = { ...ade20kLayout(built.root, cfg.split), name: 'builtin' };
    classes = { classes: built.classes, palette: built.palette, reduceZeroLabel: reduce };
  } else {
    const root = cfg.dataRoot ?? DEFAULT_ROOTS[cfg.type];
    const meta = datasetMeta(cfg.type);
    const make = {
      ade20k: ade20kLayout,
      cityscapes: cityscapesLayout,
      'coco-stuff164k': cocoStuff164kLayout,
      'pascal-context59': pascalContext59Layout,
    }[cfg.type];
    layout = make(root, cfg.split);
    classes = { classes: meta.classes, palette: meta.palette, reduceZeroLabel: reduce };
  }
  classes.labelLut = labelLut;
  classes.checkLabels = cfg.checkLabels ?? true;
  return SegDataset.open(layout, classes);
}
