/**
 * A minimal protocol-2 pickle writer: the opcodes `torch.save(obj, f)` itself emits for dicts,
 * strings, numbers and tensors (its default `pickle_protocol` is 2), so the files we write load
 * in PyTorch, also with `torch.load(weights_only=True)`. The reader is pickle.ts.
 */
/** JSON-like values the writer can encode (numbers that are integers are written as ints). */
export type PlainValue =
  null | boolean | number | string | PlainValue[] | { [key: string]: PlainValue };

/**
 * A minimal protocol-2 pickle writer: the opcodes `torch.save(obj, f)` itself emits for dicts,
 * strings, numbers and tensors, so files load in PyTorch (also with `weights_only=True`). No memo
 * is written: every object is referenced once.
 */
export class PickleWriter {
  private buf = new Uint8Array(4096);
  private n = 0;
  private readonly utf8 = new TextEncoder();

  private reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  private raw(bytes: ArrayLike<number>): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
    return this;
  }
  private le(v: number, width: 1 | 2 | 4): void {
    for (let i = 0; i < width; i++) this.raw([(v >>> (8 * i)) & 0xff]);
  }

  op(code: number): this {
    return this.raw([code]);
  }
  proto2(): this {
    return this.raw([0x80, 2]);
  }
  mark(): this {
    return this.op(0x28);
  }
  str(s: string): this {
    const b = this.utf8.encode(s);
    this.op(0x58).le(b.length, 4);
    return this.raw(b);
  }
  int(v: number | bigint): this {
    if (typeof v === 'number' && Number.isInteger(v)) {
      if (v >= 0 && v < 0x100) return this.raw([0x4b, v]);
      if (v >= 0 && v < 0x10000) return (this.op(0x4d).le(v, 2), this);
      if (v >= -0x80000000 && v <= 0x7fffffff) return (this.op(0x4a).le(v >>> 0, 4), this);
    }
    // LONG1: minimal little-endian two's complement.
    let x = BigInt(v);
    const out: number[] = [];
    for (;;) {
      const byte = Number(x & 0xffn);
      out.push(byte);
      x >>= 8n;
      if ((x === 0n && !(byte & 0x80)) || (x === -1n && byte & 0x80)) break;
    }
    return this.raw([0x8a, out.length, ...out]);
  }
  float(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.op(0x47).raw(b);
  }
  global(module: string, name: string): this {
    return this.op(0x63).raw(this.utf8.encode(`${module}\n${name}\n`));
  }
  /** MARK … TUPLE around `items`. */
  tuple(items: readonly (number | string)[]): this {
    this.mark();
    for (const it of items) {
      if (typeof it === 'number') this.int(it);
      else this.str(it);
    }
    return this.op(0x74);
  }

  /** Any JSON-like value: objects become dicts, arrays lists. */
  value(v: PlainValue): this {
    if (v === null) return this.op(0x4e);
    if (typeof v === 'boolean') return this.op(v ? 0x88 : 0x89);
    if (typeof v === 'number') return Number.isSafeInteger(v) ? this.int(v) : this.float(v);
    if (typeof v === 'string') return this.str(v);
    if (Array.isArray(v)) {
      this.op(0x5d);
      if (!v.length) return this;
      this.mark();
      for (const x of v) this.value(x);
      return this.op(0x65); // APPENDS
    }
    this.op(0x7d);
    const keys = Object.keys(v);
    if (!keys.length) return this;
    this.mark();
    for (const k of keys) this.str(k).value(v[k]);
    return this.op(0x75); // SETITEMS
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}
