/**
 * Inference engines: the eval recipes (whole with padding to the divisor, slide) give the same
 * logits on ONNX Runtime as on tfjs; a file that is not ONNX, or not one of our exports, is
 * refused with a message that says which.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import { predictLogits, predictLogitsWith } from '../eval/inference.ts';
import { encodeModel, DataType } from '../export/onnx_proto.ts';
import { TfjsEngine } from './engine.ts';
import { OrtEngine } from './ort_engine.ts';
import { OnnxModelError, OrtSegmentor } from './onnxruntime.ts';

await useBackend();

function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(
    () => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0],
  );
}

test('whole (padded) and slide inference: ONNX Runtime matches tfjs', async () => {
  const model = createModel('segformer-b0', { numClasses: 5 });
  const exports: string[] = [];
  const ort = OrtEngine.fromModel(model, 'segformer-b0', {
    threads: 2,
    onExport: (m) => exports.push(m),
  });
  const x = tf.randomUniform([1, 70, 100, 3], -2, 2, 'float32', 4) as tf.Tensor4D;
  for (const opts of [
    { mode: 'whole' as const },
    {
      mode: 'slide' as const,
      crop: [64, 64] as [number, number],
      stride: [48, 48] as [number, number],
    },
  ]) {
    const ref = predictLogits(model.eval(), x, [35, 50], opts);
    const viaTfjs = await predictLogitsWith(new TfjsEngine(model), x, [35, 50], opts);
    const viaOrt = await predictLogitsWith(ort, x, [35, 50], opts);
    assert.deepEqual(viaOrt.shape, [1, 35, 50, 5]);
    assert.equal(relDiff(viaTfjs, ref), 0, `${opts.mode}: the async path is the same recipe`);
    const rel = relDiff(viaOrt, ref);
    assert.ok(rel <= 1e-4, `${opts.mode}: ${rel}`);
    tf.dispose([ref, viaTfjs, viaOrt]);
  }
  assert.equal(exports.length, 1, `one dynamic export serves 96×128 and 64×64: ${exports}`);
  assert.match(exports[0], /dynamic H×W/);
  await ort.dispose();
  model.dispose();
});

test('a corrupt or a foreign ONNX file is named as such', async () => {
  await assert.rejects(
    OrtSegmentor.create(new Uint8Array([1, 2, 3, 250, 251])),
    (e: unknown) => e instanceof OnnxModelError && /not a readable ONNX file/.test(e.message),
  );
  const vi = (name: string) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 2 }] } } },
  });
  const foreign = encodeModel({
    irVersion: 8,
    producerName: 'someone-else',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 17 }],
    metadataProps: [],
    graph: {
      name: 'g',
      node: [{ input: ['x'], output: ['y'], opType: 'Relu' }],
      initializer: [],
      input: [vi('x')],
      output: [vi('y')],
    },
  });
  await assert.rejects(
    OrtSegmentor.create(foreign),
    (e: unknown) => e instanceof OnnxModelError && /foreign ONNX model/.test(e.message),
  );
});
