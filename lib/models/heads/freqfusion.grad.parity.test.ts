/**
 * Gradient parity of FreqFusion with the official module (fixture `freqfusion`):
 * L = Σ hr_out·G_hr + Σ lr_out·G_lr; dL/dhr, dL/dlr and all 20 parameter gradients, compared in
 * torch layout. cpu backend (gather/segment-sum and other backprop kernels are complete there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  expectParity,
  fixtureFile,
  useBackend,
  PARITY_SKIP,
} from '../../../test/helpers/parity.ts';
import { readNpyNhwc, nhwcToNchw } from '../../io/tensor_npy.ts';
import { readTorchCheckpoint, loadStateDict } from '../../io/checkpoint.ts';
import { oursToTorch } from '../core/module.ts';
import { FreqFusion } from './freqfusion.ts';

await useBackend(process.env.OFFSEG_BACKEND ? undefined : 'cpu');

const FIX = 'freqfusion';

test(
  'freqfusion: gradients w.r.t. both inputs and all 20 parameters match',
  { skip: PARITY_SKIP },
  async () => {
    const ff = new FreqFusion({
      hrChannels: 64,
      lrChannels: 128,
      compressedChannels: 48,
    }).assignPaths();
    loadStateDict(ff, readTorchCheckpoint(fixtureFile(FIX, 'checkpoint.pth')));
    const hr = tf.variable(readNpyNhwc(fixtureFile(FIX, 'hr.npy')));
    const lr = tf.variable(readNpyNhwc(fixtureFile(FIX, 'lr.npy')));
    const gHr = readNpyNhwc(fixtureFile(FIX, 'grad_hr_out.npy'));
    const gLr = readNpyNhwc(fixtureFile(FIX, 'grad_lr_out.npy'));
    const params = ff.namedParameters();
    assert.equal(params.length, 20);
    // One backward pass for inputs and parameters: the inputs are variables too.
    const { grads } = tf.variableGrads(() => {
      const { hrOut, lrOut } = ff.forward(hr as tf.Tensor4D, lr as tf.Tensor4D);
      return tf.add(tf.sum(tf.mul(hrOut, gHr)), tf.sum(tf.mul(lrOut, gLr))) as tf.Scalar;
    }, [hr, lr, ...params.map((p) => p.variable)]);
    await expectParity(FIX, 'grad_hr', nhwcToNchw(grads[hr.name]));
    await expectParity(FIX, 'grad_lr', nhwcToNchw(grads[lr.name]));
    for (const p of params) {
      await expectParity(FIX, `grad_${p.key}`, oursToTorch(grads[p.variable.name], p.layout));
    }
  },
);
