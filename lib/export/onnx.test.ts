/**
 * ONNX export: ONNX Runtime logits vs our tfjs logits, per model family, at a small non-square
 * size (max|Δ| ≤ 1e-4·max|logit|); a dynamic-shape export evaluated at two sizes; the file's
 * interface (initializer names = state_dict keys in PyTorch layout, metadata); and the errors.
 *
 * Kept cheap (64×96 inputs, one export per family; the heavy variants under OFFSEG_EXPORT_ALL=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { Module } from '../models/core/module.ts';
import { oursToTorch } from '../models/core/module.ts';
import { OrtSegmentor } from '../engine/onnxruntime.ts';
import { decodeModel } from './onnx_proto.ts';
import { exportOnnx, ExportError } from './onnx.ts';
import { UnsupportedKernelError } from './lower.ts';
import { DynamicShapeError } from './dynamic.ts';
import { preferMatMul } from './pointwise.ts';
import type { SymInt } from './sym.ts';

await useBackend();

const K = 7;
const REL = 1e-4;

/** ORT vs tfjs logits at [h, w]; returns max|Δ| / max|logit|. */
async function relDiff(
  model: Segmentor,
  ort: OrtSegmentor,
  h: number,
  w: number,
  seed = 1,
): Promise<number> {
  const x = tf.randomUniform([1, h, w, 3], -2, 2, 'float32', seed) as tf.Tensor4D;
  const ref = tf.tidy(() => tf.transpose(model.eval().forward(x), [0, 3, 1, 2]));
  const xn = tf.transpose(x, [0, 3, 1, 2]);
  const out = await ort.run(xn.dataSync() as Float32Array, [1, 3, h, w]);
  assert.deepEqual(out.dims, ref.shape, 'logits shape');
  const r = ref.dataSync();
  let d = 0;
  let m = 0;
  for (let i = 0; i < r.length; i++) {
    d = Math.max(d, Math.abs(out.data[i] - r[i]));
    m = Math.max(m, Math.abs(r[i]));
  }
  tf.dispose([x, ref, xn]);
  assert.ok(m > 0 && Number.isFinite(d), 'logits are finite and not all zero');
  return d / m;
}

async function checkFamily(name: string): Promise<void> {
  const model = createModel(name, { numClasses: K, seed: 3 });
  const r = await exportOnnx(model, { modelName: name, size: [64, 96] });
  assert.deepEqual(r.input.shape, [1, 3, 64, 96]);
  const s = model.outputStride;
  assert.deepEqual(r.output.shape, [1, K, 64 / s, 96 / s]);
  const ort = await OrtSegmentor.create(r.bytes, { threads: 2 });
  const rel = await relDiff(model, ort, 64, 96);
  console.log(`[onnx] ${name.padEnd(18)} 64×96 max|Δ|/max|logit| ${rel.toExponential(2)}`);
  assert.ok(rel <= REL, `${name}: ${rel} > ${REL}`);
  await ort.release();
  model.dispose();
}

const FAMILIES = ['offseg-t', 'segformer-b0-ol', 'segnext-t-ol'];
const MORE = [
  'offseg-b',
  'offseg-l',
  'offseg-t-co', // Table 6
  'offseg-t-pp-c64', // Table 7
  'segformer-b0',
  'segnext-t',
];
for (const name of FAMILIES) test(`ORT matches tfjs: ${name}`, () => checkFamily(name));
for (const name of MORE) {
  test(
    `ORT matches tfjs: ${name}`,
    { skip: !process.env.OFFSEG_EXPORT_ALL && 'set OFFSEG_EXPORT_ALL=1' },
    () => checkFamily(name),
  );
}

test('dynamic H×W: one export evaluated at two sizes', async () => {
  const model = createModel('segformer-b0', { numClasses: K });
  const r = await exportOnnx(model, { modelName: 'segformer-b0', dynamic: true });
  assert.deepEqual(r.input.shape, [1, 3, 'height', 'width']);
  assert.deepEqual(r.output.shape, [1, K, 'height/4', 'width/4']);
  // Judged at 512×512, the head's fusion conv (1024 channels at H/4×W/4, 64 MiB) is a MatMul on
  // the NHWC value (./pointwise.ts); the agreement below covers that path too.
  const op = (name: string) => decodeModel(r.bytes).graph.node.find((n) => n.name === name)?.opType;
  assert.equal(op('decode_head.fusion_conv.conv/_FusedMatMul'), 'MatMul');
  assert.equal(op('decode_head.conv_seg/_FusedMatMul'), 'Conv');
  const ort = await OrtSegmentor.create(r.bytes, { threads: 2 });
  for (const [h, w] of [
    [64, 96],
    [160, 64],
  ] as const) {
    const rel = await relDiff(model, ort, h, w);
    assert.ok(rel <= REL, `${h}×${w}: ${rel}`);
  }
  assert.equal(ort.accepts(96, 100), false, 'not a multiple of the divisor');
  model.dispose();
});

