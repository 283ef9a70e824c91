/**
 * Lowers a kernel recording (./record.ts) to an ONNX graph, node by node, through the per-family
 * mapping tables (./ops_*.ts).
 *
 * Layout: the graph takes the NCHW image, transposes it once to NHWC, and then follows the tfjs
 * computation in tfjs' own layout (NHWC); each convolution and pooling is wrapped in the
 * transposes to and from ONNX's NCHW. The final NHWC logits are transposed back to NCHW. ONNX
 * Runtime's transpose optimizer moves those transposes through the elementwise ops between
 * convolutions and cancels the inverse pairs at session creation; 1×1 convolutions that tfjs runs
 * as matrix products are written as Conv nodes for that reason (./pointwise.ts), except those over
 * large inputs, which stay MatMuls on the NHWC value (ONNX Runtime's GEMM is faster there than its
 * NCHWc convolution). Nodes that end up unused are pruned.
 *
 * Parameters: each model variable a kernel reads becomes one initializer named by its official
 * state_dict key, in PyTorch's layout (conv weights [O, I, kH, kW], linear weights [out, in]),
 * so a convolution reads it directly; where a kernel wants our layout a Transpose of it is
 * emitted (constant, folded by ONNX Runtime). Other constant subgraphs (BatchNorm folded into
 * conv weights, attention-bias gathers) are written as recorded; ONNX Runtime folds them when the
 * session is created. Constants made outside kernels become initializers `const…`.
 */
import type { Layout } from '../models/core/module.ts';
import { GraphBuilder, type ElemType } from './graph_builder.ts';
import type { Recording, ValueRef } from './record.ts';
import { staticDim } from './sym.ts';
import { ELEMENTWISE_OPS } from './ops_elementwise.ts';
import { lowerPointwiseConv, lowerPointwiseMatMul, NN_OPS } from './ops_nn.ts';
import { findPointwiseConvs } from './pointwise.ts';
import { SHAPE_OPS } from './ops_shape.ts';
import { REDUCE_OPS } from './ops_reduce.ts';
import { COMPOSITE_OPS } from './ops_composite.ts';
import { elemType, type LowerContext, type Lowering } from './lowering.ts';

export { elemType, type LowerContext, type Lowering } from './lowering.ts';

/** Raised for a kernel no mapping table covers. */
export class UnsupportedKernelError extends Error {
  constructor(
    readonly kernel: string,
    readonly scope: string,
  ) {
    super(`no ONNX mapping for the tfjs kernel '${kernel}' (run by ${scope || 'the model root'})`);
    this.name = 'UnsupportedKernelError';
  }
}

export const LOWERINGS: Readonly<Record<string, Lowering>> = {
  ...ELEMENTWISE_OPS,
  ...NN_OPS,
  ...SHAPE_OPS,
  ...REDUCE_OPS,
  ...COMPOSITE_OPS,
};

/** Permutation taking a tensor of ours to PyTorch's layout, and its inverse. */
const TO_TORCH: Record<Exclude<Layout, 'identity'>, number[]> = {
  conv: [3, 2, 0, 1], // (kH, kW, I, O) → (O, I, kH, kW)
  dwconv: [2, 3, 0, 1], // (kH, kW, C, 1) → (C, 1, kH, kW)
  linear: [1, 0], // (in, out) → (out, in)
};

function inversePerm(p: readonly number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
}

