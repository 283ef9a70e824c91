/**
 * Label maps as pictures for qualitative figures: a class-coloured map (ignored pixels black),
 * an image/label overlay, per-image pixel accuracy, and the classes a set of maps contains
 * (for the legend).
 */
export type Palette = readonly (readonly [number, number, number])[];

/** RGB (HWC, uint8) of a label map; `ignoreIndex` pixels are black. */
export function colorizeLabels(
  label: ArrayLike<number>,
  palette: Palette,
  ignoreIndex = 255,
): Uint8Array {
  const out = new Uint8Array(label.length * 3);
  for (let i = 0; i < label.length; i++) {
    const k = label[i];
    if (k === ignoreIndex || k >= palette.length) continue;
    out[i * 3] = palette[k][0];
    out[i * 3 + 1] = palette[k][1];
    out[i * 3 + 2] = palette[k][2];
  }
  return out;
}

/** Half image, half class colour (pixels without a class keep the image). */
export function overlayLabels(
  rgb: ArrayLike<number>,
  label: ArrayLike<number>,
  palette: Palette,
  ignoreIndex = 255,
): Uint8Array {
  const out = new Uint8Array(label.length * 3);
  for (let i = 0; i < label.length; i++) {
    const k = label[i];
    const c = k === ignoreIndex || k >= palette.length ? undefined : palette[k];
    for (let ch = 0; ch < 3; ch++) {
      const v = rgb[i * 3 + ch];
      out[i * 3 + ch] = c ? Math.round(0.5 * v + 0.5 * c[ch]) : v;
    }
  }
  return out;
}

/** Share (%) of the labelled pixels predicted right (NaN when every pixel is ignored). */
export function pixelAccuracy(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  ignoreIndex = 255,
): number {
  let ok = 0;
  let n = 0;
  for (let i = 0; i < gt.length; i++) {
    if (gt[i] === ignoreIndex) continue;
    n++;
    if (pred[i] === gt[i]) ok++;
  }
  return n ? (100 * ok) / n : NaN;
}

/** Class ids present in any of the maps, ascending (ignored pixels left out). */
export function classesPresent(maps: readonly ArrayLike<number>[], ignoreIndex = 255): number[] {
  const seen = new Set<number>();
  for (const m of maps) for (let i = 0; i < m.length; i++) if (m[i] !== ignoreIndex) seen.add(m[i]);
  return [...seen].sort((a, b) => a - b);
}
