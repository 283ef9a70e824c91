/**
 * `offseg predict`: segment your own photos, as mmseg's `image_demo.py` / `MMSegInferencer` do.
 * Any size and orientation; the dataset's test pipeline (keep-ratio Resize, whole or slide); the
 * resize back to the photo and the argmax run together on the host (lib/eval/segment.ts), so a
 * 8000×6000 photo needs its label map and nothing 150 times larger. Writes pred/<name>.png
 * (palette PNG of class ids), vis/<name>.jpg (overlay) and, with --json, pred/<name>.json.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { selectBackend } from '../backend/select.ts';
import type { SegmentationEngine } from '../engine/engine.ts';
import { readOnnxMeta } from '../engine/onnxruntime.ts';
import { engineNet } from '../eval/tensor_net.ts';
import { segmentPhoto, type PhotoTest } from '../eval/segment_photo.ts';
import type { LogitsNet } from '../eval/segment.ts';
import { classAreas } from '../eval/overlay.ts';
import { listPhotos, PhotoError, readPhoto } from '../io/photo.ts';
import { writePrediction } from '../io/prediction_files.ts';
import type { BuiltinOptions } from '../data/builtin/builtin.ts';
import { parse, intOption, requireString } from './args.ts';
import { ENGINE_FLAGS, ENGINE_FLAGS_HELP, openEngine, openOnnxFile } from './engine_flags.ts';
import { formatUserError, isUserError, UserError } from './errors.ts';
import { loadModel, requireFiles } from './model_commands.ts';
import {
  checkPaletteFits,
  datasetLook,
  paletteForClasses,
  paletteOption,
  PALETTE_NAMES,
  photoTest,
  runModel,
  type DatasetLook,
  type PaletteName,
} from './predict_setup.ts';
import { progressBar } from './progress.ts';
import { weightOptions, WEIGHT_FLAGS, WEIGHT_FLAGS_HELP } from './weight_flags.ts';
import type { Command } from './command.ts';

const FLAGS = {
  model: { type: 'string' },
  classes: { type: 'string' },
  checkpoint: { type: 'string' },
  run: { type: 'string' },
  onnx: { type: 'string' },
  palette: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  mode: { type: 'string' },
  opacity: { type: 'string' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
  ...ENGINE_FLAGS,
  ...WEIGHT_FLAGS,
} as const;

type Parsed = ReturnType<typeof parse>;

const DEFAULT_OUTPUT = 'work_dirs/predict';

/** The network, the dataset it speaks and how that dataset is tested. */
interface Predictor {
  engine: SegmentationEngine;
  modelName: string;
  look: DatasetLook;
  test: PhotoTest;
  weights: string;
}

function modeOption(v: unknown): 'whole' | 'slide' | undefined {
  if (v === undefined || v === 'whole' || v === 'slide') return v;
  throw new UserError(`--mode must be whole or slide, got '${String(v)}'`);
}

function opacityOption(v: unknown): number {
  if (v === undefined) return 0.5;
  const a = Number(v);
  if (!(a >= 0 && a <= 1)) throw new UserError(`--opacity must be in [0, 1], got '${String(v)}'`);
  return a;
}

/** The palette: asked for, the run's dataset, or the one dataset with this class count. */
function choosePalette(asked: PaletteName | undefined, k: number, source: string): PaletteName {
  const name = asked ?? paletteForClasses(k);
  if (name) return name;
  throw new UserError(
    `${source} predicts ${k} classes, which matches no dataset palette`,
    2,
    `pass --palette (${PALETTE_NAMES.join(', ')}) and --classes to match it`,
  );
}

