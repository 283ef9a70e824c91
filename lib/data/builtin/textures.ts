/**
 * "Stuff" classes of the built-in dataset: eight procedural textures. Each image draws a fresh
 * appearance per class (colours, scale, orientation, contrast): half of the time the colour is
 * near the class's natural hue, otherwise any hue, so colour is a weak cue and the texture
 * structure (smooth gradient, blades, bricks, ripples, grain, dunes, planks, pebbles) is what
 * identifies a class across images.
 */
import type { Rng } from '../../rng.ts';
import {
  type Rgbf,
  clamp01,
  fbm,
  hash2,
  hsv,
  mix,
  smoothstep,
  valueNoise,
  worley,
} from './noise.ts';

export interface StuffAppearance {
  colA: Rgbf;
  colB: Rgbf;
  /** Texture scale in pixels per unit feature (already multiplied by image size / 128). */
  s: number;
  cos: number;
  sin: number;
  seed: number;
  /** Class-specific extra parameter in [0, 1). */
  extra: number;
}

interface StuffDef {
  name: string;
  /** Natural hue (turns), saturation and value ranges. */
  hue: number;
  sat: [number, number];
  val: [number, number];
  /** Orientation range (radians) around 0. */
  angle: number;
  texture: (x: number, y: number, a: StuffAppearance, H: number) => Rgbf;
}

const TAU = 2 * Math.PI;

export const STUFF: readonly StuffDef[] = [
  {
    name: 'sky',
    hue: 0.58,
    sat: [0.25, 0.75],
    val: [0.55, 1],
    angle: 0,
    texture: (x, y, a, H) => {
      const base = mix(a.colA, a.colB, clamp01(y / H));
      const c = smoothstep(0.5, 0.8, fbm(x / (45 * a.s), y / (18 * a.s), a.seed, 4));
      return mix(base, [0.95, 0.95, 0.97], c * 0.8 * a.extra);
    },
  },
  {
    name: 'grass',
    hue: 0.28,
    sat: [0.4, 0.9],
    val: [0.3, 0.8],
    angle: 0.35,
    texture: (x, y, a) => {
      const u = x * a.cos + y * a.sin;
      const v = -x * a.sin + y * a.cos;
      const blades = fbm(u / (1.3 * a.s), v / (9 * a.s), a.seed, 3);
      const patch = fbm(x / (30 * a.s), y / (30 * a.s), a.seed + 5, 2);
      return mix(a.colB, a.colA, clamp01(Math.pow(blades, 1.6) * 1.6 * (0.6 + 0.6 * patch)));
    },
  },
  {
    name: 'brick wall',
    hue: 0.03,
    sat: [0.35, 0.85],
    val: [0.35, 0.85],
    angle: 0.2,
    texture: (x, y, a) => {
      const u = x * a.cos + y * a.sin;
      const v = -x * a.sin + y * a.cos;
      const bh = 9 * a.s * (0.8 + 0.5 * a.extra);
      const bw = bh * 2.4;
      const row = Math.floor(v / bh);
      const uu = u + (row & 1 ? bw / 2 : 0);
      const col = Math.floor(uu / bw);
      const du = Math.min(uu - col * bw, (col + 1) * bw - uu);
      const dv = Math.min(v - row * bh, (row + 1) * bh - v);
      const mortar = 1 - smoothstep(0.6 * a.s, 1.4 * a.s, Math.min(du, dv));
      const tone = 0.75 + 0.5 * hash2(row, col, a.seed);
      const grain = 0.85 + 0.3 * valueNoise(x / 1.5, y / 1.5, a.seed + 3);
      const brick: Rgbf = [
        a.colA[0] * tone * grain,
        a.colA[1] * tone * grain,
        a.colA[2] * tone * grain,
      ];
      return mix(brick, a.colB, mortar);
    },
  },
  {
    name: 'water',
    hue: 0.55,
    sat: [0.3, 0.9],
    val: [0.25, 0.8],
    angle: 0.15,
    texture: (x, y, a) => {
      const u = x * a.cos + y * a.sin;
      const v = -x * a.sin + y * a.cos;
      const warp = 1.8 * fbm(u / (28 * a.s), v / (10 * a.s), a.seed, 3);
      const w = 0.5 + 0.5 * Math.sin(TAU * (v / (5 * a.s) + warp));
      const c = mix(a.colB, a.colA, w);
      return mix(c, [1, 1, 1], smoothstep(0.9, 1, w) * 0.6 * a.extra);
    },
  },
  {
    name: 'road',
    hue: 0.6,
    sat: [0, 0.25],
    val: [0.2, 0.65],
    angle: 0.25,
    texture: (x, y, a) => {
      const u = x * a.cos + y * a.sin;
      const v = -x * a.sin + y * a.cos;
      const grain =
        0.5 * valueNoise(x / 1.1, y / 1.1, a.seed) +
        0.5 * fbm(x / (18 * a.s), y / (18 * a.s), a.seed + 1, 3);
      const g = 0.7 + 0.6 * grain;
      const base: Rgbf = [a.colA[0] * g, a.colA[1] * g, a.colA[2] * g];
      const lane = Math.abs(((u / (60 * a.s) + a.extra) % 1) - 0.5) * 60 * a.s < 1.6 * a.s;
      const dash = (((v / (24 * a.s)) % 1) + 1) % 1 < 0.5;
      return lane && dash ? a.colB : base;
    },
  },
  {
    name: 'sand',
    hue: 0.11,
    sat: [0.2, 0.6],
    val: [0.6, 0.95],
    angle: Math.PI,
    texture: (x, y, a) => {
      const u = x * a.cos + y * a.sin;
      const r = Math.sin(
        TAU * (u / (8 * a.s)) + 4 * fbm(x / (26 * a.s), y / (26 * a.s), a.seed, 3),
      );
      const speck = hash2(x, y, a.seed + 9) - 0.5;
      const c = mix(a.colB, a.colA, 0.5 + 0.35 * r);
      return [c[0] + 0.12 * speck, c[1] + 0.12 * speck, c[2] + 0.12 * speck];
    },
  },
  {
    name: 'wood',
    hue: 0.07,
    sat: [0.4, 0.85],
    val: [0.3, 0.75],
    angle: 0.2,
    texture: (x, y, a) => {
      const u = x * a.cos + y * a.sin;
      const v = -x * a.sin + y * a.cos;
      const pw = 16 * a.s;
      const plank = Math.floor(u / pw);
      const seam = Math.min(u - plank * pw, (plank + 1) * pw - u);
      const g = Math.sin(
        TAU * (u / (2.6 * a.s) + 2.5 * fbm(u / (12 * a.s), v / (70 * a.s), a.seed + plank, 3)),
      );
      const tone = 0.8 + 0.4 * hash2(plank, 0, a.seed);
      const c = mix(a.colB, a.colA, 0.5 + 0.5 * g);
      const dark = smoothstep(0.4 * a.s, 1.2 * a.s, seam);
      return [
        c[0] * tone * (0.4 + 0.6 * dark),
        c[1] * tone * (0.4 + 0.6 * dark),
        c[2] * tone * (0.4 + 0.6 * dark),
      ];
    },
  },
  {
    name: 'gravel',
    hue: 0.08,
    sat: [0.05, 0.45],
    val: [0.35, 0.8],
    angle: 0,
    texture: (x, y, a) => {
      const w = worley(x / (5 * a.s), y / (5 * a.s), a.seed);
      const c = mix(a.colB, a.colA, w.cell);
      const edge = smoothstep(0, 0.25, w.d2 - w.d1);
      const sh = 0.35 + 0.65 * edge * (1 - 0.4 * w.d1);
      return [c[0] * sh, c[1] * sh, c[2] * sh];
    },
  },
];

