/**
 * Renders one built-in image and its label (ADE20K encoding: 0 = other, k+1 = class k).
 *
 * 1. Stuff layout: an outdoor scene (sky above a wavy horizon, 1–3 ground regions below) or an
 *    indoor-like mosaic of 2–4 regions; regions are domain-warped, additively weighted Voronoi
 *    cells, so boundaries are organic and region sizes vary.
 * 2. Each stuff class present gets this image's own appearance (textures.ts).
 * 3. Sometimes 1–2 unlabelled clutter blobs (label 0, ignored after reduce_zero_label).
 * 4. 1–maxThings things (default 7) at scales log-uniform in thingScale (default 12 %–75 %) of the
 *    short side, rotated and stretched; each thing
 *    class gets this image's own fill pattern and colours; all instances of a class in an
 *    image share them. Alpha-composited; label where coverage ≥ 0.5.
 * 5. Global re-lighting: per-channel gain, exposure, gamma, a directional light gradient, noise.
 */
import type { Rng } from '../../rng.ts';
import type { CovOut, Coverage } from './glyphs.ts';
import { type Rgbf, clamp01, fbm, hash2, hsv, mix } from './noise.ts';
import { STUFF, sampleStuffAppearance } from './textures.ts';

export interface ThingClass {
  name: string;
  make: (rng: Rng) => Coverage;
}

export interface SceneSpec {
  height: number;
  width: number;
  /** Thing classes in label order after the stuff classes. */
  things: readonly ThingClass[];
  /** Instance size range as fractions of the short side (log-uniform). */
  thingScale: readonly [number, number];
  /** 1..maxThings instances per image. */
  maxThings: number;
  /** Size in px that stuff texture scales refer to (0: the image's short side). */
  textureSize: number;
  /** Probability that a stuff class takes any hue in an image (else near its natural hue). */
  freeHue: number;
  /** 'class': each of the four shapes has its own fill pattern (BuiltinOptions.thingFill). */
  thingFill: 'random' | 'class';
}

export interface Scene {
  /** RGB uint8 HWC. */
  rgb: Uint8Array;
  /** ADE-encoded ids: 0 other, 1..K. */
  label: Uint8Array;
}

const U = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

function pickDistinct(rng: Rng, from: number[], n: number): number[] {
  const pool = from.slice();
  const out: number[] = [];
  for (let i = 0; i < n && pool.length > 0; i++) out.push(pool.splice(rng.int(pool.length), 1)[0]);
  return out;
}

interface Cell {
  x: number;
  y: number;
  w: number;
  cls: number;
}

/** Stuff class index (0..7) per pixel. */
function stuffLayout(rng: Rng, H: number, W: number): Int8Array {
  const out = new Int8Array(H * W);
  const S = Math.min(H, W);
  const warpSeed = Math.floor(rng.next() * 1e9);
  const warpAmp = U(rng, 0.1, 0.35) * S;
  const warpScale = U(rng, 0.25, 0.6) * S;
  const nonSky = [1, 2, 3, 4, 5, 6, 7];
  const outdoor = rng.next() < 0.6;
  let horizon: Float64Array | undefined;
  let upper = 0;
  const cells: Cell[] = [];
  if (outdoor) {
    upper = rng.next() < 0.85 ? 0 : nonSky[rng.int(nonSky.length)];
    const h0 = U(rng, 0.15, 0.55) * H;
    const amp = U(rng, 0, 0.25) * H;
    const hs = Math.floor(rng.next() * 1e9);
    horizon = new Float64Array(W);
    for (let x = 0; x < W; x++) horizon[x] = h0 + amp * (fbm(x / (0.35 * W), 0.5, hs, 3) - 0.5);
    for (const cls of pickDistinct(
      rng,
      nonSky.filter((c) => c !== upper),
      1 + rng.int(3),
    )) {
      cells.push({ x: U(rng, 0, W), y: U(rng, h0, H), w: U(rng, 0, 0.3) * S, cls });
    }
  } else {
    for (const cls of pickDistinct(rng, nonSky, 2 + rng.int(3))) {
      cells.push({ x: U(rng, 0, W), y: U(rng, 0, H), w: U(rng, 0, 0.3) * S, cls });
    }
  }
  // the warp field is smooth (scale ≥ 0.25·S): sample it every 4 px, interpolate bilinearly
  const G = 4;
  const gw = Math.ceil(W / G) + 1;
  const gh = Math.ceil(H / G) + 1;
  const wx = new Float64Array(gw * gh);
  const wy = new Float64Array(gw * gh);
  for (let j = 0; j < gh; j++) {
    for (let i = 0; i < gw; i++) {
      wx[j * gw + i] = warpAmp * (fbm((i * G) / warpScale, (j * G) / warpScale, warpSeed, 3) - 0.5);
      wy[j * gw + i] =
        warpAmp * (fbm((i * G) / warpScale, (j * G) / warpScale, warpSeed + 77, 3) - 0.5);
    }
  }
  const lerp2 = (f: Float64Array, x: number, y: number): number => {
    const i = Math.floor(x / G);
    const j = Math.floor(y / G);
    const fx = x / G - i;
    const fy = y / G - j;
    const o = j * gw + i;
    const top = f[o] + (f[o + 1] - f[o]) * fx;
    const bot = f[o + gw] + (f[o + gw + 1] - f[o + gw]) * fx;
    return top + (bot - top) * fy;
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (horizon && y < horizon[x]) {
        out[y * W + x] = upper;
        continue;
      }
      const qx = x + lerp2(wx, x, y);
      const qy = y + lerp2(wy, x, y);
      let best = 0;
      let bd = Infinity;
      for (const c of cells) {
        const d = Math.hypot(qx - c.x, qy - c.y) - c.w;
        if (d < bd) {
          bd = d;
          best = c.cls;
        }
      }
      out[y * W + x] = best;
    }
  }
  return out;
}

