/**
 * The complexity halves of the paper's Tables 2, 3, 4, 6 and 7: params and GFLOPs measured here
 * (both conventions, lib/analysis/complexity.ts, dry-run tracing) beside the paper's numbers
 * (./paper.ts). Models, class counts and input sizes are arguments, so a notebook states them in
 * its parameter cell; a model the paper does not list gets empty quoted cells. Shared by the notebooks and `npm run reproduce`; each builder
 * returns the Table and the raw measurements so a notebook can add its own columns or plot.
 * Measurements are cached per process and on disk (.cache/complexity/, keyed by a hash of the
 * model, op and counter code), so the notebooks do not re-trace the same model;
 * OFFSEG_NO_COMPLEXITY_CACHE=1 turns the disk cache off.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countFlopsAll } from '../analysis/complexity.ts';
import { currentBackend, selectBackend } from '../backend/select.ts';
import { createModel } from '../models/registry.ts';
import { repoRoot } from '../paths.ts';
import { TABLE2, TABLE3, TABLE4, TABLE6, TABLE7 } from './paper.ts';
import type { Table } from './table.ts';
import { envFlag } from '../env.ts';
import { writeAtomic } from '../io/atomic_write.ts';

/** Params (M) and GFLOPs under both conventions of one model at one input size. */
export interface Measured {
  params: number;
  fvcore: number;
  paper: number;
}

export type Size = readonly [number, number];
export const ADE: { numClasses: number; size: Size } = { numClasses: 150, size: [512, 512] };
export const CITYSCAPES: { numClasses: number; size: Size } = {
  numClasses: 19,
  size: [1024, 2048],
};

const NOT_RUN: Measured = { params: NaN, fvcore: NaN, paper: NaN };
const cache = new Map<string, Measured>();

let fingerprint: string | undefined;
/** Hash of the code that decides the counts (models, ops, counter), from lib/ or dist/lib/. */
function codeFingerprint(): string {
  if (fingerprint) return fingerprint;
  const lib = dirname(dirname(fileURLToPath(import.meta.url)));
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|js)$/.test(f) && !/\.test\.|\.d\.ts$/.test(f))
        h.update(f).update(readFileSync(p));
    }
  };
  for (const d of ['models', 'ops', 'analysis']) walk(join(lib, d));
  fingerprint = h.digest('hex').slice(0, 16);
  return fingerprint;
}

function diskCacheFile(key: string): string | undefined {
  if (envFlag('OFFSEG_NO_COMPLEXITY_CACHE')) return undefined;
  const dir = join(repoRoot(), '.cache', 'complexity', codeFingerprint());
  return join(dir, `${key.replace(/[^a-z0-9.-]/gi, '_')}.json`);
}

/**
 * Measure one model (cached per process and on disk). Selects the default backend if none is
 * active.
 */
