/**
 * A tiny Mask2Former for tests that need the whole model but not its size: Swin with 8-channel
 * embeddings and two blocks per stage, a 32-channel head with 5 queries, one pixel-decoder layer
 * and three transformer-decoder layers (so 4 predictions). Same module tree and key names as
 * `mask2former-swin-t`, initialised from `seed`.
 */
import { withInitSeed } from '../../lib/models/core/init.ts';
import { Mask2Former, type Mask2FormerOptions } from '../../lib/models/mask2former.ts';

export function tinyMask2Former(
  seed: number,
  opts: Pick<Mask2FormerOptions, 'numClasses' | 'offsetLearning'> & Partial<Mask2FormerOptions>,
): Mask2Former {
  return withInitSeed(seed, () =>
    new Mask2Former({
      backbone: { embedDims: 8, depths: [2, 2, 2, 2], numHeads: [1, 1, 2, 2], mlpRatio: 2 },
      head: {
        channels: 32,
        numQueries: 5,
        heads: 2,
        decoderFfn: 16,
        encoderLayers: 1,
        decoderLayers: 3,
      },
      ...opts,
    }).assignPaths(),
  );
}
