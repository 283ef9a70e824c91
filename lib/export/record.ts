/**
 * Records the tfjs kernels one forward pass really runs, as a flat program the ONNX lowering
 * (./lower.ts) translates node by node.
 *
 * How: `tf.engine().runKernelFunc` is wrapped for the duration of one forward. Every registered
 * kernel invoked from op level (not from inside another registered kernel) becomes a
 * `KernelNode` with its inputs, attributes and outputs; `tf.customGrad` scopes are transparent
 * (the kernels their forward function runs are recorded one by one). A tensor is identified by
 * its tfjs id, which is unique per Tensor object (a wasm Reshape shares the dataId, not the id).
 *
 * Every tensor a kernel reads is one of:
 * - the graph input (the NHWC image);
 * - the output of an earlier recorded kernel;
 * - a model variable (parameter or buffer), named by its official state_dict key;
 * - a constant made outside any kernel (`tf.tensor`, `tf.scalar`, JS numbers turned into
 *   tensors by an op, `tf.randomUniform` NMF bases…): its value is captured at record time.
 *
 * Composite ops (lib/ops/composite.ts) are recorded as one node each, under the kernel name of
 * `COMPOSITE_KERNELS`; the kernels they run inside are not recorded.
 *
 * Module scopes come from the complexity tracer (lib/ops/trace.ts), which runs alongside: each
 * node carries the scope of the op recorded last, so names and error messages point at the
 * module (`backbone.network.4.7.token_mixer`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Layout, Module } from '../models/core/module.ts';
import { lastRecordedScope, traceOps } from '../ops/trace.ts';
import {
  withCompositeRecorder,
  type CompositeOp,
  type CompositeRecorder,
} from '../ops/composite.ts';
import { withDryRun } from '../analysis/dry_run.ts';
import type { Dim, ScalarSym, SymInt } from './sym.ts';

/**
 * Attribute value of a kernel as recorded (numbers, strings, booleans, nested arrays); sizes
 * become `SymInt`s in a recording generalised over input sizes (./dynamic.ts).
 */
export type AttrValue =
  | number
  | SymInt
  | string
  | boolean
  | null
  | undefined
  | readonly AttrValue[]
  | { readonly [k: string]: AttrValue };

/** A tensor reference inside a recording. */
export type ValueRef =
  | { kind: 'input' }
  | { kind: 'node'; node: number; output: number }
  | { kind: 'variable'; key: string }
  | { kind: 'constant'; index: number };

export interface RecordedValue {
  shape: Dim[];
  dtype: tf.DataType;
}

export interface KernelNode {
  kernel: string;
  /** Named inputs in the kernel's own order (absent optional inputs are left out). */
  inputs: Record<string, ValueRef>;
  /** Shapes/dtypes of those inputs, same keys. */
  inputInfo: Record<string, RecordedValue>;
  attrs: Record<string, AttrValue>;
  outputs: RecordedValue[];
  /** Module path of the op being run (may be '' for the root). */
  scope: string;
}

export interface RecordedConstant extends RecordedValue {
  values: Float32Array | Int32Array | Uint8Array;
  /** A scalar whose value depends on the input size (dynamic export only). */
  scalarSym?: ScalarSym;
}

export interface RecordedVariable extends RecordedValue {
  key: string;
  layout: Layout;
  /** Values in our (tfjs) layout. */
  values: Float32Array | Int32Array | Uint8Array;
}

export interface Recording {
  input: RecordedValue;
  nodes: KernelNode[];
  constants: RecordedConstant[];
  variables: Map<string, RecordedVariable>;
  output: ValueRef;
  outputInfo: RecordedValue;
}

/** Node kernel names of the composite ops. */
export const COMPOSITE_KERNELS: Record<CompositeOp['kind'], string> = {
  resize_bicubic: 'ResizeBicubic',
  gelu: 'Gelu',
  layer_norm: 'LayerNorm',
  group_norm: 'GroupNorm',
};

interface KernelParams {
  kernelName?: string;
  inputs: Record<string, tf.Tensor | null | undefined>;
  attrs?: Record<string, unknown>;
}

type RunKernelFunc = (params: KernelParams) => tf.Tensor | tf.Tensor[];

interface PatchableEngine {
  runKernelFunc: RunKernelFunc;
}

/** Deep copy of an attribute, dropping tensors (none of our kernels passes one as an attr). */
function copyAttr(v: unknown): AttrValue {
  if (v === null || v === undefined) return v;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(copyAttr);
  if (typeof v === 'object') {
    if (v instanceof tf.Tensor)
      throw new Error('a tensor-valued kernel attribute cannot be recorded');
    const o: Record<string, AttrValue> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = copyAttr(x);
    return o;
  }
  throw new Error(`cannot record a kernel attribute of type ${typeof v}`);
}

/**
 * Run `model.forward(x)` once in eval mode and record its kernels. `x` is the NHWC input
 * [B,H,W,3]; the forward's 4-D NHWC output is the recording's output. Per-input-size caches
 * (resized attention biases) are dropped before and after, so their computation is recorded
 * instead of being read as a constant.
 *
 * @throws if a kernel attribute holds a tensor, or the output is not produced by the forward.
 */
