/**
 * The two FLOPs-counting conventions of the OffSeg paper's tables (docs/flops.md). Both count multiply-adds (MACs) — "1 fused multiply-add = 1 flop", as every
 * tool and paper here does — from the records the traced ops emit (lib/ops/trace.ts), whose
 * `macs` already follow fvcore's per-op rules:
 *   conv        N·|w|·|out spatial|, bias ignored (depthwise via its weight shape)
 *   linear      in_numel·out_features;   matmul  batch·m·k·n (fvcore's matmul/bmm)
 *   batch_norm  2·numel (inference, affine);   group_norm / layer_norm  5·numel (affine)
 *   upsample    bilinear 4·out_numel, nearest 1·out_numel;   grid_sample 4·out_numel
 *   adaptive_avg_pool  1·in_numel
 * A convention is the set of op kinds it sums.
 */
import type { OpKind } from '../ops/trace.ts';

export type ConventionName = 'fvcore' | 'offseg-paper';

export interface Convention {
  name: ConventionName;
  description: string;
  counts: ReadonlySet<OpKind>;
}

const FVCORE: readonly OpKind[] = [
  'conv',
  'linear',
  'matmul',
  'batch_norm',
  'group_norm',
  'layer_norm',
  'upsample_bilinear',
  'upsample_nearest',
  'grid_sample',
  'adaptive_avg_pool',
];

/** What the paper's own OffSeg rows leave out of the fvcore count (docs/flops.md). */
const NOT_IN_PAPER: readonly OpKind[] = ['matmul', 'linear', 'batch_norm'];

export const CONVENTIONS: Readonly<Record<ConventionName, Convention>> = {
  fvcore: {
    name: 'fvcore',
    description:
      'mmengine/fvcore (what mmseg 1.x get_flops reports): conv, linear, matmul/bmm, BN/GN/LN, ' +
      'bilinear/nearest resize, grid_sample, adaptive avg-pool; not softmax, activations, ' +
      'elementwise ops, max-pool, bicubic resize or CARAFE (an opaque custom op to fvcore)',
    counts: new Set(FVCORE),
  },
  'offseg-paper': {
    name: 'offseg-paper',
    description:
      "the OffSeg paper's own rows: the fvcore count without matmul/bmm, linear and BatchNorm " +
      '(so Offset Learning and the backbone attention products are free; convs, GN/LN, ' +
      'interpolation and grid sampling count)',
    counts: new Set(FVCORE.filter((k) => !NOT_IN_PAPER.includes(k))),
  },
};

export const CONVENTION_NAMES = Object.keys(CONVENTIONS) as ConventionName[];

export function isConventionName(s: string): s is ConventionName {
  return (CONVENTION_NAMES as string[]).includes(s);
}
