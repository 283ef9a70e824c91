/** `offseg params` and `offseg forward`. */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { selectBackend } from '../backend/select.ts';
import { createModel, UnknownModelError } from '../models/registry.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { npyToTensor } from '../io/tensor_npy.ts';
import type { WeightLoadOptions } from '../io/load_weights.ts';
import { loadAndReport, weightOptions, WEIGHT_FLAGS, WEIGHT_FLAGS_HELP } from './weight_flags.ts';
import { parse, intOption, requireString } from './args.ts';
import { ENGINE_FLAGS, ENGINE_FLAGS_HELP, openEngine, openOnnxFile } from './engine_flags.ts';
import type { SegmentationEngine } from '../engine/engine.ts';
import { OnnxModelError } from '../engine/onnxruntime.ts';
import { UserError } from './errors.ts';
import type { Command } from './command.ts';

export function buildModel(name: string, numClasses: number, seed = 0): Segmentor {
  try {
    return createModel(name, { numClasses, seed });
  } catch (e) {
    if (e instanceof UnknownModelError) throw new UserError(e.message);
    throw e;
  }
}

/**
 * Build `name` with K classes and load a checkpoint (.pth or .ckpt) into it through
 * lib/io/load_weights.ts: every model tensor must load (unless `opts` relaxes it), unused extras
 * are listed, the summary goes to stderr. Throws a CheckpointError naming the file, the likely
 * cause and the flag that fixes it.
 */
export function loadModel(
  name: string,
  numClasses: number,
  ckptPath: string,
  opts: WeightLoadOptions = weightOptions({}, '--model/--classes'),
): Segmentor {
  const model = buildModel(name, numClasses);
  try {
    loadAndReport(model, ckptPath, opts);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Throw a UserError naming the first path in `files` ([path, what]) that does not exist. */
export function requireFiles(files: readonly (readonly [string, string])[]): void {
  for (const [p, what] of files)
    if (!existsSync(p)) throw new UserError(`${what} file not found: ${p}`);
}

export const paramsCommand: Command = {
  summary: 'count the parameters of a registered model',
  help: '  --model NAME   model name (offseg-t, offseg-b, …)\n  --classes K    number of classes (default 150)\n  --json         print {"model","classes","params"}',
  async run(argv) {
    const v = parse(argv, {
      model: { type: 'string' },
      classes: { type: 'string' },
      json: { type: 'boolean' },
    });
    const name = requireString(v.model, 'model');
    const classes = intOption(v.classes, 'classes', 150);
    await selectBackend({ prefer: 'cpu', log: false });
    const model = buildModel(name, classes);
    const params = model.numParams();
    model.dispose();
    if (v.json) console.log(JSON.stringify({ model: name, classes, params }));
    else
      console.log(
        `${name} (K=${classes}): ${params.toLocaleString('en-US')} parameters (${(params / 1e6).toFixed(3)} M)`,
      );
    return 0;
  },
};

export const forwardCommand: Command = {
  summary: 'run a model in eval mode on a float32 NCHW .npy and write its logits (.npy, NCHW)',
  help: [
    '  --model NAME         model name',
    '  --classes K          number of classes',
    '  --checkpoint F       official (mmseg) or exported .pth, or an offseg-ts .ckpt',
    '  --input IN.npy       float32 (1|B, 3, H, W), already normalised; H, W divisible by 32',
    '  --output OUT.npy     logits (B, K, H/s, W/s) before any resize',
    '  --backend NAME       auto | wasm | cpu | tensorflow | tensorflow-gpu',
    '  --onnx F.onnx        run an exported model (offseg export) instead of --model/--checkpoint',
    ...ENGINE_FLAGS_HELP,
    ...WEIGHT_FLAGS_HELP,
  ].join('\n'),
  async run(argv) {
    const v = parse(argv, {
      model: { type: 'string' },
      classes: { type: 'string' },
      checkpoint: { type: 'string' },
      input: { type: 'string' },
      output: { type: 'string' },
      backend: { type: 'string' },
      onnx: { type: 'string' },
      ...WEIGHT_FLAGS,
      ...ENGINE_FLAGS,
    });
    const inPath = requireString(v.input, 'input');
    const outPath = requireString(v.output, 'output');
    const onnx = typeof v.onnx === 'string' ? v.onnx : undefined;
    let engine: SegmentationEngine;
    if (onnx) {
      requireFiles([
        [onnx, 'ONNX model'],
        [inPath, 'input'],
      ]);
      await selectBackend({ prefer: (v.backend as 'auto' | undefined) ?? 'auto' });
      engine = await openOnnxFile(v, onnx);
    } else {
      const name = requireString(v.model, 'model');
      const classes = intOption(v.classes, 'classes');
      const ckptPath = requireString(v.checkpoint, 'checkpoint');
      requireFiles([
        [ckptPath, 'checkpoint'],
        [inPath, 'input'],
      ]);
      await selectBackend({ prefer: (v.backend as 'auto' | undefined) ?? 'auto' });
      const model = loadModel(name, classes, ckptPath, weightOptions(v, '--model/--classes'));
      engine = await openEngine(v, model, name, 'per-size');
    }
    const arr = readNpy(inPath);
    if (arr.dtype !== '<f4' || arr.shape.length !== 4 || arr.shape[1] !== 3) {
      throw new UserError(
        `${inPath}: expected float32 (B, 3, H, W), got ${arr.dtype} [${arr.shape}]`,
      );
    }
    const [, , h, w] = arr.shape;
    if (h % engine.sizeDivisor || w % engine.sizeDivisor) {
      throw new UserError(
        `${inPath}: H and W must be divisible by ${engine.sizeDivisor}, got ${h}×${w}`,
      );
    }
    const x = tf.tidy(() => tf.transpose(npyToTensor(arr), [0, 2, 3, 1]) as tf.Tensor4D); // NCHW → NHWC
    let nhwc: tf.Tensor4D;
    try {
      nhwc = await engine.logits(x);
    } catch (e) {
      if (e instanceof OnnxModelError) throw new UserError(e.message, 1);
      throw e;
    }
    const logits = tf.transpose(nhwc, [0, 3, 1, 2]); // NHWC → NCHW
    tf.dispose([x, nhwc]);
    await engine.dispose();
    writeNpy(outPath, {
      dtype: '<f4',
      shape: [...logits.shape],
      data: Float32Array.from(await logits.data()),
    });
    process.stderr.write(`[offseg] wrote ${outPath} [${logits.shape}]\n`);
    return 0;
  },
};
