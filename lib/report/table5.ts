/**
 * The measured half of the OffSeg paper's Table 5 (Mask2Former-Tiny ± Offset Learning, ADE20K
 * 512², 160k): exact parameter counts per part, read from the built models' modules, and GFLOPs
 * under both conventions (./paper_tables.ts `measureComplexity`: dry-run trace, cached), beside
 * the paper's numbers (quoted, ./paper.ts). Also the wall time of one forward pass, the figure
 * that decides whether a proxy run fits the budget.
 */
import * as tf from '@tensorflow/tfjs-core';
import { currentBackend, describeBackend, selectBackend } from '../backend/select.ts';
import { createModel } from '../models/registry.ts';
import { Mask2Former } from '../models/mask2former.ts';
import {
  ADE,
  CONVENTIONS_NOTE,
  measureComplexity,
  type Measured,
  type Size,
} from './paper_tables.ts';
import { TABLE5 } from './paper.ts';
import type { Table } from './table.ts';

export const TABLE5_MODELS = ['mask2former-swin-t', 'mask2former-swin-t-ol'] as const;

/** Exact parameter counts of a Mask2Former's parts (they sum to `total`). */
export interface Mask2FormerParts {
  /** Swin-T (`backbone.*`). */
  backbone: number;
  /** MSDeformAttn pixel decoder (`decode_head.pixel_decoder.*`). */
  pixelDecoder: number;
  /** 9 layers + post_norm (`decode_head.transformer_decoder.*`). */
  transformerDecoder: number;
  /** query_feat, query_embed, level_embed, cls_embed, mask_embed. */
  heads: number;
  /** The two bias-free projections of Offset Learning (0 without it). */
  offsetLearning: number;
  total: number;
}

/** Count `model`'s parameters per part. */
export function mask2formerParts(model: Mask2Former): Mask2FormerParts {
  const head = model.decodeHead;
  const backbone = model.backbone.numParams();
  const pixelDecoder = head.pixelDecoder.numParams();
  const transformerDecoder = head.transformerDecoder.numParams();
  const offsetLearning = head.offsetLearning?.numParams() ?? 0;
  const heads = head.numParams() - pixelDecoder - transformerDecoder - offsetLearning;
  return {
    backbone,
    pixelDecoder,
    transformerDecoder,
    heads,
    offsetLearning,
    total: model.numParams(),
  };
}

function buildMask2Former(name: string, numClasses: number): Mask2Former {
  const m = createModel(name, { numClasses });
  if (!(m instanceof Mask2Former)) {
    m.dispose();
    throw new Error(`table5: ${name} is not a Mask2Former model; use mask2former-swin-t[-ol]`);
  }
  return m;
}

export interface Table5Result {
  table: Table;
  parts: Record<string, Mask2FormerParts>;
  measured: Record<string, Measured>;
}

/**
 * Params per part and GFLOPs (both conventions) of each model at `setting`, with the quoted
 * params. Builds each model once for the counts; the FLOPs come from the complexity cache.
 */
export async function table5Complexity(
  models: readonly string[] = TABLE5_MODELS,
  setting: { numClasses: number; size: Size } = ADE,
  onMeasured?: (label: string) => void,
): Promise<Table5Result> {
  const parts: Record<string, Mask2FormerParts> = {};
  const measured: Record<string, Measured> = {};
  for (const name of models) {
    const m = buildMask2Former(name, setting.numClasses);
    try {
      parts[name] = mask2formerParts(m);
    } finally {
      m.dispose();
    }
    measured[name] = await measureComplexity(name, setting.numClasses, setting.size);
    onMeasured?.(`${name} at ${setting.size.join('×')}`);
  }
  const quoted = TABLE5 as Record<string, { params: number; adeMIoU: number } | undefined>;
  const table: Table = {
    title: `Table 5 — Mask2Former-Tiny ± Offset Learning: params per part (measured, exact, K=${setting.numClasses}), GFLOPs @${setting.size.join('×')} (measured), params (quoted)`,
    columns: [
      'model',
      'backbone params (measured)',
      'pixel decoder params (measured)',
      'transformer decoder params (measured)',
      'heads params (measured)',
      'Offset Learning params (measured)',
      'total params (measured)',
      'params M (measured)',
      'params M (quoted)',
      'GFLOPs offseg-paper (measured)',
      'GFLOPs fvcore (measured)',
    ],
    rows: models.map((n) => {
      const p = parts[n];
      const c = measured[n];
      return [
        n,
        p.backbone,
        p.pixelDecoder,
        p.transformerDecoder,
        p.heads,
        p.offsetLearning,
        p.total,
        Math.round(p.total / 1e4) / 100,
        quoted[n]?.params ?? null,
        c.paper,
        c.fvcore,
      ];
    }),
    notes: [
      CONVENTIONS_NOTE,
      'Heads = query_feat, query_embed, level_embed, cls_embed (K + 1 outputs) and the 3-layer mask_embed; Offset Learning = two bias-free 256×256 projections shared by all 10 predictions.',
      'The paper quotes no FLOPs for Table 5. Under fvcore the Offset Learning projections are matrix products over every stride-4 pixel and query, counted once per prediction; the offseg-paper convention counts no matrix products.',
    ],
  };
  return { table, parts, measured };
}

/**
 * Wall time of one inference forward of `name` on a random [1, H, W, 3] input (after one
 * untimed warm-up pass only when `warmup`), on the active backend (selected if none is).
 */
export async function timeOneForward(
  name: string,
  size: Size = ADE.size,
  opts: { numClasses?: number; warmup?: boolean } = {},
): Promise<{ seconds: number; backend: string }> {
  if (!currentBackend()) await selectBackend();
  const m = createModel(name, { numClasses: opts.numClasses ?? ADE.numClasses });
  const x = tf.randomNormal([1, size[0], size[1], 3]) as tf.Tensor4D;
  try {
    m.eval();
    if (opts.warmup) tf.dispose(m.forward(x));
    const t0 = performance.now();
    const y = m.forward(x);
    await y.data();
    y.dispose();
    return {
      seconds: (performance.now() - t0) / 1000,
      backend: describeBackend(currentBackend()!),
    };
  } finally {
    x.dispose();
    m.dispose();
  }
}
