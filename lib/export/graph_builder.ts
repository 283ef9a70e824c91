/**
 * Accumulates ONNX nodes and initializers with unique value names, memoised small constants
 * and, for dynamic-shape graphs, the integer nodes that compute symbolic sizes (./sym.ts) from
 * the input's shape.
 */
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type DataTypeCode,
  type NodeProto,
  type TensorProto,
} from './onnx_proto.ts';
import { isSym, SYM_ORDER, type Dim, type ScalarSym } from './sym.ts';

/**
 * An attribute value: an integer (INT), an integer list (INTS), a string (STRING), `{ f }`
 * (FLOAT), `{ fs }` (FLOATS) or `{ t }` (TENSOR).
 */
export type AttrSpec =
  | number
  | readonly number[]
  | string
  | { readonly f: number }
  | { readonly fs: readonly number[] }
  | { readonly t: TensorProto };

export type ElemType = 'float32' | 'int32' | 'int64' | 'bool';

const ELEM: Record<ElemType, DataTypeCode> = {
  float32: DataType.FLOAT,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
};

/** ONNX data type code of an element type. */
export function onnxType(t: ElemType): DataTypeCode {
  return ELEM[t];
}

/** Little-endian bytes of values stored as `type`. */
export function rawBytes(values: ArrayLike<number>, type: ElemType): Uint8Array {
  let arr: ArrayBufferView;
  if (type === 'float32') arr = Float32Array.from(values);
  else if (type === 'int32') arr = Int32Array.from(values);
  else if (type === 'int64') arr = BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  else arr = Uint8Array.from(values, (v) => (v ? 1 : 0));
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

function attribute(name: string, v: AttrSpec): AttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === 'string') {
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  }
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: [...(v as number[])] };
  if ('f' in v) return { name, type: AttributeType.FLOAT, f: v.f };
  if ('t' in v) return { name, type: AttributeType.TENSOR, t: v.t };
  return { name, type: AttributeType.FLOATS, floats: [...(v as { fs: number[] }).fs] };
}

/** Where the symbolic sizes come from: the graph input's H and W and the size divisor. */
interface SymSource {
  input: string;
  divisor: number;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly memo = new Map<string, string>();
  private symSource?: SymSource;