/** Open the model (run folder, checkpoint or exported ONNX) and the dataset it belongs to. */
async function openPredictor(v: Parsed): Promise<Predictor> {
  const asked = paletteOption(v.palette);
  const mode = modeOption(v.mode);
  const sources = ['run', 'onnx', 'model'].filter((k) => typeof v[k] === 'string');
  if (sources.length !== 1) {
    throw new UserError(
      sources.length
        ? `--${sources.join(' and --')} name two models; pass one`
        : 'missing the model: pass --run DIR, --model NAME --checkpoint FILE, or --onnx FILE',
    );
  }
  const prefer = (v.backend as 'auto' | undefined) ?? 'auto';
  if (typeof v.onnx === 'string') {
    requireFiles([[v.onnx, 'ONNX model']]);
    let k: number;
    try {
      k = readOnnxMeta(readFileSync(v.onnx), v.onnx).numClasses;
    } catch (e) {
      throw new UserError((e as Error).message, 2, "export one with 'offseg export'");
    }
    const look = await datasetLook(choosePalette(asked, k, v.onnx));
    checkPaletteFits(look, k, v.onnx);
    await selectBackend({ prefer, log: false });
    const engine = await openOnnxFile(v, v.onnx);
    return {
      engine,
      modelName: basename(v.onnx),
      look,
      test: photoTest(look.name, mode),
      weights: v.onnx,
    };
  }
  let name: string;
  let k: number;
  let ckpt: string;
  let look: DatasetLook;
  let test: PhotoTest;
  if (typeof v.run === 'string') {
    const run = runModel(v.run, typeof v.checkpoint === 'string' ? v.checkpoint : undefined);
    name = run.config.model.name;
    k = run.config.model.numClasses;
    ckpt = run.checkpoint;
    const ds = run.config.data.dataset;
    look = await datasetLook(asked ?? ds.type, ds.builtin as Partial<BuiltinOptions> | undefined);
    checkPaletteFits(look, k, `run ${v.run}`);
    test = photoTest(run.config, mode);
  } else {
    name = requireString(v.model, 'model');
    ckpt = requireString(v.checkpoint, 'checkpoint');
    requireFiles([[ckpt, 'checkpoint']]);
    const given = asked ? await datasetLook(asked) : undefined;
    k = v.classes === undefined ? (given?.classes.length ?? 150) : intOption(v.classes, 'classes');
    look = given ?? (await datasetLook(choosePalette(undefined, k, `--classes ${k}`)));
    checkPaletteFits(look, k, `--model ${name} --classes ${k}`);
    test = photoTest(look.name, mode);
  }
  await selectBackend({ prefer });
  const model = loadModel(name, k, ckpt, weightOptions(v, '--model/--classes'));
  const engine = await openEngine(v, model, name, 'dynamic');
  return { engine, modelName: name, look, test, weights: ckpt };
}

/** Output names: the file's stem, or stem_ext when two inputs share a stem. */
function outputNames(files: readonly string[]): string[] {
  const stems = files.map((f) => basename(f, extname(f)));
  return files.map((f, i) =>
    stems.indexOf(stems[i]) !== stems.lastIndexOf(stems[i])
      ? `${stems[i]}_${extname(f).slice(1)}`
      : stems[i],
  );
}

interface PhotoResult {
  line: string;
}

async function predictOne(
  p: Predictor,
  file: string,
  name: string,
  out: string,
  opts: { json: boolean; opacity: number },
): Promise<PhotoResult> {
  const t0 = performance.now();
  const photo = await readPhoto(file);
  const d = p.engine.sizeDivisor;
  if (Math.min(photo.height, photo.width) < d) {
    throw new PhotoError(
      `${file} is ${photo.width}×${photo.height} px, smaller than ${d} px, the size divisor of ${p.modelName}`,
      `give a photo at least ${d} px on its shorter side`,
      file,
    );
  }
  const t1 = performance.now();
  const net = engineNet(p.engine);
  let netMs = 0;
  const timed: LogitsNet = {
    ...net,
    async logits(x) {
      const t = performance.now();
      try {
        return await net.logits(x);
      } finally {
        netMs += performance.now() - t;
      }
    },
  };
  const pred = await segmentPhoto(timed, photo, p.test);
  const ms = performance.now() - t1;
  const info = {
    image: file,
    model: p.modelName,
    weights: p.weights,
    engine: p.engine.describe(),
    dataset: p.look.name,
    inputSize: pred.inputSize,
    mode: p.test.inference.mode,
    latencyMs: Math.round(ms),
    networkMs: Math.round(netMs),
  };
  const w = await writePrediction(
    out,
    name,
    {
      photo,
      labels: pred.labels,
      palette: p.look.palette,
      classes: p.look.classes,
      opacity: opts.opacity,
      info,
    },
    opts.json,
  );
  const top = classAreas(pred.labels, p.look.classes)
    .slice(0, 3)
    .map((a) => `${a.name.trim()} ${(a.share * 100).toFixed(1)}%`)
    .join(', ');
  const [ih, iw] = pred.inputSize;
  const line =
    `${file} ${photo.width}×${photo.height} (network ${iw}×${ih}, ${p.test.inference.mode}): ${top}; ` +
    `${(ms / 1000).toFixed(2)} s inference (network ${(netMs / 1000).toFixed(2)} s), ` +
    `${((performance.now() - t0) / 1000).toFixed(2)} s in all → ` +
    [w.overlay, w.labelPng, w.json].filter(Boolean).join(', ');
  return { line };
}

