/**
 * The model and files the demo page loads (Node side): `model/model.onnx` with its
 * `model/card.json`, sample photos, and `palettes.json` (every dataset's classes, colours and
 * test recipe, for models dropped on the page).
 *
 * Which model: an exported `.onnx` when given; else the workspace's own model trained on the
 * built-in dataset — the best finished run (highest val mIoU) among the run folders under
 * results/ and work_dirs/ whose config trains on `builtin`, or the newest unfinished one —
 * exported to ONNX with dynamic H×W; else, clearly labelled, an UNTRAINED OffSeg-T (random
 * weights) that shows the pipeline and its latency but no real segmentation.
 * `prepareDemoModel({ out })` is the export step a reproduction script can call.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { selectBackend } from '../lib/backend/select.ts';
import { exportOnnx } from '../lib/export/onnx.ts';
import { readOnnxMeta } from '../lib/export/onnx_meta.ts';
import { writeFileAtomic } from '../lib/export/write.ts';
import { ensureBuiltinDataset, type BuiltinOptions } from '../lib/data/builtin/builtin.ts';
import { createModel } from '../lib/models/registry.ts';
import type { RunConfig } from '../lib/config/schema.ts';
import { loadModel } from '../lib/cli/model_commands.ts';
import {
  datasetLook,
  paletteForClasses,
  photoTest,
  runModel,
  PALETTE_NAMES,
  type PaletteName,
} from '../lib/cli/predict_setup.ts';
import { repoRoot } from '../lib/paths.ts';
import { writeJson } from '../lib/train/run_dir.ts';
import type { DatasetCard, DatasetCards, DemoCard } from './card.ts';

export interface PrepareOptions {
  /** The folder the page is served from (e.g. dist/demo). */
  out: string;
  /** A run folder to export (default: the best built-in run under results/ and work_dirs/). */
  run?: string;
  /** The val mIoU (percent) of `run`, shown in the page's model line. */
  mIoU?: number;
  /** An exported model to serve as it is (no export). */
  onnx?: string;
  /** The dataset of `onnx` (default: the one with its class count). */
  palette?: PaletteName;
  /** Override the dataset's inference mode. */
  mode?: 'whole' | 'slide';
  /** Override the keep-ratio test scale (long, short): smaller is faster and coarser. */
  scale?: [number, number];
  /** Copy built-in sample photos (default true; generates the built-in dataset once if needed). */
  samples?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/** A run folder that trained on the built-in dataset. */
export interface BuiltinRun {
  dir: string;
  config: RunConfig;
  checkpoint: string;
  /** Validation mIoU (percent) of a finished run. */
  mIoU?: number;
  mtimeMs: number;
}

function configsUnder(dir: string, depth: number): string[] {
  if (!existsSync(dir) || depth < 0) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...configsUnder(join(dir, e.name), depth - 1));
    else if (e.name === 'config.json') out.push(dir);
  }
  return out;
}

/** Runs under `roots` that trained a model on `builtin`, best first. */
export function findBuiltinRuns(
  roots = ['results', 'work_dirs'].map((r) => join(repoRoot(), r)),
): BuiltinRun[] {
  const runs: BuiltinRun[] = [];
  for (const dir of roots.flatMap((r) => configsUnder(r, 3))) {
    try {
      const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
        data?: { dataset?: { type?: string } };
      };
      if (raw.data?.dataset?.type !== 'builtin') continue;
      const { config, checkpoint } = runModel(dir);
      const evalPath = join(dir, 'final_eval.json');
      const mIoU = existsSync(evalPath)
        ? (JSON.parse(readFileSync(evalPath, 'utf8')) as { mIoU?: number }).mIoU
        : undefined;
      runs.push({ dir, config, checkpoint, mIoU, mtimeMs: statSync(checkpoint).mtimeMs });
    } catch {
      // not a usable run (no checkpoint yet, a config from another version): skip it
    }
  }
  return runs.sort(
    (a, b) =>
      Number(b.mIoU !== undefined) - Number(a.mIoU !== undefined) ||
      (b.mIoU ?? 0) - (a.mIoU ?? 0) ||
      b.mtimeMs - a.mtimeMs,
  );
}

async function datasetCard(
  name: PaletteName,
  mode?: 'whole' | 'slide',
  cfg?: RunConfig,
): Promise<DatasetCard> {
  const builtin = cfg?.data.dataset.builtin as Partial<BuiltinOptions> | undefined;
  const look = await datasetLook(name, builtin);
  return {
    name,
    classes: [...look.classes],
    palette: look.palette.map((c) => [c[0], c[1], c[2]] as const),
    test: photoTest(cfg ?? name, mode),
  };
}

/** The first few validation images of a built-in dataset, copied to out/samples/. */
async function copySamples(
  out: string,
  builtin?: Partial<BuiltinOptions>,
  n = 4,
): Promise<string[]> {
  const b = await ensureBuiltinDataset(builtin ?? {});
  const dir = join(b.root, 'images', 'validation');
  const files = readdirSync(dir).sort().slice(0, n);
  mkdirSync(join(out, 'samples'), { recursive: true });
  return files.map((f) => {
    copyFileSync(join(dir, f), join(out, 'samples', f));
    return `samples/${f}`;
  });
}

