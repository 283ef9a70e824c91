/**
 * The model registry: every named variant, one `createModel(name, { numClasses })`.
 *
 * Names follow the paper: offseg-t/b/l, plus the Table 6 and 7 ablations of OffSeg-T.
 * Each entry is data (a builder over the same modules), never a copy of a model.
 */
import { ensureBackendSync } from '../backend/ensure.ts';
import { withInitSeed } from './core/init.ts';
import { OffSeg, type OffSegOptions, type Segmentor } from './offseg.ts';
import { SegFormer } from './segformer.ts';
import { SegNeXt } from './segnext.ts';
import { Mask2Former } from './mask2former.ts';

export interface CreateOptions {
  numClasses: number;
  /** Seed for parameter initialisation (default 0). */
  seed?: number;
}

interface Entry {
  description: string;
  build: (numClasses: number) => Segmentor;
}

const OFFSEG_HEAD = { newChannels: [32, 32, 64, 128], channels: 256 } as const;
const OFFSEG_HEAD_BL = { newChannels: [32, 64, 128, 256], channels: 256 } as const;

function offseg(backbone: OffSegOptions['backbone'], head: OffSegOptions['head']) {
  return (numClasses: number) => new OffSeg({ backbone, head, numClasses });
}

const entries: Record<string, Entry> = {
  'offseg-t': {
    description: 'OffSeg-T: EfficientFormerV2-S1 + FreqFusion + Offset Learning',
    build: offseg('efficientformerv2_s1', OFFSEG_HEAD),
  },
  'offseg-b': {
    description: 'OffSeg-B: EfficientFormerV2-S2 + FreqFusion + Offset Learning',
    build: offseg('efficientformerv2_s2', OFFSEG_HEAD_BL),
  },
  'offseg-l': {
    description: 'OffSeg-L: EfficientFormerV2-L + FreqFusion + Offset Learning',
    build: offseg('efficientformerv2_l', OFFSEG_HEAD_BL),
  },
  // Table 6: component ablation of OffSeg-T.
  'offseg-t-conv-pp': {
    description:
      'Table 6 row 1: OffSeg-T backbone, plain resize-concat conv decoder, per-pixel classifier',
    build: offseg('efficientformerv2_s1', {
      ...OFFSEG_HEAD,
      decoder: 'conv',
      classifier: 'conv_seg',
    }),
  },
  'offseg-t-pp': {
    description: 'Table 6 row 2: FreqFusion decoder, per-pixel classifier',
    build: offseg('efficientformerv2_s1', { ...OFFSEG_HEAD, classifier: 'conv_seg' }),
  },
  'offseg-t-co': {
    description: 'Table 6 row 3: FreqFusion decoder, class offset only',
    build: offseg('efficientformerv2_s1', { ...OFFSEG_HEAD, featureOffset: false }),
  },
  'offseg-t-fo': {
    description: 'Table 6 row 4: FreqFusion decoder, feature offset only',
    build: offseg('efficientformerv2_s1', { ...OFFSEG_HEAD, classOffset: false }),
  },
};
// Table 7: per-pixel classification with align width C.
for (const c of [64, 128, 256, 512, 768, 1024, 2048]) {
  entries[`offseg-t-pp-c${c}`] = {
    description: `Table 7: FreqFusion decoder, per-pixel classifier, align width C=${c}`,
    build: offseg('efficientformerv2_s1', { ...OFFSEG_HEAD, channels: c, classifier: 'conv_seg' }),
  };
}

// Tables 3 and 4: SegFormer (mmseg 1.x, 256 decoder channels) and SegNeXt (NMF rank 16, see
// lib/models/heads/light_ham_head.ts) baselines, and their Offset Learning retrofits.
for (const v of ['b0', 'b1', 'b2', 'b3', 'b4', 'b5'] as const) {
  const V = v.toUpperCase();
  entries[`segformer-${v}`] = {
    description: `SegFormer-${V}: MiT-${V} + SegformerHead (mmseg 1.x), logits at 1/4`,
    build: (numClasses) => new SegFormer({ backbone: `mit_${v}`, numClasses }),
  };
  entries[`segformer-${v}-ol`] = {
    description: `SegFormer-${V} + Offset Learning: 2×2 max-pool, then OL; logits at 1/8`,
    build: (numClasses) =>
      new SegFormer({ backbone: `mit_${v}`, numClasses, classifier: 'offset_learning' }),
  };
}
for (const v of ['t', 's', 'b'] as const) {
  const V = v.toUpperCase();
  entries[`segnext-${v}`] = {
    description: `SegNeXt-${V}: MSCAN-${V} + LightHamHead (mmseg 1.x), logits at 1/8`,
    build: (numClasses) => new SegNeXt({ backbone: `mscan_${v}`, numClasses }),
  };
  entries[`segnext-${v}-ol`] = {
    description: `SegNeXt-${V} + Offset Learning in place of the 1×1 classifier; logits at 1/8`,
    build: (numClasses) =>
      new SegNeXt({ backbone: `mscan_${v}`, numClasses, classifier: 'offset_learning' }),
  };
}

// Table 5: Mask2Former-Tiny (Swin-T, mmseg config) and its Offset Learning variant.
entries['mask2former-swin-t'] = {
  description:
    'Mask2Former-Tiny: Swin-T + MSDeformAttn pixel decoder + 9-layer decoder, 100 queries',
  build: (numClasses) => new Mask2Former({ numClasses }),
};
entries['mask2former-swin-t-ol'] = {
  description:
    'Mask2Former-Tiny + Offset Learning on every mask prediction (2 bias-free C×C projections)',
  build: (numClasses) => new Mask2Former({ numClasses, offsetLearning: true }),
};

export const MODELS: Readonly<Record<string, Entry>> = entries;

export function listModels(): string[] {
  return Object.keys(MODELS);
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
  return d[a.length][b.length];
}

export class UnknownModelError extends Error {}

/**
 * Build a registered model with freshly initialised weights. Works before any backend was
 * chosen: it then starts the cpu backend (lib/backend/ensure.ts) and says so.
 * @throws UnknownModelError for a name not in the registry (with a "did you mean").
 */
export function createModel(name: string, opts: CreateOptions): Segmentor {
  const entry = MODELS[name];
  if (!entry) {
    const names = listModels();
    const close = names.filter((n) => editDistance(n, name) <= 2);
    const hint = close.length ? ` Did you mean ${close.join(' or ')}?` : '';
    throw new UnknownModelError(
      `Unknown model '${name}'.${hint} Valid models: ${names.join(', ')}`,
    );
  }
  if (!Number.isInteger(opts.numClasses) || opts.numClasses < 1) {
    throw new Error(`numClasses must be a positive integer, got ${opts.numClasses}`);
  }
  ensureBackendSync('createModel');
  const model = withInitSeed(opts.seed ?? 0, () => entry.build(opts.numClasses));
  model.assignPaths();
  return model;
}
