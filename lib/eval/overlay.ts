/**
 * What a prediction looks like to a person: the label map's colours blended over the photo
 * (mmseg `SegLocalVisualizer`: colour · α + image · (1 − α), α = `opacity` of mmseg's
 * `image_demo.py`, 0.5), and the classes present with their share of the pixels. Pure functions
 * on typed arrays: used by `offseg predict` and by the browser demo alike.
 */

/** RGB colour per class id. */
export type Palette = readonly (readonly [number, number, number])[];

/** Pixels with `srcChannels` interleaved channels (3: RGB, 4: RGBA as a canvas gives them). */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  height: number;
  width: number;
  channels: 3 | 4;
}

/**
 * Blend `palette[labels[i]]` over `img` with weight `alpha`; the result has `img`'s layout
 * (alpha channel, if any, set opaque). Ids past the palette are drawn black.
 * @throws RangeError when `labels` is not height × width
 */
export function overlayLabels(
  img: Pixels,
  labels: Uint8Array,
  palette: Palette,
  alpha = 0.5,
): Pixels {
  const n = img.height * img.width;
  if (labels.length !== n) {
    throw new RangeError(
      `label map has ${labels.length} pixels, the image ${img.width}×${img.height}`,
    );
  }
  const c = img.channels;
  const out = new Uint8ClampedArray(n * c);
  const keep = 1 - alpha;
  for (let i = 0; i < n; i++) {
    const col = palette[labels[i]] ?? [0, 0, 0];
    const o = i * c;
    out[o] = img.data[o] * keep + col[0] * alpha;
    out[o + 1] = img.data[o + 1] * keep + col[1] * alpha;
    out[o + 2] = img.data[o + 2] * keep + col[2] * alpha;
    if (c === 4) out[o + 3] = 255;
  }
  return { data: out, height: img.height, width: img.width, channels: c };
}

/** The label map in its palette colours, RGBA (e.g. for a canvas). */
export function colorLabels(labels: Uint8Array, palette: Palette): Uint8ClampedArray {
  const out = new Uint8ClampedArray(labels.length * 4);
  for (let i = 0; i < labels.length; i++) {
    const col = palette[labels[i]] ?? [0, 0, 0];
    out[4 * i] = col[0];
    out[4 * i + 1] = col[1];
    out[4 * i + 2] = col[2];
    out[4 * i + 3] = 255;
  }
  return out;
}

/** One class present in a label map. */
export interface ClassArea {
  id: number;
  name: string;
  pixels: number;
  /** pixels / all pixels, in [0, 1]. */
  share: number;
}

/** Classes present in `labels`, largest first (ties by id). */
export function classAreas(labels: Uint8Array, classNames: readonly string[]): ClassArea[] {
  const counts = new Float64Array(256);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const out: ClassArea[] = [];
  counts.forEach((pixels, id) => {
    if (pixels > 0)
      out.push({
        id,
        name: classNames[id] ?? `class ${id}`,
        pixels,
        share: pixels / labels.length,
      });
  });
  return out.sort((a, b) => b.pixels - a.pixels || a.id - b.id);
}