type Pattern = (u: number, v: number) => number;

interface ThingLook {
  colA: Rgbf;
  colB: Rgbf;
  pattern: Pattern;
}

function randomColour(rng: Rng, hue?: number): Rgbf {
  const h = rng.next();
  const sat = U(rng, 0.25, 1);
  const val = U(rng, 0.35, 1);
  if (hue === undefined) return hsv(h, sat, val);
  // a class's own look: the same draws mapped near its hue (±0.05 turn) and saturated (0.5–1)
  return hsv(hue + 0.1 * (h - 0.5), 0.5 + (sat - 0.25) * (0.5 / 0.75), val);
}

/**
 * Look of each shape class under `thingFill: 'class'`: its fill pattern (dots, stripes, checks,
 * noise) and its natural hue, away from the stuff classes' hues.
 */
const CLASS_LOOK: readonly { kind: number; hue: number }[] = [
  { kind: 2, hue: 0.9 },
  { kind: 1, hue: 0.17 },
  { kind: 3, hue: 0.42 },
  { kind: 4, hue: 0.75 },
];

/**
 * This image's look of one thing class: two colours and a fill pattern (one of five kinds at a
 * random frequency and orientation). With `own` (the class's look) the same random draws give
 * its pattern at a coarser frequency (2–4.5 instead of 2.5–8 cycles per instance) and colours
 * near its hue, so `thingFill: 'random'` data is unchanged and the labels are the same.
 */
function sampleThingLook(rng: Rng, own?: { kind: number; hue: number }): ThingLook {
  const colA = randomColour(rng, own?.hue);
  const colB =
    rng.next() < 0.5 ? randomColour(rng, own?.hue) : mix(colA, [0, 0, 0], U(rng, 0.3, 0.7));
  const f0 = U(rng, 2.5, 8);
  const f = own ? 2 + ((f0 - 2.5) * 2.5) / 5.5 : f0;
  const phi = U(rng, 0, Math.PI);
  const c = Math.cos(phi);
  const s = Math.sin(phi);
  const seed = Math.floor(rng.next() * 1e9);
  const drawn = rng.int(5);
  const patterns: Pattern[] = [
    () => 0,
    (u, v) => clamp01(0.5 + 2 * Math.sin(2 * Math.PI * f * (u * c + v * s))),
    (u, v) => {
      const fu = u * f - Math.floor(u * f) - 0.5;
      const fv = v * f - Math.floor(v * f) - 0.5;
      return Math.hypot(fu, fv) < 0.28 ? 1 : 0;
    },
    (u, v) => (Math.floor(u * f) + Math.floor(v * f)) & 1,
    (u, v) => fbm(u * f, v * f, seed, 3),
  ];
  return { colA, colB, pattern: patterns[own?.kind ?? drawn] };
}

/** Draws one instance (alpha-composite, label where coverage ≥ 0.5). */
function drawThing(
  rgb: Float32Array,
  label: Uint8Array,
  H: number,
  W: number,
  cov: Coverage,
  look: ThingLook,
  id: number,
  rng: Rng,
  angleRange: number,
  scale: readonly [number, number],
): void {
  const S = Math.min(H, W) * Math.exp(U(rng, Math.log(scale[0]), Math.log(scale[1])));
  const sx = S * Math.exp(U(rng, -0.2, 0.2));
  const sy = S * Math.exp(U(rng, -0.2, 0.2));
  const cx = U(rng, -0.1, 1.1) * W;
  const cy = U(rng, -0.1, 1.1) * H;
  const th = U(rng, -angleRange, angleRange);
  const ct = Math.cos(th);
  const st = Math.sin(th);
  const px = Math.min(sx, sy);
  const r = 0.72 * Math.max(sx, sy);
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(W - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(H - 1, Math.ceil(cy + r));
  const slot: CovOut = { a: 0, shade: 1 };
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (dx * ct + dy * st) / sx + 0.5;
      const v = (-dx * st + dy * ct) / sy + 0.5;
      if (u < -0.02 || u > 1.02 || v < -0.02 || v > 1.02) continue;
      cov(u, v, px, slot);
      const a = slot.a;
      if (a <= 0) continue;
      const t = look.pattern(u, v);
      const i = (y * W + x) * 3;
      for (let k = 0; k < 3; k++) {
        const col = look.colA[k] + (look.colB[k] - look.colA[k]) * t;
        rgb[i + k] = rgb[i + k] * (1 - a) + col * slot.shade * a;
      }
      if (a >= 0.5) label[y * W + x] = id;
    }
  }
}

