/**
 * Finds the 1×1 convolutions tfjs runs as matrix products, so the lowering can write them as
 * ONNX Conv nodes.
 *
 * lib/ops/conv.ts computes a 1×1 stride-1 conv as Reshape [B,H,W,C] → [B·H·W, C], MatMul with the
 * [C, C'] weight (bias fused), Reshape back to [B,H,W,C'] (tfjs' matMul adds reshapes to 3-D of
 * its own). Written as such in ONNX, each Reshape stops ONNX Runtime's transpose optimizer from
 * carrying the NCHW layout of the neighbouring convolutions through, leaving transposes and
 * NCHWc reorders around every block. As a Conv, a chain conv → elementwise → conv stays in one
 * layout. The matched pattern: a chain of Reshapes from a 4-D value x to a matrix whose last axis
 * is x's channel axis, a (Fused)MatMul of it (no transposeA) by a weight whose batch axes are 1,
 * and a chain of Reshapes from the product back to x's [B, H, W] with the new channel count;
 * every intermediate value has no other reader.
 *
 * Exception, for speed: a 1×1 conv over a large input map stays a MatMul, on the NHWC value
 * directly ([B, H, W, C] · [C, C'], no Reshape). After ONNX Runtime's NCHWc layout transform a
 * 1×1 Conv runs MLAS's NCHWc pointwise kernel, which streams the whole input once per group of
 * 32 output channels; once the input no longer fits in the cache that is ⌈C'/32⌉ passes over
 * memory, while MLAS's GEMM reads it in cache-sized panels. Measured on SegFormer's head fusion
 * conv (1024 → 256 channels at 128×128, a 64 MiB input): 2.6× less time as a MatMul. The rule
 * (`preferMatMul`): input ≥ 8 Mi floats (32 MiB, the last-level cache of a typical server CPU)
 * and more than 32 output channels (a single pass costs nothing extra, and a Conv keeps the
 * NCHWc chain unbroken).
 */
import type { KernelNode, Recording, ValueRef } from './record.ts';
import { dimEquals, evalDim, type Dim } from './sym.ts';

export interface PointwiseConv {
  /** The 4-D NHWC input of the first Reshape. */
  source: ValueRef;
  /** The Reshape nodes between source and product, and after it, that disappear. */
  skipped: number[];
  /** The last Reshape, whose 4-D output the Conv computes. */
  output: number;
  inChannels: number;
  outChannels: number;
  /** Write it as a MatMul on the NHWC input rather than a Conv (see `preferMatMul`). */
  asMatMul: boolean;
}

/** Input maps of at least this many floats (32 MiB) are large for `preferMatMul`. */
export const MATMUL_MIN_INPUT_FLOATS = 8 * 1024 * 1024;
/** Output channels MLAS's NCHWc pointwise kernel computes per pass over its input. */
export const NCHWC_OUTPUTS_PER_PASS = 32;
/** Input side (in units of the size divisor 32) at which symbolic sizes are judged: 512 px. */
const REFERENCE_SIDE = 512 / 32;

/**
 * Whether a 1×1 conv over an NHWC input of `shape` [B, H, W, C] with `cout` output channels is
 * faster in ONNX Runtime as a GEMM than as an NCHWc Conv: input ≥ 32 MiB and more than one pass
 * of the NCHWc kernel. Symbolic sides (dynamic export) are judged at a 512×512 input.
 */
export function preferMatMul(shape: readonly Dim[], cout: number): boolean {
  const floats = shape.reduce<number>((p, d) => p * evalDim(d, REFERENCE_SIDE, REFERENCE_SIDE), 1);
  return floats >= MATMUL_MIN_INPUT_FLOATS && cout > NCHWC_OUTPUTS_PER_PASS;
}

const MATMUL = new Set(['BatchMatMul', '_FusedMatMul']);

function key(r: ValueRef): string {
  return r.kind === 'node' ? `${r.node}:${r.output}` : `${r.kind}`;
}

/** Readers of every node output (index by `node:output`), the graph output counting as one. */
function readers(rec: Recording): Map<string, number[]> {
  const m = new Map<string, number[]>();
  rec.nodes.forEach((n, i) => {
    for (const r of Object.values(n.inputs)) {
      if (r.kind !== 'node') continue;
      const k = key(r);
      m.set(k, [...(m.get(k) ?? []), i]);
    }
  });
  if (rec.output.kind === 'node') m.set(key(rec.output), [...(m.get(key(rec.output)) ?? []), -1]);
  return m;
}

function shapeOf(rec: Recording, r: ValueRef): readonly Dim[] | undefined {
  if (r.kind === 'node') return rec.nodes[r.node].outputs[r.output].shape;
  if (r.kind === 'input') return rec.input.shape;
  return undefined;
}

function staticNumber(d: Dim): number | undefined {
  return typeof d === 'number' ? d : undefined;
}

/** Matched pointwise convs, keyed by the index of their MatMul node. */
export function findPointwiseConvs(rec: Recording): Map<number, PointwiseConv> {
  const found = new Map<number, PointwiseConv>();
  const read = readers(rec);
  const only = (node: number): number | undefined => {
    const r = read.get(`${node}:0`);
    return r && r.length === 1 && r[0] >= 0 ? r[0] : undefined;
  };
  rec.nodes.forEach((mm: KernelNode, j) => {
    if (!MATMUL.has(mm.kernel) || mm.attrs.transposeA) return;
    if (mm.attrs.activation === 'prelu') return;
    const a = mm.inputs.a;
    const aShape = mm.inputInfo.a.shape;
    if (!aShape.slice(0, -2).every((d) => dimEquals(d, 1))) return;
    // Back through the Reshapes feeding `a`, to the nearest 4-D value with a's channel axis.
    const before: number[] = [];
    let src: ValueRef = a;
    let xShape: readonly Dim[] | undefined;
    while (
      src.kind === 'node' &&
      rec.nodes[src.node].kernel === 'Reshape' &&
      only(src.node) !== undefined
    ) {
      before.push(src.node);
      src = rec.nodes[src.node].inputs.x;
      const shape = shapeOf(rec, src);
      if (shape?.length === 4 && dimEquals(shape[3], aShape[aShape.length - 1])) {
        xShape = shape;
        break;
      }
    }
    const c = xShape ? staticNumber(xShape[3]) : undefined;
    if (!xShape || c === undefined) return;
    const bShape = mm.inputInfo.b.shape;
    if (!bShape.slice(0, -2).every((d) => dimEquals(d, 1))) return;
    const cout = staticNumber(
      mm.attrs.transposeB ? bShape[bShape.length - 2] : bShape[bShape.length - 1],
    );
    if (cout === undefined) return;
    if (mm.inputs.bias && !(mm.inputInfo.bias.shape.length === 1)) return;
    // Forward through the Reshapes reading the product, to a 4-D [B, H, W, C'].
    const after: number[] = [];
    let at = j;
    for (;;) {
      const next = only(at);
      if (next === undefined || rec.nodes[next].kernel !== 'Reshape') return;
      after.push(next);
      at = next;
      const out = rec.nodes[next].outputs[0].shape;
      if (out.length === 4) {
        const same =
          [0, 1, 2].every((i) => dimEquals(out[i], xShape[i])) && dimEquals(out[3], cout);
        if (!same) return;
        break;
      }
    }
    found.set(j, {
      source: src,
      skipped: [...before, ...after.slice(0, -1)],
      output: after[after.length - 1],
      inChannels: c,
      outChannels: cout,
      asMatMul: preferMatMul(xShape, cout),
    });
  });
  return found;
}