export function recordForward(
  model: Module & { forward(x: tf.Tensor4D): tf.Tensor4D },
  x: tf.Tensor4D,
): Recording {
  const variableById = new Map<number, { key: string; layout: Layout; v: tf.Variable }>();
  for (const e of [...model.namedParameters(), ...model.namedBuffers()]) {
    variableById.set(e.variable.id, { key: e.key, layout: e.layout, v: e.variable });
  }
  const refById = new Map<number, ValueRef>([[x.id, { kind: 'input' }]]);
  const nodes: KernelNode[] = [];
  const constants: RecordedConstant[] = [];
  const variables = new Map<string, RecordedVariable>();

  const refOf = (t: tf.Tensor): ValueRef => {
    const known = refById.get(t.id);
    if (known) return known;
    const v = variableById.get(t.id);
    let ref: ValueRef;
    if (v) {
      if (!variables.has(v.key)) {
        variables.set(v.key, {
          key: v.key,
          layout: v.layout,
          shape: [...v.v.shape],
          dtype: v.v.dtype,
          values: v.v.dataSync() as Float32Array | Int32Array | Uint8Array,
        });
      }
      ref = { kind: 'variable', key: v.key };
    } else {
      const values = t.dataSync() as Float32Array | Int32Array | Uint8Array;
      constants.push({ shape: [...t.shape], dtype: t.dtype, values: values.slice() });
      ref = { kind: 'constant', index: constants.length - 1 };
    }
    refById.set(t.id, ref);
    return ref;
  };

  const engine = tf.engine() as unknown as PatchableEngine;
  const original = engine.runKernelFunc;
  let depth = 0; // registered kernels (or composite ops) currently running
  const pushNode = (node: Omit<KernelNode, 'scope'>, outs: readonly tf.Tensor[]): void => {
    const index = nodes.length;
    nodes.push({ ...node, scope: lastRecordedScope() ?? '' });
    outs.forEach((t, i) => refById.set(t.id, { kind: 'node', node: index, output: i }));
  };
  const composite: CompositeRecorder = (op, inputs, compute) => {
    if (depth > 0) return compute();
    const refs: Record<string, ValueRef> = {};
    const inputInfo: Record<string, RecordedValue> = {};
    inputs.forEach((t, i) => {
      refs[i === 0 ? 'x' : `x${i}`] = refOf(t);
      inputInfo[i === 0 ? 'x' : `x${i}`] = { shape: [...t.shape], dtype: t.dtype };
    });
    depth++;
    let out;
    try {
      out = compute();
    } finally {
      depth--;
    }
    const { kind, ...attrs } = op;
    pushNode(
      {
        kernel: COMPOSITE_KERNELS[kind],
        inputs: refs,
        inputInfo,
        attrs: copyAttr(attrs) as Record<string, AttrValue>,
        outputs: [{ shape: [...out.shape], dtype: out.dtype }],
      },
      [out],
    );
    return out;
  };
  const patched: RunKernelFunc = function (this: unknown, params) {
    if (params.kernelName === undefined || depth > 0) {
      if (params.kernelName === undefined) return original.call(engine, params);
      depth++;
      try {
        return original.call(engine, params);
      } finally {
        depth--;
      }
    }
    const inputs: Record<string, ValueRef> = {};
    const inputInfo: Record<string, RecordedValue> = {};
    for (const [name, t] of Object.entries(params.inputs ?? {})) {
      if (t === null || t === undefined) continue;
      inputs[name] = refOf(t);
      inputInfo[name] = { shape: [...t.shape], dtype: t.dtype };
    }
    const attrs = copyAttr(params.attrs ?? {}) as Record<string, AttrValue>;
    depth++;
    let out: tf.Tensor | tf.Tensor[];
    try {
      out = original.call(engine, params);
    } finally {
      depth--;
    }
    const outs = Array.isArray(out) ? out : [out];
    pushNode(
      {
        kernel: params.kernelName,
        inputs,
        inputInfo,
        attrs,
        outputs: outs.map((t) => ({ shape: [...t.shape], dtype: t.dtype })),
      },
      outs,
    );
    return out;
  };

  const wasTraining = model.training;
  model.eval();
  clearCaches(model);
  const ownMethod = Object.prototype.hasOwnProperty.call(engine, 'runKernelFunc');
  engine.runKernelFunc = patched;
  let y: tf.Tensor4D;
  try {
    y = withCompositeRecorder(composite, () => traceOps(() => model.forward(x)).result);
  } finally {
    if (ownMethod) engine.runKernelFunc = original;
    else delete (engine as Partial<PatchableEngine>).runKernelFunc;
    clearCaches(model);
    model.train(wasTraining);
  }
  const output = refById.get(y.id);
  const outputInfo = { shape: [...y.shape], dtype: y.dtype };
  y.dispose();
  if (!output || output.kind === 'variable' || output.kind === 'constant') {
    throw new Error('the forward pass returned a tensor it did not compute');
  }
  return {
    input: { shape: [...x.shape], dtype: x.dtype },
    nodes,
    constants,
    variables,
    output,
    outputInfo,
  };
}

function clearCaches(model: Module): void {
  for (const [, m] of model.namedModules()) m.clearCache();
}

/**
 * How a recording runs the forward: `dry-run` (default) on the shape-only backend of
 * lib/analysis/dry_run.ts — the same kernels with the same shapes and attributes, no arithmetic,
 * so large sizes record in seconds — or `compute` on the current backend.
 */
export type RecordMode = 'dry-run' | 'compute';

/**
 * Record one forward of `model` on a random NHWC input [batch, h, w, 3] (values in [−2, 2]).
 * @throws as `recordForward`.
 */
export async function recordAt(
  model: Module & { forward(x: tf.Tensor4D): tf.Tensor4D },
  batch: number,
  size: readonly [number, number],
  seed: number,
  mode: RecordMode = 'dry-run',
): Promise<Recording> {
  const run = (): Recording => {
    const x = tf.randomUniform([batch, size[0], size[1], 3], -2, 2, 'float32', seed) as tf.Tensor4D;
    try {
      return recordForward(model, x);
    } finally {
      x.dispose();
    }
  };
  return mode === 'dry-run' ? withDryRun(run) : run();
}
