/**
 * The exported OffSeg-T in ONNX Runtime against the official implementation's outputs (fixture
 * `offseg_t`, its checkpoint, K = 150): one dynamic-H×W export evaluated at 256² (attention
 * biases resized) and 512² (biases at native size), within the manifest's limits — the same
 * limits the tfjs parity tests meet. Skipped when the fixtures are absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  expectParity,
  fixtureFile,
  fixturesPresent,
  preprocessFixtureImage,
  useBackend,
} from '../../test/helpers/parity.ts';
import { readNpyNhwc } from '../io/tensor_npy.ts';
import { loadStateDict, readTorchCheckpoint } from '../io/checkpoint.ts';
import { createModel } from '../models/registry.ts';
import { OrtSegmentor } from '../engine/onnxruntime.ts';
import { exportOnnx } from './onnx.ts';

await useBackend();

const skip = fixturesPresent() ? false : 'parity fixtures not present';

async function logits(ort: OrtSegmentor, x: tf.Tensor4D): Promise<tf.Tensor> {
  const [b, h, w] = x.shape;
  const xn = tf.transpose(x, [0, 3, 1, 2]);
  const out = await ort.run(xn.dataSync() as Float32Array, [b, 3, h, w]);
  xn.dispose();
  return tf.tensor(out.data, out.dims);
}

test(
  'offseg_t in ONNX Runtime (dynamic H×W) reproduces the official logits at 256² and 512²',
  { skip },
  async () => {
    const model = createModel('offseg-t', { numClasses: 150 });
    const report = loadStateDict(
      model,
      readTorchCheckpoint(fixtureFile('offseg_t', 'checkpoint.pth')),
    );
    assert.equal(report.missing.length, 0);
    const r = await exportOnnx(model, { modelName: 'offseg-t', dynamic: true });
    model.dispose();
    const ort = await OrtSegmentor.create(r.bytes, { threads: 2 });
    const at256 = await logits(ort, readNpyNhwc(fixtureFile('offseg_t', 'input.npy')));
    assert.deepEqual(at256.shape, [1, 150, 64, 64]);
    await expectParity('offseg_t', 'logits', at256);
    const at512 = await logits(ort, preprocessFixtureImage('offseg_t', 'image_512_rgb_uint8.npy'));
    assert.deepEqual(at512.shape, [1, 150, 128, 128]);
    await expectParity('offseg_t', 'logits_512', at512);
    await ort.release();
  },
);