const U = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

/** Draws one image's appearance of stuff class `k` (fresh for every image). */
/**
 * @param textureSize the size in px that texture scales refer to (the image's short side by
 *   default, so the same scene at 64² has half-size bricks; a fixed 128 keeps them 128²-sized)
 * @param freeHue probability that the class takes any hue in this image (else near its own)
 */
export function sampleStuffAppearance(
  rng: Rng,
  k: number,
  textureSize: number,
  freeHue = 0.5,
): StuffAppearance {
  const d = STUFF[k];
  const natural = rng.next() < 1 - freeHue;
  const hue = natural ? d.hue + U(rng, -0.06, 0.06) : rng.next();
  const sat = U(rng, d.sat[0], d.sat[1]);
  const val = U(rng, d.val[0], d.val[1]);
  const colA = hsv(hue, sat, val);
  // the second colour: darker or lighter, slightly shifted hue (contrast varies per image)
  const contrast = U(rng, 0.2, 0.6);
  const colB = hsv(
    hue + U(rng, -0.08, 0.08),
    clamp01(sat * U(rng, 0.6, 1.3)),
    clamp01(rng.next() < 0.5 ? val * (1 - contrast) : val + contrast * (1 - val)),
  );
  const angle = d.angle === Math.PI ? U(rng, 0, Math.PI) : U(rng, -d.angle, d.angle);
  return {
    colA,
    colB,
    s: (textureSize / 128) * Math.exp(U(rng, Math.log(0.6), Math.log(1.7))),
    cos: Math.cos(angle),
    sin: Math.sin(angle),
    seed: Math.floor(rng.next() * 0x7fffffff),
    extra: rng.next(),
  };
}