test('initializers are the state_dict keys in PyTorch layout, with the metadata', async () => {
  const model = createModel('segformer-b0', { numClasses: K });
  const { bytes } = await exportOnnx(model, { modelName: 'segformer-b0', size: [64, 64] });
  const m = decodeModel(bytes);
  assert.equal(m.opsetImport[0].version, 17);
  const inits = new Map(m.graph.initializer.map((t) => [t.name, t]));
  let checked = 0;
  for (const e of model.namedParameters()) {
    const t = inits.get(e.key);
    if (!t) continue;
    const torch = oursToTorch(e.variable, e.layout);
    assert.deepEqual(t.dims, torch.shape, e.key);
    const vals = new Float32Array(Uint8Array.from(t.rawData!).buffer);
    assert.deepEqual(Array.from(vals.slice(0, 5)), Array.from(torch.dataSync().slice(0, 5)), e.key);
    torch.dispose();
    checked++;
  }
  // SegFormer's forward reads every parameter, so each one is an initializer.
  assert.equal(checked, model.namedParameters().length);
  assert.deepEqual(inits.get('backbone.layers.0.1.0.attn.attn.in_proj_weight')?.dims, [96, 32]);
  // 1×1 convs (run by tfjs as Reshape → MatMul → Reshape) are written as Conv nodes.
  const op = (name: string) => m.graph.node.find((n) => n.name === name)?.opType;
  assert.equal(op('decode_head.fusion_conv.conv/_FusedMatMul'), 'Conv');
  assert.equal(op('backbone.layers.0.1.0.ffn.layers.0/_FusedMatMul'), 'Conv');
  assert.equal(op('backbone.layers.0.1.0.attn.attn.out_proj/BatchMatMul'), 'MatMul');
  const meta = new Map(m.metadataProps.map((p) => [p.key, p.value]));
  assert.equal(meta.get('offseg.model'), 'segformer-b0');
  assert.equal(meta.get('offseg.num_classes'), String(K));
  assert.equal(meta.get('offseg.output_stride'), '4');
  model.dispose();
});

test('1×1 convs over inputs of 32 MiB or more with > 32 outputs stay MatMuls', () => {
  assert.equal(preferMatMul([1, 128, 128, 512], 256), true, 'exactly 32 MiB (8 Mi floats)');
  assert.equal(preferMatMul([1, 128, 128, 511], 256), false, 'just under');
  assert.equal(preferMatMul([1, 128, 128, 1024], 32), false, 'one NCHWc pass');
  assert.equal(preferMatMul([1, 128, 128, 1024], 33), true);
  assert.equal(preferMatMul([2, 64, 64, 1024], 256), true, 'batch counts');
  // Symbolic sides are judged at 512×512: with h = H/32, H/4 = 8h is 128 there, H/8 = 4h is 64.
  const side = (k: number): SymInt => ({ sym: [0, 0, 0, k, 0, 0, 0, 0, 0] }); // k·h
  const sideW = (k: number): SymInt => ({ sym: [0, k, 0, 0, 0, 0, 0, 0, 0] }); // k·w
  assert.equal(preferMatMul([1, side(8), sideW(8), 1024], 256), true, 'H/4 × W/4 at 512²');
  assert.equal(preferMatMul([1, side(4), sideW(4), 1024], 256), false, 'H/8 × W/8 at 512²');
});

test('a size that is not a multiple of the divisor is refused', async () => {
  const model = createModel('segformer-b0', { numClasses: K });
  await assert.rejects(exportOnnx(model, { modelName: 'x', size: [64, 100] }), ExportError);
  model.dispose();
});

/** A one-op model running a kernel given by `op` (for the error paths). */
class Tiny extends Module {
  readonly numClasses = 1;
  readonly outputStride = 1;
  readonly sizeDivisor = 1;
  constructor(private readonly op: (x: tf.Tensor4D) => tf.Tensor4D) {
    super();
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.op(x));
  }
}

test('a kernel without an ONNX mapping is named in the error', async () => {
  const m = new Tiny((x) => tf.cumsum(x, 1) as tf.Tensor4D);
  await assert.rejects(
    exportOnnx(m as unknown as Segmentor, { modelName: 'x', size: [4, 4], record: 'compute' }),
    (e: unknown) => e instanceof UnsupportedKernelError && e.kernel === 'Cumsum',
  );
});

test('dynamic export refuses a constant whose values depend on the size', async () => {
  // A per-row ramp made in JS: its values (not a scalar) change with H.
  const m = new Tiny((x) => {
    const [, h] = x.shape;
    const ramp = tf.tensor4d(
      Float32Array.from({ length: h }, (_, i) => i),
      [1, h, 1, 1],
    );
    return tf.add(x, ramp);
  });
  await assert.rejects(
    exportOnnx(m as unknown as Segmentor, { modelName: 'x', dynamic: true }),
    DynamicShapeError,
  );
});