export async function measureComplexity(
  name: string,
  numClasses = ADE.numClasses,
  size: Size = ADE.size,
): Promise<Measured> {
  const key = `${name}/${numClasses}/${size.join('x')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const file = diskCacheFile(key);
  if (file && existsSync(file)) {
    try {
      const r = JSON.parse(readFileSync(file, 'utf8')) as Measured;
      cache.set(key, r);
      return r;
    } catch {
      // unreadable: measure again and overwrite
    }
  }
  if (!currentBackend()) await selectBackend();
  const m = createModel(name, { numClasses });
  try {
    const { reports } = await countFlopsAll(m, { size: [size[0], size[1]], mode: 'dry-run' });
    const r = {
      params: m.numParams() / 1e6,
      fvcore: reports.fvcore.gflops,
      paper: reports['offseg-paper'].gflops,
    };
    cache.set(key, r);
    if (file) {
      // atomic: notebooks in other processes may read the same entry
      mkdirSync(dirname(file), { recursive: true });
      writeAtomic(file, JSON.stringify(r));
    }
    if (envFlag('OFFSEG_VERBOSE'))
      process.stderr.write(
        `[complexity] ${key}: ${r.params.toFixed(3)} M, fvcore ${r.fvcore.toFixed(2)} G, offseg-paper ${r.paper.toFixed(2)} G\n`,
      );
    return r;
  } finally {
    m.dispose();
  }
}

/** Called after each model is measured (cached ones too), e.g. to print progress. */
export type OnMeasured = (label: string) => void;

/** A benchmark setting: class count and input size (H, W). */
export interface Setting {
  numClasses: number;
  size: Size;
}

async function measureAll(
  names: readonly string[],
  onMeasured?: OnMeasured,
  setting: Setting = ADE,
): Promise<Record<string, Measured>> {
  const out: Record<string, Measured> = {};
  for (const n of names) {
    out[n] = await measureComplexity(n, setting.numClasses, setting.size);
    onMeasured?.(`${n} at ${setting.size.join('×')}`);
  }
  return out;
}

/** The quoted row of `name`, if the paper's table has one. */
function quotedRow<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

export const TAGS_NOTE =
  'Tags: **measured** = computed by this code here; **quoted** = copied from the paper; **proxy** = trained here on the built-in dataset (not comparable to ADE20K numbers).';

export const CONVENTIONS_NOTE =
  "offseg-paper = convs, GN/LN, interpolation and grid-sample; no matmul/linear, no BatchNorm (what the paper's OffSeg rows follow). fvcore = mmseg 1.x / mmengine counting. CARAFE's gather work is not counted by either.";

export const TABLE2_MODELS = ['offseg-t', 'offseg-b', 'offseg-l'] as const;

export interface Table2Result {
  table: Table;
  /** ADE20K setting per model. */
  measured: Record<string, Measured>;
  /** Cityscapes setting per model; NaN when not measured. */
  cityscapes: Record<string, Measured>;
}

export interface Table2Options {
  /** Models (default OffSeg-T/B/L). */
  models?: readonly string[];
  /** ADE20K setting (default K = 150 at 512×512). */
  ade?: Setting;
  /** Cityscapes setting (default K = 19 at 1024×2048); false skips those traces (empty cells). */
  cityscapes?: Setting | false;
  onMeasured?: OnMeasured;
}

/** Table 2: OffSeg-T/B/L (or any models) at the ADE20K and Cityscapes settings. */
export async function table2Complexity(opts: Table2Options = {}): Promise<Table2Result> {
  const models = opts.models ?? TABLE2_MODELS;
  const ade = opts.ade ?? ADE;
  const cs = opts.cityscapes === false ? undefined : (opts.cityscapes ?? CITYSCAPES);
  const measured = await measureAll(models, opts.onMeasured, ade);
  const cityscapes: Record<string, Measured> = cs
    ? await measureAll(models, opts.onMeasured, cs)
    : Object.fromEntries(models.map((n) => [n, NOT_RUN]));
  const rows = models.map((n) => {
    const a = measured[n];
    const c = cityscapes[n];
    const p = quotedRow(TABLE2, n);
    return [
      n,
      p?.params ?? null,
      a.params,
      p?.adeFlops ?? null,
      a.paper,
      a.fvcore,
      p?.csFlops ?? null,
      c.paper,
      c.fvcore,
      p?.adeMIoU ?? null,
      p?.csMIoU ?? null,
      p?.cocoMIoU ?? null,
    ];
  });
  const csText = cs
    ? `Cityscapes K=${cs.numClasses} @${cs.size.join('×')}`
    : 'Cityscapes not traced';
  const table: Table = {
    title: `Table 2 — OffSeg complexity (ADE20K K=${ade.numClasses} @${ade.size.join('×')}, ${csText})`,
    columns: [
      'model',
      'params M (quoted)',
      'params M (measured)',
      'ADE GFLOPs (quoted)',
      'ADE GFLOPs offseg-paper (measured)',
      'ADE GFLOPs fvcore (measured)',
      'CS GFLOPs (quoted)',
      'CS GFLOPs offseg-paper (measured)',
      'CS GFLOPs fvcore (measured)',
      'ADE mIoU (quoted)',
      'CS mIoU (quoted)',
      'COCO mIoU (quoted)',
    ],
    rows,
    notes: [
      CONVENTIONS_NOTE,
      'mIoU cells are quoted: evaluating them needs the released checkpoints and the datasets (`npx offseg eval --config configs/offseg/… --checkpoint …`).',
    ],
  };
  return { table, measured, cityscapes };
}

export interface ComplexityResult {
  table: Table;
  measured: Record<string, Measured>;
}

const RETROFIT_NOTE =
  "The retrofit tables mix baseline numbers copied from mmseg/original papers with the authors' measurements; SegFormer decoder width is 256 for B0–B5 (mmseg 1.x).";

type RetrofitRow = { params: number; adeFlops: number; adeMIoU: number };

export interface RetrofitOptions {
  /** Models (default: every row of the paper's table). */
  models?: readonly string[];
  onMeasured?: OnMeasured;
}

async function retrofit(
  title: string,
  paper: Record<string, RetrofitRow>,
  opts: RetrofitOptions,
): Promise<ComplexityResult> {
  const models = opts.models ?? Object.keys(paper);
  const measured = await measureAll(models, opts.onMeasured);
  const rows = models.map((n) => {
    const a = measured[n];
    const p = quotedRow(paper, n);
    return [
      n,
      p?.params ?? null,
      a.params,
      p?.adeFlops ?? null,
      a.fvcore,
      a.paper,
      p?.adeMIoU ?? null,
    ];
  });
  return {
    measured,
    table: {
      title,
      columns: [
        'model',
        'params M (quoted)',
        'params M (measured)',
        'GFLOPs (quoted)',
        'GFLOPs fvcore (measured)',
        'GFLOPs offseg-paper (measured)',
        'ADE mIoU (quoted)',
      ],
      rows,
      notes: [
        RETROFIT_NOTE,
        'The quoted GFLOPs of these rows follow the fvcore convention (mmseg counting); the offseg-paper column is shown for comparison with Table 2.',
      ],
    },
  };
}

/** Table 3: SegNeXt-T/S/B ± Offset Learning (ADE20K K=150 @512²). */
export function table3Complexity(opts: RetrofitOptions = {}): Promise<ComplexityResult> {
  return retrofit('Table 3 — SegNeXt ± Offset Learning (ADE20K K=150 @512²)', TABLE3, opts);
}

/** Table 4: SegFormer-B0…B5 ± Offset Learning (ADE20K K=150 @512²). */
export function table4Complexity(opts: RetrofitOptions = {}): Promise<ComplexityResult> {
  return retrofit('Table 4 — SegFormer ± Offset Learning (ADE20K K=150 @512²)', TABLE4, opts);
}

/** Table 6: the five component variants of OffSeg-T. */
export async function table6Complexity(onMeasured?: OnMeasured): Promise<ComplexityResult> {
  const measured = await measureAll(Object.keys(TABLE6), onMeasured);
  return {
    measured,
    table: {
      title: 'Table 6 — OffSeg-T components (ADE20K K=150 @512²)',
      columns: [
        'model',
        'variant',
        'params M (quoted)',
        'params M (measured)',
        'GFLOPs (quoted)',
        'GFLOPs offseg-paper (measured)',
        'ADE mIoU (quoted)',
      ],
      rows: Object.entries(TABLE6).map(([n, p]) => {
        const a = measured[n];
        return [n, p.label, p.params, a.params, p.gflops, a.paper, p.adeMIoU];
      }),
      notes: [
        'Row 1 ("simple conv pixel decoder") is our design: the paper gives only its totals (see lib/models/heads/offseg_head.ts).',
      ],
    },
  };
}

/** Model name of the Table 7 per-pixel variant with align width C. */
export const table7Model = (c: number): string => `offseg-t-pp-c${c}`;
export const TABLE7_CHANNELS: readonly number[] = Object.keys(TABLE7).map(Number);

/** Table 7: per-pixel classifier, align width C; `measured` is keyed by model name. */
export async function table7Complexity(onMeasured?: OnMeasured): Promise<ComplexityResult> {
  const measured = await measureAll(TABLE7_CHANNELS.map(table7Model), onMeasured);
  return {
    measured,
    table: {
      title: 'Table 7 — per-pixel classifier, align width C (ADE20K K=150 @512²)',
      columns: [
        'C',
        'params M (quoted)',
        'params M (measured)',
        'GFLOPs (quoted)',
        'GFLOPs offseg-paper (measured)',
        'ADE mIoU (quoted)',
      ],
      rows: Object.entries(TABLE7).map(([c, p]) => {
        const a = measured[table7Model(Number(c))];
        return [Number(c), p.params, a.params, p.gflops, a.paper, p.adeMIoU];
      }),
    },
  };
}

/**
 * Tables 3 and 4: what adding Offset Learning costs, per backbone size — the paper's Δ (+OL −
 * baseline, quoted) beside ours (measured). `paper` maps `name` and `name-ol` to their rows.
 */
export function olCostTable(
  title: string,
  paper: Record<string, { params: number; adeFlops: number; adeMIoU: number }>,
  measured: Record<string, Measured>,
): Table {
  // every measured model whose "+OL" twin was measured too
  const pairs = Object.keys(measured).filter((n) => !n.endsWith('-ol') && `${n}-ol` in measured);
  const delta = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined ? null : +(y - x).toFixed(2);
  return {
    title,
    columns: [
      'model',
      'Δ params M (quoted)',
      'Δ params M (measured)',
      'Δ GFLOPs (quoted)',
      'Δ GFLOPs fvcore (measured)',
      'Δ mIoU (quoted)',
    ],
    rows: pairs.map((n) => {
      const [p, q] = [quotedRow(paper, n), quotedRow(paper, `${n}-ol`)];
      const [a, b] = [measured[n], measured[`${n}-ol`]];
      return [
        n,
        delta(p?.params, q?.params),
        b.params - a.params,
        delta(p?.adeFlops, q?.adeFlops),
        b.fvcore - a.fvcore,
        delta(p?.adeMIoU, q?.adeMIoU),
      ];
    }),
  };
}