export const predictCommand: Command = {
  summary: 'segment your own images (JPEG, PNG, WebP; a file or a folder): label PNG + overlay',
  help: [
    '  --run DIR              a training run folder (config.json + its last checkpoint), or',
    '  --model NAME --checkpoint F [--classes K]   a model and its weights (.pth or .ckpt), or',
    '  --onnx F.onnx          a model exported with offseg export',
    '  --input IMG|DIR        a photo or a folder of photos (any size, EXIF orientation applied)',
    `  --output DIR           where pred/<name>.png and vis/<name>.jpg go (default ${DEFAULT_OUTPUT})`,
    `  --palette NAME         ${PALETTE_NAMES.join(' | ')};`,
    "                         default: the run's dataset, or the dataset with the model's class",
    '                         count. Also sets the test pipeline (keep-ratio scale, whole/slide)',
    "  --mode whole|slide     override the dataset's inference mode",
    '  --opacity A            weight of the colours in the overlay (default 0.5)',
    '  --json                 also write pred/<name>.json: classes present with pixel counts and shares',
    '  --backend NAME         auto | wasm | cpu | tensorflow | tensorflow-gpu (tfjs engine)',
    ...ENGINE_FLAGS_HELP,
    ...WEIGHT_FLAGS_HELP,
  ].join('\n'),
  async run(argv) {
    const v = parse(argv, FLAGS);
    const input = requireString(v.input, 'input');
    const out = typeof v.output === 'string' ? v.output : DEFAULT_OUTPUT;
    const opts = { json: v.json === true, opacity: opacityOption(v.opacity) };
    if (!existsSync(input)) throw new UserError(`input not found: ${input}`, 2, 'check --input');
    const folder = statSync(input).isDirectory();
    const files = folder ? listPhotos(input) : [input];
    const p = await openPredictor(v);
    const names = outputNames(files);
    if (!folder) {
      const r = await predictOne(p, files[0], names[0], out, opts);
      process.stderr.write(`[offseg] ${r.line}\n`);
      await p.engine.dispose();
      return 0;
    }
    const bar = progressBar(files.length, 'predict');
    const failed: string[] = [];
    const done: string[] = [];
    for (let i = 0; i < files.length; i++) {
      try {
        done.push((await predictOne(p, files[i], names[i], out, opts)).line);
      } catch (e) {
        if (!isUserError(e) && !(e instanceof RangeError)) throw e;
        failed.push(formatUserError(e as Error).trimEnd());
      }
      bar.update(i + 1);
    }
    bar.stop();
    await p.engine.dispose();
    for (const l of done) process.stderr.write(`[offseg] ${l}\n`);
    for (const f of failed) process.stderr.write(`${f}\n`);
    process.stderr.write(
      `[offseg] ${done.length} of ${files.length} images segmented into ${out}` +
        (failed.length ? `; ${failed.length} failed (listed above)\n` : '\n'),
    );
    return failed.length ? 1 : 0;
  },
};
