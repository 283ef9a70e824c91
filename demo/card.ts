/**
 * What the demo page knows about the model it runs (`model/card.json`, written by ./prepare.ts)
 * and about every dataset a dropped model may belong to (`palettes.json`). Plain JSON types:
 * shared by the page and the Node side that writes them.
 */
import type { PhotoTest } from '../lib/eval/segment_photo.ts';
import type { ClassArea, Palette } from '../lib/eval/overlay.ts';

/** A dataset's look and test recipe. */
export interface DatasetCard {
  name: string;
  classes: string[];
  palette: Palette;
  test: PhotoTest;
}

/** The model the page loads at start. */
export interface DemoCard {
  /** Registered model name from the export's metadata, e.g. `offseg-t`. */
  model: string;
  /** The .onnx file, relative to the page. */
  onnx: string;
  /** What the model is, shown above the result: the run it was trained in, or UNTRAINED. */
  label: string;
  trained: boolean;
  dataset: DatasetCard;
  /** Sample photos (relative to the page) the page offers as buttons. */
  samples: string[];
}

/** `palettes.json`: every dataset by name. */
export type DatasetCards = Record<string, DatasetCard>;

/** The dataset of a model with `k` classes, if exactly one has that many. */
export function datasetForClasses(cards: DatasetCards, k: number): DatasetCard | undefined {
  const fits = Object.values(cards).filter((c) => c.classes.length === k);
  return fits.length === 1 ? fits[0] : undefined;
}

/** What the page exposes to scripts as `globalThis.offsegDemo` (the end-to-end test reads it). */
export interface DemoState {
  ready: Promise<void>;
  last?: {
    name: string;
    width: number;
    height: number;
    labels: number[];
    classes: ClassArea[];
    inferenceMs: number;
    totalMs: number;
    backend: string;
  };
}
