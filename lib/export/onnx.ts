/**
 * Export any registered segmentor to ONNX (opset 17): the graph is built from the tfjs kernels
 * one eval-mode forward really runs (./record.ts), lowered node by node (./lower.ts), with the
 * model's weights as initializers named by their official state_dict keys.
 *
 * Interface of the exported model:
 * - input  `input`  float32 [B, 3, H, W], normalised as for `forward` ((RGB − mean) / std);
 * - output `logits` float32 [B, K, H/s, W/s], s = the model's output stride, before any resize.
 * H and W are fixed (`size`) or symbolic (`dynamic`: any multiples of the size divisor, named
 * `height` and `width`). Metadata properties record the model name, K, s and the divisor.
 *
 * What is folded: nothing by the exporter. BatchNorm-into-conv folds, layout transposes of
 * weights and attention-bias gathers are written as the forward computes them, from the
 * original parameters; ONNX Runtime folds these constant subgraphs when a session is created.
 */
import type { Segmentor } from '../models/segmentor.ts';
import { GraphBuilder } from './graph_builder.ts';
import { lowerRecording } from './lower.ts';
import { encodeModel, DataType, type Dimension, type ModelProto } from './onnx_proto.ts';
import { recordAt, type RecordMode, type Recording } from './record.ts';
import { recordDynamic } from './dynamic.ts';
import { formatDim, isSym, SYM_ORDER, type Dim } from './sym.ts';
import { META } from './onnx_meta.ts';

export { META };

export const OPSET = 17;
/** ONNX IR version 8 (ONNX 1.10+), which opset 17 runtimes read. */
export const IR_VERSION = 8;
export const PRODUCER = 'offseg-ts';

export interface ExportOptions {
  /** Model name written to the metadata (e.g. `offseg-t`). */
  modelName: string;
  /** Fixed input size [H, W]; multiples of `model.sizeDivisor`. Ignored when `dynamic`. */
  size?: readonly [number, number];
  /** Symbolic height and width (any multiples of the size divisor at run time). */
  dynamic?: boolean;
  /** Batch size (default 1; fixed in the graph). */
  batch?: number;
  /** Seed of the random probe input(s) the forward is recorded on (default 0). */
  seed?: number;
  /** Record on the shape-only backend (default) or by computing the forward. */
  record?: RecordMode;
}

/** A tensor of the exported interface; symbolic dimensions are strings (`height`, `width/4`). */
export interface TensorInfo {
  name: string;
  shape: (number | string)[];
}

export interface ExportResult {
  bytes: Uint8Array;
  opset: number;
  input: TensorInfo;
  output: TensorInfo;
  nodes: number;
  initializers: number;
}

/** Raised for options the exporter cannot honour (size not divisible, bad batch…). */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

function checkSize(model: Segmentor, size: readonly [number, number]): void {
  const d = model.sizeDivisor;
  const [h, w] = size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0) || h % d || w % d) {
    throw new ExportError(
      `size ${h}×${w} is not a multiple of ${d}, the size divisor of this model`,
    );
  }
}

/** A graph dimension: a number, `height`/`width`, `height/4`…, or the polynomial. */
function dimName(d: Dim, divisor: number, side: 'height' | 'width'): string | number {
  if (!isSym(d)) return d;
  const k = side === 'height' ? SYM_ORDER : 1; // coefficient of h (resp. w) alone
  if (d.sym.every((c, i) => i === k || c === 0)) {
    const f = d.sym[k] / divisor; // d = c·h = c·H/divisor
    if (f === 1) return side;
    return f < 1 ? `${side}/${1 / f}` : `${f}*${side}`;
  }
  return formatDim(d);
}

function valueInfo(name: string, shape: (number | string)[]) {
  const dim: Dimension[] = shape.map((d) =>
    typeof d === 'number' ? { dimValue: d } : { dimParam: d },
  );
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
}

/**
 * Export `model` (eval mode, its current weights) to ONNX bytes.
 *
 * @throws ExportError for a size that is not a multiple of the model's size divisor or a bad
 *   batch; UnsupportedKernelError (./lower.ts) for a kernel without an ONNX mapping; Error from
 *   ./dynamic.ts when `dynamic` is asked of a model whose computation depends on the input size
 *   in a way a symbolic graph cannot express.
 */
export async function exportOnnx(model: Segmentor, opts: ExportOptions): Promise<ExportResult> {
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1)
    throw new ExportError(`batch must be ≥ 1, got ${batch}`);
  const seed = opts.seed ?? 0;
  const d = model.sizeDivisor;
  let rec: Recording;
  if (opts.dynamic) {
    rec = await recordDynamic(model, batch, seed, opts.record);
  } else {
    const size = opts.size ?? [512, 512];
    checkSize(model, size);
    rec = await recordAt(model, batch, size, seed, opts.record);
  }
  const g = new GraphBuilder();
  const { input, output } = lowerRecording(rec, g, { divisor: opts.dynamic ? d : undefined });
  const [, oh, ow] = rec.outputInfo.shape;
  const inShape: (number | string)[] = [
    batch,
    3,
    dimName(rec.input.shape[1], d, 'height'),
    dimName(rec.input.shape[2], d, 'width'),
  ];
  const outShape: (number | string)[] = [
    batch,
    model.numClasses,
    dimName(oh, d, 'height'),
    dimName(ow, d, 'width'),
  ];
  const proto: ModelProto = {
    irVersion: IR_VERSION,
    producerName: PRODUCER,
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: OPSET }],
    docString: `${opts.modelName}: NCHW normalised image → NCHW logits at stride ${model.outputStride}`,
    metadataProps: [
      { key: META.model, value: opts.modelName },
      { key: META.numClasses, value: String(model.numClasses) },
      { key: META.outputStride, value: String(model.outputStride) },
      { key: META.sizeDivisor, value: String(d) },
    ],
    graph: {
      name: opts.modelName,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(input, inShape)],
      output: [valueInfo(output, outShape)],
    },
  };
  return {
    bytes: encodeModel(proto),
    opset: OPSET,
    input: { name: input, shape: inShape },
    output: { name: output, shape: outShape },
    nodes: g.nodes.length,
    initializers: g.initializers.length,
  };
}