/** Unlabelled clutter: a noisy blob with its own texture, label 0. */
function drawClutter(rgb: Float32Array, label: Uint8Array, H: number, W: number, rng: Rng): void {
  const R = U(rng, 0.08, 0.25) * Math.min(H, W);
  const cx = U(rng, 0, W);
  const cy = U(rng, 0, H);
  const seed = Math.floor(rng.next() * 1e9);
  const colA = randomColour(rng);
  const colB = randomColour(rng);
  for (let y = Math.max(0, Math.floor(cy - 1.5 * R)); y < Math.min(H, cy + 1.5 * R); y++) {
    for (let x = Math.max(0, Math.floor(cx - 1.5 * R)); x < Math.min(W, cx + 1.5 * R); x++) {
      const d = Math.hypot(x - cx, y - cy) / R;
      if (d + 0.8 * (fbm(x / (0.4 * R), y / (0.4 * R), seed, 3) - 0.5) >= 1) continue;
      const col = mix(colA, colB, fbm(x / 3, y / 3, seed + 1, 2));
      const i = (y * W + x) * 3;
      rgb[i] = col[0];
      rgb[i + 1] = col[1];
      rgb[i + 2] = col[2];
      label[y * W + x] = 0;
    }
  }
}

export function renderScene(rng: Rng, spec: SceneSpec): Scene {
  const { height: H, width: W } = spec;
  const N = H * W;
  const rgb = new Float32Array(N * 3);
  const label = new Uint8Array(N);
  // 1–2. stuff
  const layout = stuffLayout(rng, H, W);
  const present = [...new Set(layout)].sort((a, b) => a - b);
  const textureSize = spec.textureSize > 0 ? spec.textureSize : Math.min(H, W);
  const looks = new Map(
    present.map((k) => [k, sampleStuffAppearance(rng, k, textureSize, spec.freeHue)]),
  );
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const k = layout[y * W + x];
      const c = STUFF[k].texture(x, y, looks.get(k) as ReturnType<typeof sampleStuffAppearance>, H);
      const i = (y * W + x) * 3;
      rgb[i] = c[0];
      rgb[i + 1] = c[1];
      rgb[i + 2] = c[2];
      label[y * W + x] = k + 1;
    }
  }
  // 3. clutter
  if (rng.next() < 0.3) for (let n = 1 + rng.int(2); n > 0; n--) drawClutter(rgb, label, H, W, rng);
  // 4. things
  const thingLooks = new Map<number, ThingLook>();
  const count = 1 + rng.int(spec.maxThings);
  for (let n = 0; n < count; n++) {
    const t = rng.int(spec.things.length);
    let look = thingLooks.get(t);
    if (!look) {
      look = sampleThingLook(rng, spec.thingFill === 'class' ? CLASS_LOOK[t] : undefined);
      thingLooks.set(t, look);
    }
    const cov = spec.things[t].make(rng);
    // procedural shapes may take any orientation; glyphs stay roughly upright
    const angle = t < 4 ? Math.PI : 0.4;
    drawThing(rgb, label, H, W, cov, look, STUFF.length + 1 + t, rng, angle, spec.thingScale);
  }
  // 5. global re-lighting
  const gain = [0, 1, 2].map(() => Math.exp(U(rng, -0.25, 0.25)));
  const exposure = Math.exp(U(rng, -0.5, 0.3));
  const gamma = Math.exp(U(rng, -0.25, 0.25));
  const phi = U(rng, 0, 2 * Math.PI);
  const grad = U(rng, 0, 0.6);
  const noise = U(rng, 0, 0.035);
  const nseed = Math.floor(rng.next() * 1e9);
  // gamma through a 4096-entry table (Math.pow per value dominated the generation time)
  const LEVELS = 4095;
  const gammaLut = new Float64Array(LEVELS + 1);
  for (let q = 0; q <= LEVELS; q++) gammaLut[q] = Math.pow(q / LEVELS, gamma);
  const out = new Uint8Array(N * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const light =
        exposure * (1 + grad * ((x / W - 0.5) * Math.cos(phi) + (y / H - 0.5) * Math.sin(phi)));
      const i = (y * W + x) * 3;
      for (let k = 0; k < 3; k++) {
        const lin = Math.round(clamp01(rgb[i + k] * gain[k] * light) * LEVELS);
        const v = gammaLut[lin] + noise * (hash2(x, y * 3 + k, nseed) - 0.5) * 2;
        out[i + k] = Math.round(clamp01(v) * 255);
      }
    }
  }
  return { rgb: out, label };
}
