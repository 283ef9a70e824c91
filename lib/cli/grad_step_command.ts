/**
 * `offseg grad-step`: one training-mode forward + backward, written out for comparison with
 * another implementation (e.g. the official PyTorch code) file by file.
 *
 * The step is mmseg's: train-mode BatchNorm (batch statistics, running statistics updated with
 * momentum 0.1), the decode head's cross-entropy (logits resized bilinearly, align_corners False,
 * to the label size; ignore 255; sum over valid pixels / all pixels). No optimiser update.
 * Outputs in --out (a new or empty folder; nothing is overwritten):
 * - `loss.json`: {"loss", "model", "classes", "backend", "input", "labels"};
 * - `grad_<key>.npy`: ∂loss/∂parameter in PyTorch layout (float32) for every parameter, zeros
 *   where the parameter does not reach the loss (e.g. `decode_head.conv_seg.*`);
 * - `<key>.npy` for every BatchNorm buffer after the step (running_mean, running_var float32,
 *   num_batches_tracked int64), as a PyTorch state_dict would hold them.
 * Randomness: OffSeg-T (EfficientFormerV2-S1) has drop path 0; families with drop path, dropout
 * or NMF bases draw them from their seeded generators, which PyTorch cannot reproduce.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backend/select.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { npyToTensor } from '../io/tensor_npy.ts';
import { torchStateDict } from '../io/checkpoint.ts';
import { oursToTorch } from '../models/core/module.ts';
import { setGradientCheckpointing } from '../models/core/grad_checkpoint.ts';
import { segCrossEntropy } from '../train/loss.ts';
import { intOption, parse, requireString } from './args.ts';
import { UserError } from './errors.ts';
import { loadModel, requireFiles } from './model_commands.ts';
import { weightOptions, WEIGHT_FLAGS, WEIGHT_FLAGS_HELP } from './weight_flags.ts';
import type { Command } from './command.ts';

export const gradStepCommand: Command = {
  summary: 'one train-mode step: write the loss, every parameter gradient and BN statistics',
  help: [
    '  --model NAME         model name',
    '  --classes K          number of classes',
    '  --checkpoint F       official (mmseg) or exported .pth, or an offseg-ts .ckpt',
    '  --input IN.npy       float32 (B, 3, H, W), already normalised; H, W divisible by 32',
    '  --labels L.npy       integer (B, H, W) class indices, 255 = ignore (int64/int32/uint8)',
    '  --out DIR            new or empty folder for loss.json, grad_<key>.npy, BN buffers',
    '  --grad-checkpoint    recompute activations in the backward pass (same gradients)',
    '  --backend NAME       auto | wasm | cpu | tensorflow | tensorflow-gpu',
    ...WEIGHT_FLAGS_HELP,
  ].join('\n'),
  async run(argv) {
    const v = parse(argv, {
      model: { type: 'string' },
      classes: { type: 'string' },
      checkpoint: { type: 'string' },
      input: { type: 'string' },
      labels: { type: 'string' },
      out: { type: 'string' },
      'grad-checkpoint': { type: 'boolean' },
      backend: { type: 'string' },
      ...WEIGHT_FLAGS,
    });
    const name = requireString(v.model, 'model');
    const classes = intOption(v.classes, 'classes');
    const ckptPath = requireString(v.checkpoint, 'checkpoint');
    const inPath = requireString(v.input, 'input');
    const labPath = requireString(v.labels, 'labels');
    const out = requireString(v.out, 'out');
    requireFiles([
      [ckptPath, 'checkpoint'],
      [inPath, 'input'],
      [labPath, 'labels'],
    ]);
    if (existsSync(out) && readdirSync(out).length > 0) {
      throw new UserError(
        `--out ${out} is not empty: choose a new folder (nothing is overwritten)`,
      );
    }
    const x = readNpy(inPath);
    if (x.dtype !== '<f4' || x.shape.length !== 4 || x.shape[1] !== 3) {
      throw new UserError(`${inPath}: expected float32 (B, 3, H, W), got ${x.dtype} [${x.shape}]`);
    }
    const y = readNpy(labPath);
    const [b, , h, w] = x.shape;
    if (y.shape.length !== 3 || y.shape[0] !== b || y.data instanceof Float32Array) {
      throw new UserError(
        `${labPath}: expected integer labels (${b}, H, W), got ${y.dtype} [${y.shape}]`,
      );
    }
    const info = await selectBackend({ prefer: (v.backend as 'auto' | undefined) ?? 'auto' });
    const model = loadModel(name, classes, ckptPath, weightOptions(v, '--model/--classes'));
    if (h % model.sizeDivisor || w % model.sizeDivisor) {
      throw new UserError(`${inPath}: H and W must be divisible by ${model.sizeDivisor}`);
    }
    setGradientCheckpointing(v['grad-checkpoint'] === true);
    model.train();
    const params = model.namedParameters();
    const xt = tf.tidy(() => tf.transpose(npyToTensor(x), [0, 2, 3, 1]) as tf.Tensor4D);
    const yt = npyToTensor(y) as tf.Tensor3D;
    const { value, grads } = tf.variableGrads(
      () => segCrossEntropy(model.forward(xt), yt),
      params.map((p) => p.variable),
    );
    const loss = (await value.data())[0];
    mkdirSync(out, { recursive: true });
    for (const p of params) {
      const g = tf.tidy(() =>
        oursToTorch(grads[p.variable.name] ?? tf.zerosLike(p.variable), p.layout),
      );
      writeNpy(join(out, `grad_${p.key}.npy`), {
        dtype: '<f4',
        shape: [...g.shape],
        data: Float32Array.from(await g.data()),
      });
      g.dispose();
    }
    const state = torchStateDict(model);
    const bn = [...state.keys()].filter((k) =>
      /\.(running_mean|running_var|num_batches_tracked)$/.test(k),
    );
    for (const k of bn) {
      const t = state.get(k)!;
      const data =
        t.dtype === 'float32'
          ? { dtype: '<f4' as const, data: t.data as Float32Array }
          : { dtype: '<i8' as const, data: BigInt64Array.from(t.data, (q) => BigInt(q)) };
      writeNpy(join(out, `${k}.npy`), { shape: t.shape, ...data });
    }
    writeFileSync(
      join(out, 'loss.json'),
      JSON.stringify(
        { loss, model: name, classes, backend: info.name, input: inPath, labels: labPath },
        null,
        1,
      ) + '\n',
    );
    tf.dispose([value, xt, yt, ...Object.values(grads)]);
    model.dispose();
    setGradientCheckpointing(false);
    process.stderr.write(
      `[offseg] loss ${loss}; wrote ${params.length} gradients and ${bn.length} BatchNorm buffers to ${out}\n`,
    );
    return 0;
  },
};
