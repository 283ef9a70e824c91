/**
 * The inference-engine flags every inference command shares (`forward`, `eval`): which engine
 * runs the network (tfjs or ONNX Runtime) and, for ONNX Runtime, its execution providers and
 * threads. The chosen engine is printed on stderr.
 */
import os from 'node:os';
import type { Segmentor } from '../models/segmentor.ts';
import { TfjsEngine, type EngineName, type SegmentationEngine } from '../engine/engine.ts';
import { chooseEngine, OrtEngine } from '../engine/ort_engine.ts';
import { OnnxModelError, type ExecutionProvider } from '../engine/onnxruntime.ts';
import type { Options } from './args.ts';
import { UserError } from './errors.ts';
import { envPositiveInt } from '../env.ts';

export const ENGINE_FLAGS = {
  engine: { type: 'string' },
  ep: { type: 'string' },
} as const satisfies Options;

export const ENGINE_FLAGS_HELP = [
  '  --engine NAME          auto (default: the fastest available, ONNX Runtime, else tfjs) |',
  '                         tfjs | onnxruntime (the model is exported to ONNX in memory first)',
  '  --ep LIST              ONNX Runtime execution providers, e.g. cuda,cpu (default cpu; CUDA',
  '                         needs onnxruntime-node installed with ONNXRUNTIME_NODE_INSTALL=cuda12)',
];

type Parsed = Record<string, string | boolean | (string | boolean)[] | undefined>;

const EPS: readonly ExecutionProvider[] = ['cpu', 'cuda', 'webgpu'];

function engineOption(v: Parsed): EngineName | 'auto' {
  const e = v.engine ?? 'auto';
  if (e === 'auto' || e === 'tfjs' || e === 'onnxruntime') return e;
  throw new UserError(`--engine must be auto, tfjs or onnxruntime, got '${String(e)}'`);
}

function sessionOptions(v: Parsed): { executionProviders: ExecutionProvider[]; threads: number } {
  const list = typeof v.ep === 'string' ? v.ep.split(',').map((s) => s.trim()) : ['cpu'];
  for (const ep of list) {
    if (!EPS.includes(ep as ExecutionProvider)) {
      throw new UserError(`--ep: unknown execution provider '${ep}' (one of ${EPS.join(', ')})`);
    }
  }
  const threads = envPositiveInt('OFFSEG_THREADS') ?? os.availableParallelism();
  return { executionProviders: list as ExecutionProvider[], threads };
}

function announce(engine: SegmentationEngine, note?: string): void {
  process.stderr.write(`[offseg] engine: ${engine.describe()}${note ? ` (${note})` : ''}\n`);
}

/**
 * The engine the flags ask for over `model`. ONNX Runtime exports the model on first use:
 * `shapes` 'per-size' for a single input size, 'dynamic' for inputs of varying size.
 * @throws UserError for a bad flag, or when onnxruntime is asked for and cannot load.
 */
export async function openEngine(
  v: Parsed,
  model: Segmentor,
  modelName: string,
  shapes: 'dynamic' | 'per-size',
): Promise<SegmentationEngine> {
  const pref = engineOption(v);
  let choice;
  try {
    choice = await chooseEngine(pref);
  } catch (e) {
    if (e instanceof OnnxModelError) throw new UserError(e.message, 1);
    throw e;
  }
  const engine =
    choice.name === 'tfjs'
      ? new TfjsEngine(model)
      : OrtEngine.fromModel(model, modelName, {
          ...sessionOptions(v),
          shapes,
          onExport: (m) => process.stderr.write(`[offseg] ${m}\n`),
        });
  announce(engine, choice.note);
  return engine;
}

/**
 * ONNX Runtime over an exported `.onnx` file.
 * @throws UserError (exit 1) for a missing, corrupt or foreign file.
 */
export async function openOnnxFile(v: Parsed, path: string): Promise<SegmentationEngine> {
  if (v.engine === 'tfjs') throw new UserError('--onnx runs on ONNX Runtime; drop --engine tfjs');
  try {
    const engine = await OrtEngine.fromFile(path, sessionOptions(v));
    announce(engine);
    return engine;
  } catch (e) {
    if (e instanceof OnnxModelError) throw new UserError(e.message, 1);
    throw e;
  }
}
