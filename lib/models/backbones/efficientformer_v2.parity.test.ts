/**
 * Parity of the EfficientFormerV2-S1 segmentation backbone with the official PyTorch module
 * (fixtures `effformer_s1` and `offseg_t`, eval mode, 256×256 inputs). At 256×256 the attention
 * biases are bicubically resized (256² → 64² tokens, 256×1024 → 64×256), so the gather, the
 * resize, the talking heads and the head-split channel order are all exercised.
 * Weights: the `backbone.*` entries of offseg_t/checkpoint.pth. Tolerances: the manifests'.
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
import { loadStateDict, readTorchCheckpoint } from '../../io/checkpoint.ts';
import { nhwcToNchw, readNpyNhwc } from '../../io/tensor_npy.ts';
import { EfficientFormerV2 } from './efficientformer_v2.ts';
import { biasIndexTable } from './efficientformer_v2_bias.ts';

await useBackend();

function build(): EfficientFormerV2 {
  const m = EfficientFormerV2.fromVariant('efficientformerv2_s1').assignPaths('backbone');
  const ckpt = readTorchCheckpoint(fixtureFile('offseg_t', 'checkpoint.pth'));
  const report = loadStateDict(m, ckpt, { stripPrefix: 'backbone.' });
  assert.deepEqual(report.missing, [], 'missing keys');
  assert.deepEqual(report.unexpected, [], 'unexpected keys');
  assert.equal(report.loaded.length, 728);
  return m.eval();
}

let cached: EfficientFormerV2 | undefined;
/** The loaded backbone, built on first use (so a clone without the fixtures only skips). */
function model(): EfficientFormerV2 {
  cached ??= build();
  return cached;
}

async function checkFeatures(fixture: string, prefix: string): Promise<void> {
  const x = readNpyNhwc(fixtureFile(fixture, 'input.npy')); // (1, 256, 256, 3)
  const feats = model().forward(x);
  for (let i = 0; i < 4; i++) {
    const nchw = nhwcToNchw(feats[i]);
    await expectParity(fixture, `${prefix}${i}`, nchw);
    nchw.dispose();
  }
  tf.dispose([x, ...feats]);
}

test(
  'effformer_s1: the four stage outputs match the official backbone',
  { skip: PARITY_SKIP },
  async () => {
    await checkFeatures('effformer_s1', 'feat');
  },
);

test(
  'offseg_t: backbone_feat0..3 match (second image, same weights)',
  { skip: PARITY_SKIP },
  async () => {
    await checkFeatures('offseg_t', 'backbone_feat');
  },
);

test(
  'the checkpoint index buffers equal the offset formula our gather uses',
  { skip: PARITY_SKIP },
  async () => {
    const bufs = new Map(
      model()
        .namedBuffers()
        .map((b) => [b.key, b.variable]),
    );
    const cases: [string, number, number, number][] = [
      ['network.4.7.token_mixer.attention_bias_idxs_seg', 16, 16, 1],
      ['network.6.5.token_mixer.attention_bias_idxs_seg', 16, 16, 1],
      ['network.5.attn.attention_bias_idxs_seg', 32, 16, 2],
    ];
    for (const [key, r, rq, s] of cases) {
      const loaded = bufs.get(key);
      assert.ok(loaded, key);
      const want = biasIndexTable({ heads: 8, keyRes: r, queryRes: rq, queryStride: s });
      assert.deepEqual(Array.from(await loaded.data()), Array.from(want), key);
    }
  },
);
