/**
 * mmseg `BaseSegDataset` (`mmseg/datasets/basesegdataset.py`): list image/label pairs either by scanning the image
 * folder (sorted by image path) or from a split file (file order), then load one pair at a time
 * with mmseg 1.x `LoadAnnotations` semantics. Listing is async I/O and happens in `open()`;
 * the constructor only stores the result.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DatasetError, listSome } from './errors.ts';
import { type LabelMap, type RgbImage, decodeImage, decodeLabel } from './image_io.ts';
import { applyLut, checkLabelValues, reduceZeroLabel } from './label.ts';

/** Where one dataset split lives and how its files are named. */
export interface LayoutSpec {
  /** Display name, e.g. 'ADE20K'. */
  name: string;
  /** Dataset root (the folder the user points at). */
  root: string;
  /** The expected tree, printed when something is missing. */
  layoutHelp: string;
  /** Image folder relative to `root`. */
  imgDir: string;
  /** Label folder relative to `root`. */
  segDir: string;
  imgSuffix: string;
  segSuffix: string;
  /** Split file relative to `root` (one basename per line); absent → scan `imgDir`. */
  splitFile?: string;
  /** Extra hint appended when labels are missing (e.g. "run the converter"). */
  missingLabelHint?: (imgDir: string, segDir: string) => string | undefined;
}

export interface ClassSpec {
  classes: readonly string[];
  palette: readonly (readonly [number, number, number])[];
  reduceZeroLabel: boolean;
  /** mmseg label_map as a 256-entry LUT applied after reduce_zero_label. */
  labelLut?: Uint8Array;
  ignoreIndex?: number;
  /** Check every loaded label for values outside [0, K) ∪ {255} (default true). */
  checkLabels?: boolean;
}

export interface SampleRef {
  imgPath: string;
  segPath: string;
  /** Image path relative to the image folder, without the suffix (mmseg's basename). */
  name: string;
}

/** One decoded pair after LoadAnnotations: RGB image and training-id label at full size. */
export interface RawSample {
  index: number;
  img: RgbImage;
  label: LabelMap;
  ref: SampleRef;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
  return out;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function requireDir(layout: LayoutSpec, dir: string, what: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DatasetError(
      'missing-folder',
      `${layout.name}: ${what} folder not found: ${dir}\nexpected layout under ${layout.root}:\n${layout.layoutHelp}`,
      `point dataRoot at the folder that holds this layout (now '${layout.root}'), or download/convert the dataset as in mmseg's dataset_prepare guide`,
      dir,
    );
  }
}

/** Lists the pairs and checks both directions (image without label, label without image). */
export async function listSamples(layout: LayoutSpec): Promise<SampleRef[]> {
  requireDir(layout, layout.root, 'dataset root');
  const imgDir = join(layout.root, layout.imgDir);
  const segDir = join(layout.root, layout.segDir);
  requireDir(layout, imgDir, 'image');
  requireDir(layout, segDir, 'label');
  const refs: SampleRef[] = [];
  if (layout.splitFile) {
    const splitPath = join(layout.root, layout.splitFile);
    if (!existsSync(splitPath)) {
      throw new DatasetError(
        'missing-folder',
        `${layout.name}: split file not found: ${splitPath}\nexpected layout under ${layout.root}:\n${layout.layoutHelp}`,
        'create it with one image basename (no suffix) per line, as the mmseg converter writes it',
        splitPath,
      );
    }
    const names = (await readFile(splitPath, 'utf8'))
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    for (const name of names) {
      refs.push({
        name,
        imgPath: join(imgDir, name + layout.imgSuffix),
        segPath: join(segDir, name + layout.segSuffix),
      });
    }
    const noImg = refs.filter((r) => !existsSync(r.imgPath)).map((r) => r.imgPath);
    if (noImg.length > 0) {
      throw new DatasetError(
        'missing-image',
        `${layout.name}: ${noImg.length} image(s) listed in ${splitPath} do not exist: ${listSome(noImg)}`,
        'restore the images or remove their names from the split file',
        noImg[0],
      );
    }
  } else {
    const files = (await walk(imgDir)).filter((f) => f.endsWith(layout.imgSuffix));
    files.sort(byCodePoint); // mmseg: sorted(img_list, key=img_path)
    for (const f of files) {
      const name = relative(imgDir, f).slice(0, -layout.imgSuffix.length);
      refs.push({ name, imgPath: f, segPath: join(segDir, name + layout.segSuffix) });
    }
    // the reverse: label files whose image is missing
    const imgNames = new Set(refs.map((r) => r.name));
    const orphans = (await walk(segDir))
      .filter((f) => f.endsWith(layout.segSuffix))
      .filter((f) => !imgNames.has(relative(segDir, f).slice(0, -layout.segSuffix.length)));
    if (orphans.length > 0) {
      const n0 = relative(segDir, orphans[0]).slice(0, -layout.segSuffix.length);
      throw new DatasetError(
        'missing-image',
        `${layout.name}: ${orphans.length} label(s) have no image: ${listSome(orphans)} ` +
          `(expected e.g. ${join(imgDir, n0 + layout.imgSuffix)})`,
        'restore the missing images or delete the orphan labels',
        orphans[0],
      );
    }
  }
  if (refs.length === 0) {
    throw new DatasetError(
      'empty',
      `${layout.name}: no images ending in '${layout.imgSuffix}' under ${imgDir}\nexpected layout under ${layout.root}:\n${layout.layoutHelp}`,
      'check dataRoot and the split',
      imgDir,
    );
  }
  const noSeg = refs.filter((r) => !existsSync(r.segPath));
  if (noSeg.length > 0) {
    const hint = layout.missingLabelHint?.(imgDir, segDir);
    throw new DatasetError(
      'missing-label',
      `${layout.name}: ${noSeg.length} image(s) have no label: ` +
        listSome(
          noSeg.map((r) => `${r.imgPath} (expected ${r.segPath})`),
          3,
        ),
      hint ?? 'add the missing label PNGs or remove those images',
      noSeg[0].imgPath,
    );
  }
  return refs;
}