/** values (row-major, `shape`) permuted by `perm`. */
export function permuteValues<T extends Float32Array | Int32Array | Uint8Array>(
  values: T,
  shape: readonly number[],
  perm: readonly number[],
): T {
  const out = new (values.constructor as new (n: number) => T)(values.length);
  const r = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(r);
  for (let i = r - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const strideOfOut = perm.map((p) => inStrides[p]);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += idx[k] * strideOfOut[k];
    out[o] = values[src];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

export interface LowerOptions {
  /** Name of the NCHW graph input (default 'input'). */
  inputName?: string;
  /** Name of the NCHW graph output (default 'logits'). */
  outputName?: string;
  /** Symbolic sizes are computed from the input's H and W divided by this (dynamic export). */
  divisor?: number;
}

/**
 * Emit the ONNX nodes and initializers for a recording into `g`. Returns the names of the graph
 * input (NCHW) and output (NCHW logits).
 * @throws UnsupportedKernelError for a kernel without a mapping.
 */
export function lowerRecording(
  rec: Recording,
  g: GraphBuilder,
  opts: LowerOptions = {},
): { input: string; output: string } {
  const input = g.reserve(opts.inputName ?? 'input');
  if (opts.divisor) g.setSymbolicSource(input, opts.divisor);
  const nhwc = g.add1('Transpose', [input], { perm: [0, 2, 3, 1] }, 'input_nhwc');
  const produced: string[][] = [];
  const torchNames = new Map<string, string>();
  const oursNames = new Map<string, string>();
  const constNames = new Map<number, string>();

  const variableTorch = (key: string): string => {
    let name = torchNames.get(key);
    if (name) return name;
    const v = rec.variables.get(key)!;
    const shape = v.shape.map((d) => staticDim(d, `parameter ${key}`));
    const type = elemType(v);
    if (v.layout === 'identity') {
      name = g.initializer(g.reserve(key), shape, type, rawOf(v.values, type));
    } else {
      const perm = TO_TORCH[v.layout];
      const vals = permuteValues(v.values, shape, perm);
      name = g.initializer(
        g.reserve(key),
        perm.map((p) => shape[p]),
        type,
        rawOf(vals, type),
      );
    }
    torchNames.set(key, name);
    return name;
  };

  const variableOurs = (key: string): string => {
    const v = rec.variables.get(key)!;
    if (v.layout === 'identity') return variableTorch(key);
    let name = oursNames.get(key);
    if (!name) {
      const perm = inversePerm(TO_TORCH[v.layout]);
      name = g.add1('Transpose', [variableTorch(key)], { perm }, `${key}:ours`);
      oursNames.set(key, name);
    }
    return name;
  };

  const valueOf = (ref: ValueRef): string => {
    switch (ref.kind) {
      case 'input':
        return nhwc;
      case 'node':
        return produced[ref.node][ref.output];
      case 'variable':
        return variableOurs(ref.key);
      case 'constant': {
        let name = constNames.get(ref.index);
        if (!name) {
          const c = rec.constants[ref.index];
          if (c.scalarSym) {
            name = g.symScalar(c.scalarSym);
          } else {
            const shape = c.shape.map((d) => staticDim(d, 'a constant'));
            name = g.constant(c.values, shape, elemType(c), 'const');
          }
          constNames.set(ref.index, name);
        }
        return name;
      }
    }
  };

  const ctx: LowerContext = {
    g,
    input(node, name) {
      const ref = node.inputs[name];
      if (!ref) throw new Error(`${node.kernel} has no input '${name}'`);
      return valueOf(ref);
    },
    has(node, name) {
      return node.inputs[name] !== undefined;
    },
    filter(node, name, depthwise) {
      const ref = node.inputs[name];
      if (ref?.kind === 'variable') {
        const layout = rec.variables.get(ref.key)!.layout;
        if (layout === (depthwise ? 'dwconv' : 'conv')) return variableTorch(ref.key);
      }
      const w = ctx.input(node, name);
      if (!depthwise)
        return g.add1('Transpose', [w], { perm: [3, 2, 0, 1] }, `${ctx.label(node)}/W`);
      // Depthwise (kH, kW, C, m) → (C, m, kH, kW) → (C·m, 1, kH, kW): out channel c·m + j.
      const [kh, kw, c, m] = node.inputInfo[name].shape.map((d) => staticDim(d, 'a filter'));
      const t = g.add1('Transpose', [w], { perm: [2, 3, 0, 1] }, `${ctx.label(node)}/W`);
      return m === 1 ? t : g.add1('Reshape', [t, g.int64s([c * m, 1, kh, kw])]);
    },
    label(node) {
      return node.scope ? `${node.scope}/${node.kernel}` : node.kernel;
    },
  };

  // 1×1 convs run as Reshape → MatMul → Reshape become Conv nodes (./pointwise.ts).
  const pointwise = findPointwiseConvs(rec);
  const skipped = new Set([...pointwise.values()].flatMap((p) => p.skipped));
  const aliases = new Map<number, string>(); // final Reshape → the Conv's NHWC output
  rec.nodes.forEach((node, i) => {
    const pw = pointwise.get(i);
    if (skipped.has(i) || pw) {
      if (pw) {
        const x = valueOf(pw.source);
        const lowerPw = pw.asMatMul ? lowerPointwiseMatMul : lowerPointwiseConv;
        aliases.set(pw.output, lowerPw(ctx, node, x, pw.inChannels, pw.outChannels));
      }
      produced.push(node.outputs.map(() => ''));
      return;
    }
    const alias = aliases.get(i);
    if (alias !== undefined) {
      produced.push([alias]);
      return;
    }
    const lower = LOWERINGS[node.kernel];
    if (!lower) throw new UnsupportedKernelError(node.kernel, node.scope);
    const outs = lower(ctx, node);
    if (outs.length !== node.outputs.length) {
      throw new Error(
        `lowering of ${node.kernel} (node ${i}) gave ${outs.length} outputs, expected ${node.outputs.length}`,
      );
    }
    produced.push(outs);
  });
  const [output] = g.add(
    'Transpose',
    [valueOf(rec.output)],
    { perm: [0, 3, 1, 2] },
    { exact: [g.reserve(opts.outputName ?? 'logits')] },
  );
  g.prune([output]);
  return { input, output };
}

function rawOf(values: Float32Array | Int32Array | Uint8Array, type: ElemType): Uint8Array {
  if (type === 'bool') return Uint8Array.from(values, (v) => (v ? 1 : 0));
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
