/**
 * The contract between the exporter's driver (lower.ts) and its per-kernel mapping tables
 * (ops_*.ts): what a lowering receives and returns, and the dtype mapping they share.
 */
import type { ElemType, GraphBuilder } from './graph_builder.ts';
import type { KernelNode, RecordedValue } from './record.ts';

export interface LowerContext {
  readonly g: GraphBuilder;
  /** ONNX value of input `name` of `node`, in tfjs' layout. */
  input(node: KernelNode, name: string): string;
  /** Whether `node` has input `name`. */
  has(node: KernelNode, name: string): boolean;
  /** Input `name` of a convolution as a PyTorch-layout weight [O, I/groups, kH, kW]. */
  filter(node: KernelNode, name: string, depthwise: boolean): string;
  /** Name prefix for the ONNX nodes emitted for `node` (its module scope and kernel). */
  label(node: KernelNode): string;
}

/** Emits the ONNX nodes of one kernel; returns the names of its outputs, in order. */
export type Lowering = (ctx: LowerContext, node: KernelNode) => string[];

/** tfjs dtype → ONNX element type. */
export function elemType(v: RecordedValue): ElemType {
  if (v.dtype === 'float32') return 'float32';
  if (v.dtype === 'int32') return 'int32';
  if (v.dtype === 'bool') return 'bool';
  throw new Error(`dtype ${v.dtype} has no ONNX mapping here`);
}
