/**
 * Forward parity of FreqFusion with the official module (fixture `freqfusion`: OffSeg-T fusion
 * step 1, hr 64 ch @32², lr 128 ch @16², Cc 48): hr_out, lr_out, mask_lr and the two debug
 * intermediates. Gradients are in freqfusion.grad.parity.test.ts (cpu backend).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expectParity,
  fixtureFile,
  tolerance,
  useBackend,
  PARITY_SKIP,
} from '../../../test/helpers/parity.ts';
import { readNpyNhwc, nhwcToNchw } from '../../io/tensor_npy.ts';
import { readTorchCheckpoint, loadStateDict } from '../../io/checkpoint.ts';
import { FreqFusion } from './freqfusion.ts';

await useBackend();

const FIX = 'freqfusion';

function buildFixtureFreqFusion(): FreqFusion {
  const ff = new FreqFusion({
    hrChannels: 64,
    lrChannels: 128,
    compressedChannels: 48,
  }).assignPaths();
  const report = loadStateDict(ff, readTorchCheckpoint(fixtureFile(FIX, 'checkpoint.pth')));
  assert.equal(report.missing.length, 0, `missing ${report.missing}`);
  assert.equal(report.unexpected.length, 0, `unexpected ${report.unexpected}`);
  assert.equal(report.loaded.length, 23); // 20 parameters + hamming_lowpass/highpass + init_pos
  return ff;
}

test(
  'freqfusion: checkpoint loads, init_pos equals the official buffer',
  { skip: PARITY_SKIP },
  () => {
    const ff = buildFixtureFreqFusion();
    assert.equal(ff.numParams(), 44466);
    const ckpt = readTorchCheckpoint(fixtureFile(FIX, 'checkpoint.pth'));
    const official = ckpt.stateDict.get('dysampler.init_pos');
    assert.ok(official);
    const fresh = new FreqFusion({ hrChannels: 64, lrChannels: 128, compressedChannels: 48 });
    assert.deepEqual(Array.from(fresh.dysampler.initPosBuf.dataSync()), Array.from(official.data));
  },
);

test('freqfusion: forward outputs match the official module', { skip: PARITY_SKIP }, async () => {
  const ff = buildFixtureFreqFusion();
  const hr = readNpyNhwc(fixtureFile(FIX, 'hr.npy'));
  const lr = readNpyNhwc(fixtureFile(FIX, 'lr.npy'));
  const out = ff.forward(hr, lr, { debug: true });
  assert.ok(out.debug);
  await expectParity(FIX, 'hr_out', nhwcToNchw(out.hrOut));
  await expectParity(FIX, 'lr_out', nhwcToNchw(out.lrOut));
  await expectParity(FIX, 'mask_lr', nhwcToNchw(out.maskLr));
  // The manifest has no limits for the debug intermediates; they sit at lr_out's scale, so
  // they are held to lr_out's limits.
  const tol = tolerance(FIX, 'lr_out');
  await expectParity(
    FIX,
    'debug_lr_carafe_upsampled',
    nhwcToNchw(out.debug.lrCarafeUpsampled),
    'debug_lr_carafe_upsampled.npy',
    tol,
  );
  await expectParity(
    FIX,
    'debug_resample_offset',
    nhwcToNchw(out.debug.resampleOffset),
    'debug_resample_offset.npy',
    tol,
  );
});
