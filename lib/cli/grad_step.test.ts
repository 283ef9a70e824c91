/**
 * `offseg grad-step` as a user runs it: one file per parameter gradient in PyTorch layout (the
 * values are the library's train-step gradients, whose correctness is checked against central
 * differences in lib/models/gradcheck.models.test.ts — this file checks the plumbing), the BN
 * buffers after exactly one step, the loss, and a refusal to write into a non-empty folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/helpers/parity.ts';
import { switchBackend } from '../../test/helpers/backends.ts';
import { createModel } from '../models/registry.ts';
import { oursToTorch } from '../models/core/module.ts';
import { exportPth } from '../io/checkpoint.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { segCrossEntropy } from '../train/loss.ts';

function offseg(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/offseg.mjs'), ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('offseg grad-step writes the loss, torch-layout gradients and one step of BN statistics', async () => {
  await switchBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), 'offseg-gstep-'));
  const [b, h, w, k] = [1, 64, 96, 5];
  const model = createModel('offseg-t', { numClasses: k, seed: 3 });
  const ckpt = join(dir, 'w.pth');
  exportPth(model, ckpt);
  const xNchw = tf.randomNormal([b, 3, h, w], 0, 1, 'float32', 4);
  const labels = Int32Array.from(tf.randomUniformInt([b, h, w], 0, k, 5).dataSync());
  for (let i = 0; i < labels.length; i += 9) labels[i] = 255;
  writeNpy(join(dir, 'x.npy'), {
    dtype: '<f4',
    shape: [b, 3, h, w],
    data: Float32Array.from(xNchw.dataSync()),
  });
  writeNpy(join(dir, 'y.npy'), { dtype: '<i4', shape: [b, h, w], data: labels });
  const out = join(dir, 'step');
  const args = ['grad-step', '--model', 'offseg-t', '--classes', String(k), '--checkpoint', ckpt];
  const io = ['--input', join(dir, 'x.npy'), '--labels', join(dir, 'y.npy'), '--out', out];
  const r = offseg(...args, ...io, '--backend', 'wasm');
  assert.equal(r.code, 0, r.err);

  // the same step in-process
  model.train();
  const params = model.namedParameters();
  const x = tf.transpose(xNchw, [0, 2, 3, 1]) as tf.Tensor4D;
  const y = tf.tensor3d(labels, [b, h, w], 'int32');
  const { value, grads } = tf.variableGrads(
    () => segCrossEntropy(model.forward(x), y),
    params.map((p) => p.variable),
  );
  const files = readdirSync(out);
  assert.equal(files.filter((f) => f.startsWith('grad_')).length, params.length);
  const meta = JSON.parse(readFileSync(join(out, 'loss.json'), 'utf8')) as { loss: number };
  assert.ok(Math.abs(meta.loss - value.dataSync()[0]) <= 1e-5 * meta.loss, `loss ${meta.loss}`);
  for (const key of [
    'backbone.patch_embed.0.weight', // conv: torch (O, I, kH, kW)
    'backbone.network.4.7.token_mixer.attention_biases_seg',
    'decode_head.offset_learning.cls_repr',
    'decode_head.align.conv.weight',
  ]) {
    const p = params.find((e) => e.key === key);
    assert.ok(p, key);
    const want = oursToTorch(grads[p.variable.name], p.layout);
    const got = readNpy(join(out, `grad_${key}.npy`));
    assert.deepEqual(got.shape, want.shape, key);
    assert.deepEqual(Array.from(got.data as Float32Array), Array.from(want.dataSync()), key);
    want.dispose();
  }
  const unused = readNpy(join(out, 'grad_decode_head.conv_seg.weight.npy'));
  assert.ok(
    (unused.data as Float32Array).every((v) => v === 0),
    'conv_seg never reaches the loss',
  );
  // one step of BatchNorm: num_batches_tracked 0 → 1, running statistics moved
  const tracked = files.filter((f) => f.endsWith('num_batches_tracked.npy'));
  assert.ok(tracked.length > 0);
  for (const f of tracked) {
    const d = readNpy(join(out, f)).data;
    assert.ok(d instanceof BigInt64Array && d.length === 1 && d[0] === 1n, f);
  }
  const rv = readNpy(join(out, 'backbone.patch_embed.1.running_var.npy')).data as Float32Array;
  assert.ok(
    rv.some((v) => v !== 1),
    'running_var updated',
  );
  tf.dispose([value, x, y, xNchw, ...Object.values(grads)]);
  model.dispose();

  // nothing is overwritten
  writeFileSync(join(dir, 'keep.txt'), 'x');
  const again = offseg(...args, ...io.slice(0, 4), '--out', dir, '--backend', 'wasm');
  assert.equal(again.code, 2);
  assert.match(again.err, /is not empty: choose a new folder/);
});
