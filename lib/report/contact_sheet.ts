/**
 * A contact sheet of what training sees (mmseg's browse_dataset): the first samples of a
 * config's training stream (same seed, same order, same augmentation as `offseg train`), each
 * shown as image | label | overlay after the train pipeline (resize, crop, flip, photometric),
 * with the class legend of the labels shown. Padding (ignore index) is black in the label.
 */
import type { RunConfig } from '../config/schema.ts';
import { SegDataLoader } from '../data/loader.ts';
import { buildDatasets, trainPipeline } from '../train/build.ts';
import type { Figure } from './figure.ts';
import { panelGridFigure, type Panel } from './panel_grid.ts';

export interface ContactSheetOptions {
  /** Samples to show (default 16). */
  n?: number;
  /** Samples per row of the sheet (default 4; each takes three panels). */
  perRow?: number;
  /** Panel size in px (default 128). */
  tile?: number;
}

export interface ContactSheet {
  figure: Figure;
  /** Dataset indices of the samples, in stream order. */
  indices: number[];
  /** Classes present in the shown labels (the legend). */
  classes: string[];
  crop: [number, number];
}

type Palette = readonly (readonly [number, number, number])[];

/** Image, label and overlay panels of one normalised training sample. */
function samplePanels(
  image: Float32Array,
  label: Uint8Array,
  h: number,
  w: number,
  cfg: ReturnType<typeof trainPipeline>,
  palette: Palette,
  caption: string,
): Panel[] {
  const img = new Uint8Array(h * w * 3);
  const lab = new Uint8Array(h * w * 3);
  const over = new Uint8Array(h * w * 3);
  for (let i = 0; i < h * w; i++) {
    const k = label[i];
    const colour = k === cfg.ignoreIndex ? undefined : palette[k];
    for (let c = 0; c < 3; c++) {
      const v = Math.max(0, Math.min(255, Math.round(image[i * 3 + c] * cfg.std[c] + cfg.mean[c])));
      img[i * 3 + c] = v;
      lab[i * 3 + c] = colour ? colour[c] : 0;
      over[i * 3 + c] = colour ? Math.round(0.5 * v + 0.5 * colour[c]) : v;
    }
  }
  return [
    { data: img, h, w, caption },
    { data: lab, h, w, caption: '' },
    { data: over, h, w, caption: '' },
  ];
}

/**
 * Build the sheet for `cfg` (its train split, runtime.seed and train pipeline).
 * @throws DatasetError/ConfigError from the dataset build (a missing folder names its fix).
 */
export async function datasetContactSheet(
  cfg: RunConfig,
  opts: ContactSheetOptions = {},
): Promise<ContactSheet> {
  const n = opts.n ?? 16;
  const perRow = opts.perRow ?? 4;
  const { train } = await buildDatasets(cfg, ['train']);
  const pipeline = trainPipeline(cfg);
  const loader = new SegDataLoader(train!, {
    batchSize: 1,
    seed: cfg.runtime.seed,
    pipeline,
    prefetch: false,
  });
  const [h, w] = pipeline.cropSize;
  const present = new Set<number>();
  const rows: Panel[][] = [];
  const indices: number[] = [];
  for (let k = 0; k < Math.min(n, train!.length); k++) {
    const s = await loader.sampleAt(k);
    indices.push(s.index);
    for (const v of s.label) if (v !== pipeline.ignoreIndex) present.add(v);
    const panels = samplePanels(
      s.image,
      s.label,
      h,
      w,
      pipeline,
      train!.palette,
      `train #${s.index}`,
    );
    if (k % perRow === 0) rows.push([]);
    rows[rows.length - 1].push(...panels);
  }
  const ids = [...present].sort((a, b) => a - b);
  const cols = Math.min(perRow, indices.length);
  const figure = await panelGridFigure(rows, {
    columnTitles: Array.from({ length: cols }, () => ['image', 'label', 'overlay']).flat(),
    legend: {
      names: ids.map((i) => train!.classes[i]),
      colours: ids.map((i) => train!.palette[i]),
    },
    title: `${train!.name} train split after the train pipeline — first ${indices.length} samples of the seed-${cfg.runtime.seed} stream, crop ${h}×${w} (black: ignored / padding)`,
    tile: opts.tile ?? 128,
  });
  return { figure, indices, classes: ids.map((i) => train!.classes[i]), crop: [h, w] };
}