/** A listed dataset split; `load(i)` decodes one pair. */
export class SegDataset {
  readonly name: string;
  readonly root: string;
  readonly samples: readonly SampleRef[];
  readonly classes: readonly string[];
  readonly palette: readonly (readonly [number, number, number])[];
  readonly reduceZeroLabel: boolean;
  readonly ignoreIndex: number;
  private readonly labelLut: Uint8Array | undefined;
  private readonly checkLabels: boolean;

  constructor(layout: LayoutSpec, classes: ClassSpec, samples: readonly SampleRef[]) {
    this.name = layout.name;
    this.root = layout.root;
    this.samples = samples;
    this.classes = classes.classes;
    this.palette = classes.palette;
    this.reduceZeroLabel = classes.reduceZeroLabel;
    this.ignoreIndex = classes.ignoreIndex ?? 255;
    this.labelLut = classes.labelLut;
    this.checkLabels = classes.checkLabels ?? true;
  }

  static async open(layout: LayoutSpec, classes: ClassSpec): Promise<SegDataset> {
    return new SegDataset(layout, classes, await listSamples(layout));
  }

  get length(): number {
    return this.samples.length;
  }

  get numClasses(): number {
    return this.classes.length;
  }

  /** LoadAnnotations: decode unchanged, reduce_zero_label, then label_map, then range check. */
  async loadLabel(i: number): Promise<LabelMap> {
    const ref = this.samples[i];
    const label = await decodeLabel(ref.segPath);
    if (this.reduceZeroLabel) reduceZeroLabel(label.data);
    if (this.labelLut) applyLut(label.data, this.labelLut);
    if (this.checkLabels) {
      checkLabelValues(
        label.data,
        this.numClasses,
        ref.segPath,
        this.reduceZeroLabel,
        this.ignoreIndex,
      );
    }
    return label;
  }

  async loadImage(i: number): Promise<RgbImage> {
    return decodeImage(this.samples[i].imgPath);
  }

  async load(i: number): Promise<RawSample> {
    if (!Number.isInteger(i) || i < 0 || i >= this.samples.length) {
      throw new RangeError(`${this.name}: sample index ${i} outside 0..${this.samples.length - 1}`);
    }
    const ref = this.samples[i];
    const [img, label] = await Promise.all([this.loadImage(i), this.loadLabel(i)]);
    if (img.height !== label.height || img.width !== label.width) {
      throw new DatasetError(
        'size-mismatch',
        `${this.name}: image ${ref.imgPath} is ${img.width}×${img.height} but its label ` +
          `${ref.segPath} is ${label.width}×${label.height}`,
        'the label must have the image size; regenerate the label or re-export the image without resizing',
        ref.segPath,
      );
    }
    return { index: i, img, label, ref };
  }
}

/** `a/b/c` on every platform (for messages and manifests). */
export function posixPath(p: string): string {
  return p.split(sep).join('/');
}