  /** A value name not used yet, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserve a name that must stay exactly as given (graph inputs, state_dict keys). */
  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX value name '${name}' used twice`);
    this.used.add(name);
    return name;
  }

  /**
   * Append a node; returns its output names: `opts.exact` (names reserved beforehand) or
   * `opts.outputs` fresh names derived from `opts.name`.
   * @throws Error when an attribute value has the wrong type.
   */
  add(
    op: string,
    inputs: readonly string[],
    attrs: Record<string, AttrSpec> = {},
    opts: { name?: string; outputs?: number; exact?: readonly string[] } = {},
  ): string[] {
    const base = opts.name ?? op;
    const outputs = opts.exact
      ? [...opts.exact]
      : Array.from({ length: opts.outputs ?? 1 }, (_, i) =>
          this.fresh(opts.outputs && opts.outputs > 1 ? `${base}:${i}` : base),
        );
    this.nodes.push({
      input: [...inputs],
      output: outputs,
      name: outputs[0],
      opType: op,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** `add` for single-output nodes. */
  add1(
    op: string,
    inputs: readonly string[],
    attrs: Record<string, AttrSpec> = {},
    name?: string,
  ): string {
    return this.add(op, inputs, attrs, { name })[0];
  }

  /** A named initializer holding `raw` bytes. */
  initializer(name: string, dims: readonly number[], type: ElemType, raw: Uint8Array): string {
    this.initializers.push({ name, dims: [...dims], dataType: ELEM[type], rawData: raw });
    return name;
  }

  /** A constant initializer; small ones are shared by content. */
  constant(
    values: ArrayLike<number>,
    dims: readonly number[],
    type: ElemType,
    hint = 'const',
  ): string {
    const small = values.length <= 64;
    const key = small ? `${type}[${dims}]:${Array.from(values).join(',')}` : '';
    const hit = small ? this.memo.get(key) : undefined;
    if (hit) return hit;
    const name = this.initializer(this.fresh(hint), dims, type, rawBytes(values, type));
    if (small) this.memo.set(key, name);
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, pads). */
  int64s(values: readonly number[]): string {
    return this.constant(values, [values.length], 'int64', 'ints');
  }

  /** A 0-D float32 constant. */
  scalar(v: number): string {
    return this.constant([v], [], 'float32', 'scalar');
  }

  /** Drop the nodes no graph output depends on, and the initializers no node reads. */
  prune(outputs: readonly string[]): void {
    const live = new Set(outputs);
    const keep = new Array<boolean>(this.nodes.length).fill(false);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n.output.some((o) => live.has(o))) continue;
      keep[i] = true;
      for (const x of n.input) if (x) live.add(x);
    }
    const nodes = this.nodes.filter((_, i) => keep[i]);
    const inits = this.initializers.filter((t) => live.has(t.name ?? ''));
    this.nodes.splice(0, this.nodes.length, ...nodes);
    this.initializers.splice(0, this.initializers.length, ...inits);
  }

  /** Enable symbolic sizes: h = H/d and w = W/d are read from the NCHW `input`'s shape. */
  setSymbolicSource(input: string, divisor: number): void {
    this.symSource = { input, divisor };
  }

  /** Memoised node: the same op on the same inputs is emitted once. */
  private cached(op: string, inputs: string[], attrs: Record<string, AttrSpec> = {}): string {
    const key = `${op}(${inputs.join(',')})${JSON.stringify(attrs)}`;
    let v = this.memo.get(key);
    if (!v) this.memo.set(key, (v = this.add1(op, inputs, attrs, 'size')));
    return v;
  }

  /** int64 [1] tensors h = H/d and w = W/d. */
  private sides(): [string, string] {
    const src = this.symSource;
    if (!src) throw new Error('a size depends on the input, but the graph has fixed sizes');
    const shape = this.cached('Shape', [src.input]);
    const d = this.int64s([src.divisor]);
    const side = (axis: number): string =>
      this.cached('Div', [
        this.cached('Slice', [shape, this.int64s([axis]), this.int64s([axis + 1])]),
        d,
      ]);
    return [side(2), side(3)];
  }

  /** int64 [1] tensor h^i·w^j (i, j ≤ 2); undefined for the constant monomial. */
  private monomial(i: number, j: number): string | undefined {
    const [h, w] = this.sides();
    const power = (t: string, k: number): string | undefined =>
      k === 0 ? undefined : k === 1 ? t : this.cached('Mul', [t, t]);
    const hi = power(h, i);
    const wj = power(w, j);
    if (hi && wj) return this.cached('Mul', [hi, wj]);
    return hi ?? wj;
  }

  /** int64 [1] tensor holding a size. */
  symInt(v: Dim): string {
    if (!isSym(v)) return this.int64s([v]);
    let acc: string | undefined;
    v.sym.forEach((c, k) => {
      const m = this.monomial(Math.floor(k / SYM_ORDER), k % SYM_ORDER);
      if (c === 0 || m === undefined) return;
      const x = c === 1 ? m : this.cached('Mul', [m, this.int64s([c])]);
      acc = acc === undefined ? x : this.cached('Add', [acc, x]);
    });
    const c0 = v.sym[0];
    if (c0 !== 0)
      acc = acc === undefined ? this.int64s([c0]) : this.cached('Add', [acc, this.int64s([c0])]);
    return acc ?? this.int64s([0]);
  }

  /** 1-D int64 tensor of sizes (a constant when none is symbolic). */
  intVector(dims: readonly Dim[]): string {
    if (!dims.some(isSym)) return this.int64s(dims as number[]);
    return this.cached(
      'Concat',
      dims.map((d) => this.symInt(d)),
      { axis: 0 },
    );
  }

  /** 0-D int64 tensor of a size. */
  scalarInt(v: Dim): string {
    if (!isSym(v)) return this.constant([v], [], 'int64', 'scalar');
    return this.cached('Squeeze', [this.symInt(v), this.int64s([0])]);
  }

  /** 0-D float32 tensor of a size-dependent scalar. */
  symScalar(s: ScalarSym): string {
    const f = this.cached('Cast', [this.scalarInt(s.poly)], { to: DataType.FLOAT });
    return s.kind === 'poly' ? f : this.cached('Div', [this.scalar(1), f]);
  }
}
