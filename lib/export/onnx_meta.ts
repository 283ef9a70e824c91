/**
 * What an exported model says about itself (the metadata keys every export carries) and the
 * checked reader of it. Only protobufjs: the browser demo reads dropped `.onnx` files with it.
 */
import { decodeModel, type ValueInfoProto } from './onnx_proto.ts';

/** Metadata keys written into every export. */
export const META = {
  model: 'offseg.model',
  numClasses: 'offseg.num_classes',
  outputStride: 'offseg.output_stride',
  sizeDivisor: 'offseg.size_divisor',
} as const;

/** Raised for an ONNX file we cannot run: corrupt, foreign, or not matching the input. */
export class OnnxModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxModelError';
  }
}

/** What an exported file says about itself. Symbolic dimensions are strings. */
export interface OnnxModelMeta {
  model: string;
  numClasses: number;
  outputStride: number;
  sizeDivisor: number;
  opset: number;
  input: { name: string; shape: (number | string)[] };
  output: { name: string; shape: (number | string)[] };
}

function shapeOf(v: ValueInfoProto | undefined): (number | string)[] {
  const dims = v?.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
}

/**
 * Read and check the metadata of an exported model.
 * @throws OnnxModelError naming `source` when the bytes are not ONNX or not one of our exports.
 */
export function readOnnxMeta(bytes: Uint8Array, source: string): OnnxModelMeta {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new OnnxModelError(
      `${source} is not a readable ONNX file (corrupt or truncated: ${(e as Error).message})`,
    );
  }
  if (!model.graph || !model.graph.node.length) {
    throw new OnnxModelError(`${source} is not a readable ONNX file (no graph)`);
  }
  const props = new Map(model.metadataProps.map((p) => [p.key, p.value]));
  const num = (k: string): number => Number(props.get(k));
  if (!props.has(META.model) || !(num(META.numClasses) > 0) || !(num(META.outputStride) > 0)) {
    throw new OnnxModelError(
      `${source} is a foreign ONNX model: it lacks offseg-ts metadata (export one with 'offseg export')`,
    );
  }
  const [input] = model.graph.input;
  const [output] = model.graph.output;
  return {
    model: props.get(META.model)!,
    numClasses: num(META.numClasses),
    outputStride: num(META.outputStride),
    sizeDivisor: num(META.sizeDivisor) || 32,
    opset: Number(model.opsetImport.find((o) => !o.domain)?.version ?? 0),
    input: { name: input.name, shape: shapeOf(input) },
    output: { name: output.name, shape: shapeOf(output) },
  };
}