/** Export `model` unless out/model already holds the export of the same weights. */
async function exportOnce(
  out: string,
  key: Record<string, unknown>,
  make: () => Promise<Uint8Array>,
): Promise<string> {
  const dir = join(out, 'model');
  const file = join(dir, 'model.onnx');
  const keyPath = join(dir, 'source.json');
  const same = (p: string) =>
    JSON.stringify(JSON.parse(readFileSync(p, 'utf8'))) === JSON.stringify(key);
  if (existsSync(file) && existsSync(keyPath) && same(keyPath)) return file;
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, await make());
  writeJson(keyPath, key);
  return file;
}

/**
 * Write the page's model (model/model.onnx, model/card.json) and samples into `opts.out`.
 * @returns the card the page will show
 */
export async function prepareDemoModel(opts: PrepareOptions): Promise<DemoCard> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[demo] ${l}\n`));
  const out = opts.out;
  let onnxFile: string;
  let label: string;
  let trained: boolean;
  let dataset: DatasetCard;
  let builtin: Partial<BuiltinOptions> | undefined;
  if (opts.onnx) {
    const meta = readOnnxMeta(readFileSync(opts.onnx), opts.onnx);
    const name = opts.palette ?? paletteForClasses(meta.numClasses);
    if (!name) {
      throw new Error(
        `${opts.onnx} predicts ${meta.numClasses} classes, which matches no dataset (${PALETTE_NAMES.join(', ')}): pass its palette`,
      );
    }
    dataset = await datasetCard(name, opts.mode);
    mkdirSync(join(out, 'model'), { recursive: true });
    onnxFile = join(out, 'model', 'model.onnx');
    copyFileSync(opts.onnx, onnxFile);
    label = `${meta.model} from ${basename(opts.onnx)} (an exported model, ${meta.numClasses} ${name} classes)`;
    trained = true;
  } else {
    const run = opts.run
      ? { ...runModel(opts.run), dir: opts.run, mIoU: opts.mIoU }
      : findBuiltinRuns()[0];
    await selectBackend({ prefer: 'cpu', log: false });
    if (run) {
      const { config, checkpoint, dir } = run;
      const name = config.model.name;
      const k = config.model.numClasses;
      builtin = config.data.dataset.builtin as Partial<BuiltinOptions> | undefined;
      dataset = await datasetCard(config.data.dataset.type, opts.mode, config);
      const st = statSync(checkpoint);
      onnxFile = await exportOnce(
        out,
        { checkpoint, size: st.size, mtimeMs: st.mtimeMs },
        async () => {
          log(`exporting ${name} from ${relative(repoRoot(), checkpoint)} to ONNX (dynamic H×W)…`);
          const model = loadModel(name, k, checkpoint);
          const r = await exportOnnx(model, { modelName: name, dynamic: true });
          model.dispose();
          return r.bytes;
        },
      );
      const it = /iter_(\d+)/.exec(basename(checkpoint))?.[1];
      const score = run.mIoU !== undefined ? `, val mIoU ${run.mIoU.toFixed(2)} %` : '';
      label =
        `${name} trained in this workspace on the built-in dataset: run ${relative(repoRoot(), dir) || dir}` +
        `${it ? `, iteration ${it}` : ''}${score}`;
      trained = true;
    } else {
      log(
        'no run trained on the built-in dataset under results/ or work_dirs/: serving an UNTRAINED OffSeg-T',
      );
      dataset = await datasetCard('builtin', opts.mode);
      onnxFile = await exportOnce(
        out,
        { untrained: 'offseg-t', classes: 22, seed: 0 },
        async () => {
          const model = createModel('offseg-t', { numClasses: dataset.classes.length, seed: 0 });
          const r = await exportOnnx(model, { modelName: 'offseg-t', dynamic: true });
          model.dispose();
          return r.bytes;
        },
      );
      label =
        'UNTRAINED OffSeg-T (random weights): no run trained on the built-in dataset was found in ' +
        'results/ or work_dirs/, so this shows the pipeline and its latency, not a segmentation. ' +
        'Train one (npm run quickstart), then npm run demo again.';
      trained = false;
    }
  }
  if (opts.scale) dataset.test.pipeline.scale = [...opts.scale];
  const meta = readOnnxMeta(readFileSync(onnxFile), onnxFile);
  const samples =
    opts.samples === false || dataset.name !== 'builtin' ? [] : await copySamples(out, builtin);
  const card: DemoCard = {
    model: meta.model,
    onnx: 'model/model.onnx',
    label,
    trained,
    dataset,
    samples,
  };
  writeJson(join(out, 'model', 'card.json'), card); // atomic: a served page never reads half
  return card;
}

/**
 * `palettes.json`: the four benchmarks, plus the built-in dataset when `builtin` (its classes
 * and colours come from its generated manifest).
 */
export async function writePalettes(out: string, builtin = true): Promise<DatasetCards> {
  const cards: DatasetCards = {};
  for (const name of PALETTE_NAMES) {
    if (name === 'builtin' && !builtin) continue;
    cards[name] = await datasetCard(name);
  }
  mkdirSync(out, { recursive: true });
  writeJson(join(out, 'palettes.json'), cards);
  return cards;
}
