/** `offseg export`: write a registered model (random, or with a checkpoint) as an ONNX file. */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { exportOnnx, ExportError, type ExportResult } from '../export/onnx.ts';
import { DynamicShapeError } from '../export/dynamic.ts';
import { UnsupportedKernelError } from '../export/lower.ts';
import { checkWritable, OutputPathError, writeFileAtomic } from '../export/write.ts';
import { OnnxModelError, OrtSegmentor } from '../engine/onnxruntime.ts';
import { buildModel, loadModel, requireFiles } from './model_commands.ts';
import { weightOptions, WEIGHT_FLAGS, WEIGHT_FLAGS_HELP } from './weight_flags.ts';
import { intOption, parse, requireString, sizeOption } from './args.ts';
import { UserError } from './errors.ts';
import type { Command } from './command.ts';

/** Our exporter's errors as one-line user errors (exit 2; 1 for a missing kernel mapping). */
function asUserError(e: unknown): unknown {
  if (e instanceof ExportError || e instanceof OutputPathError || e instanceof DynamicShapeError) {
    return new UserError(e.message);
  }
  if (e instanceof OnnxModelError) return new UserError(e.message, 1);
  if (e instanceof UnsupportedKernelError) return new UserError(e.message, 1);
  return e;
}

/** ORT vs tfjs on one random input of the exported size: max|Δ| / max|logit|. */
async function check(model: Segmentor, r: ExportResult, size: [number, number]): Promise<number> {
  const [h, w] = size;
  const batch = r.input.shape[0] as number;
  const x = tf.randomUniform([batch, h, w, 3], -2, 2, 'float32', 7) as tf.Tensor4D;
  const ref = tf.tidy(() => tf.transpose(model.eval().forward(x), [0, 3, 1, 2]));
  const xn = tf.transpose(x, [0, 3, 1, 2]);
  const ort = await OrtSegmentor.create(r.bytes);
  const out = await ort.run(xn.dataSync() as Float32Array, [batch, 3, h, w]);
  await ort.release();
  const rv = ref.dataSync();
  let d = 0;
  let m = 0;
  for (let i = 0; i < rv.length; i++) {
    d = Math.max(d, Math.abs(out.data[i] - rv[i]));
    m = Math.max(m, Math.abs(rv[i]));
  }
  tf.dispose([x, ref, xn]);
  return d / m;
}

const shape = (s: (number | string)[]): string => `[${s.join(', ')}]`;

export const exportCommand: Command = {
  summary: 'export a model (eval mode, its weights) to ONNX for ONNX Runtime',
  help: [
    '  --model NAME           model name (offseg-t, segformer-b0, …)',
    '  --classes K            number of classes (default 150)',
    '  --checkpoint FILE      weights (.pth official/exported or .ckpt); default: random init',
    '  --size HxW             fixed input size, multiples of the size divisor (default 512x512)',
    '  --dynamic              symbolic height and width (any multiples of the divisor)',
    '  --batch N              batch size of the exported input (default 1)',
    '  --output FILE          the .onnx to write (atomically: no partial file on failure)',
    '  --check                run the file once in ONNX Runtime and compare with tfjs',
    '  --json                 print {file, bytes, opset, input, output, nodes}',
    ...WEIGHT_FLAGS_HELP,
    '  Input: float32 NCHW normalised like forward; output: logits NCHW at the output stride.',
  ].join('\n'),
  async run(argv) {
    const v = parse(argv, {
      model: { type: 'string' },
      classes: { type: 'string' },
      checkpoint: { type: 'string' },
      size: { type: 'string' },
      dynamic: { type: 'boolean' },
      batch: { type: 'string' },
      output: { type: 'string' },
      check: { type: 'boolean' },
      json: { type: 'boolean' },
      ...WEIGHT_FLAGS,
    });
    const name = requireString(v.model, 'model');
    const classes = intOption(v.classes, 'classes', 150);
    const batch = intOption(v.batch, 'batch', 1);
    const out = requireString(v.output, 'output');
    if (v.dynamic && v.size !== undefined)
      throw new UserError('give --size or --dynamic, not both');
    const size = sizeOption(v.size, 'size', [512, 512]);
    const ckpt = typeof v.checkpoint === 'string' ? v.checkpoint : undefined;
    try {
      checkWritable(out);
      if (ckpt) requireFiles([[ckpt, 'checkpoint']]);
      await selectBackend({ prefer: v.check ? 'auto' : 'cpu', log: false });
      const model = ckpt
        ? loadModel(name, classes, ckpt, weightOptions(v, '--model/--classes'))
        : buildModel(name, classes);
      const d = model.sizeDivisor;
      if (!v.dynamic && (size[0] % d || size[1] % d)) {
        throw new UserError(
          `--size ${size[0]}x${size[1]}: H and W must be multiples of ${d} for ${name}`,
        );
      }
      const what = v.dynamic ? 'dynamic H×W' : `${size[0]}×${size[1]}`;
      process.stderr.write(`[offseg] exporting ${name} (K=${classes}) at ${what}…\n`);
      const r = await exportOnnx(model, {
        modelName: name,
        size,
        dynamic: v.dynamic === true,
        batch,
      });
      writeFileAtomic(out, r.bytes);
      const mb = (r.bytes.length / 1e6).toFixed(1);
      if (v.json) {
        console.log(
          JSON.stringify({
            file: out,
            bytes: r.bytes.length,
            opset: r.opset,
            input: r.input,
            output: r.output,
            nodes: r.nodes,
          }),
        );
      } else {
        console.log(
          `wrote ${out} (${mb} MB): opset ${r.opset}, input '${r.input.name}' float32 ${shape(r.input.shape)} → ` +
            `output '${r.output.name}' float32 ${shape(r.output.shape)} (logits at 1/${model.outputStride}), ${r.nodes} nodes`,
        );
      }
      if (v.check) {
        const at: [number, number] = v.dynamic ? [2 * d, 3 * d] : size;
        const rel = await check(model, r, at);
        process.stderr.write(
          `[offseg] check at ${at[0]}×${at[1]}: ONNX Runtime vs tfjs max|Δ|/max|logit| = ${rel.toExponential(2)}\n`,
        );
        if (!(rel <= 1e-4)) throw new UserError(`check failed: ${rel} > 1e-4`, 1);
      }
      model.dispose();
      return 0;
    } catch (e) {
      throw asUserError(e);
    }
  },
};
