/**
 * A data-only Python pickle reader: every opcode of protocols 2–5 (except out-of-band buffers)
 * plus the protocol-0 ones torch-era pickles can contain. The writer is pickle_writer.ts.
 *
 * Why not "just unpickle": a pickle is a program; loading one with Python's pickle runs whatever
 * callables it names. This reader NEVER calls anything. A `GLOBAL` becomes an inert `PyGlobal`
 * name; `REDUCE`/`NEWOBJ` on it become a `PyObject` that only records its arguments, unless the
 * caller's `reduce` hook recognises the name and builds a plain value (the checkpoint layer does
 * that for the handful of torch rebuild functions). `BUILD` state is recorded, never applied by
 * calling `__setstate__`. So hostile files can waste memory at worst, never execute code.
 */
import { CheckpointError } from './errors.ts';

import {
  PyDict,
  PyGlobal,
  PyObject,
  PySet,
  PyTuple,
  type HostValue,
  type PyValue,
} from './py_values.ts';

export { PyDict, PyGlobal, PyObject, PySet, PyTuple, type HostValue, type PyValue };

export interface UnpickleHooks {
  /** Resolve a persistent id (BINPERSID / PERSID). Without it, persistent ids are an error. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Build a value for `callable(*args)` without executing anything; undefined → placeholder. */
  reduce?: (callable: PyGlobal, args: PyValue[]) => PyValue | undefined;
}

/** A Python int as a JS number when exact, else a bigint. */
function narrow(v: bigint): number | bigint {
  const safe = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
  return safe ? Number(v) : v;
}

function isHost(v: PyValue): v is HostValue {
  return typeof v === 'object' && v !== null && 'hostKind' in v;
}

/** Interpret `buf` as a pickle and return the object it describes (see the header). */
export function unpickle(buf: Uint8Array, hooks: UnpickleHooks = {}, source = 'pickle'): PyValue {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const utf8 = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  let p = 0;
  const fail = (msg: string): never => {
    throw new CheckpointError(`${source}: ${msg} (byte ${p})`);
  };
  const need = (n: number): number => {
    if (n < 0 || p + n > buf.length) fail('truncated pickle');
    const at = p;
    p += n;
    return at;
  };
  const u8 = () => buf[need(1)];
  const u16 = () => dv.getUint16(need(2), true);
  const u32 = () => dv.getUint32(need(4), true);
  const u64 = () => {
    const v = dv.getBigUint64(need(8), true);
    return v > BigInt(buf.length) ? fail('length beyond end of pickle') : Number(v);
  };
  const bytes = (n: number) => buf.subarray(need(n), p);
  const line = () => {
    const end = buf.indexOf(0x0a, p);
    if (end < 0) fail('truncated pickle (missing newline)');
    const s = latin1.decode(buf.subarray(p, end));
    p = end + 1;
    return s;
  };
  const push = (v: PyValue) => void stack.push(v);
  const pop = (): PyValue => (stack.length ? (stack.pop() as PyValue) : fail('stack underflow'));
  const top = (): PyValue => (stack.length ? stack[stack.length - 1] : fail('stack underflow'));
  const popMark = (): PyValue[] => {
    const items = stack;
    stack = marks.pop() ?? fail('MARK missing');
    return items;
  };
  const memoGet = (i: number): PyValue =>
    memo.has(i) ? (memo.get(i) as PyValue) : fail(`memo ${i} unset`);
  const persistent = (pid: PyValue) =>
    hooks.persistentLoad ? hooks.persistentLoad(pid) : fail('persistent id without a loader');
  const reduce = (callable: PyValue, args: PyValue[]): PyValue => {
    if (callable instanceof PyGlobal) {
      const built = hooks.reduce?.(callable, args);
      if (built !== undefined) return built;
      // Pure data constructors Python itself pickles this way are rebuilt as data.
      const q = callable.qualname;
      const [a0, a1] = args;
      if ((q === 'collections.OrderedDict' || q === 'builtins.dict') && args.length === 0)
        return new PyDict(q);
      if (/^(__builtin__|builtins)\.(set|frozenset)$/.test(q) && Array.isArray(a0))
        return new PySet([...a0]);
      // Protocol ≤ 2 pickles Python 3 bytes as _codecs.encode(latin1-text, 'latin1').
      if (q === '_codecs.encode' && typeof a0 === 'string' && a1 === 'latin1')
        return Uint8Array.from(a0, (c) => c.charCodeAt(0));
    }
    return new PyObject(callable, args);
  };
  const setItems = (target: PyValue, kv: PyValue[]) => {
    if (kv.length % 2) fail('SETITEMS with an odd number of items');
    if (target instanceof PyDict)
      for (let i = 0; i < kv.length; i += 2) target.map.set(kv[i], kv[i + 1]);
    else if (target instanceof PyObject) for (const v of kv) target.items.push(v);
    else fail('SETITEM on a non-dict');
  };
  const append = (target: PyValue, items: PyValue[]) => {
    if (Array.isArray(target)) for (const v of items) target.push(v);
    else if (target instanceof PyObject) for (const v of items) target.items.push(v);
    else fail('APPEND on a non-list');
  };
  const long = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return narrow(v);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: framing is only a read-ahead hint
        need(8);
        break;
      case 0x2e: // STOP
        return stack.length === 1 ? stack[0] : fail('STOP with a malformed stack');
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        stack.push(op === 0x88);
        break;
      case 0x4a: // BININT
        stack.push(dv.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(bytes(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(long(bytes(u32())));
        break;
      case 0x47: // BINFLOAT (big-endian)
        stack.push(dv.getFloat64(need(8), false));
        break;
      case 0x49: {
        // INT (text): also encodes booleans as 00 / 01
        const s = line();
        stack.push(s === '00' ? false : s === '01' ? true : Number(s));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(narrow(BigInt(line().replace(/L$/, ''))));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(bytes(u64())));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(bytes(dv.getInt32(need(4), true))));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        if (stack.length < n) fail('stack underflow');
        stack.push(new PyTuple(stack.splice(stack.length - n, n)));
        break;
      }
      case 0x74: // TUPLE
        push(new PyTuple(popMark())); // (not stack.push: popMark replaces `stack`)
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new PySet());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet)) fail('ADDITEMS on a non-set');
        for (const v of items) (s as PySet).items.push(v);
        break;
      }
      case 0x91: // FROZENSET
        push(new PySet(popMark()));
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number(line()), top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(Number(line())));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(new PyGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          fail('STACK_GLOBAL needs strings');
        stack.push(new PyGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(reduce(callable, args instanceof PyTuple ? args.items : [args]));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args), recorded only
        const args = pop();
        const cls = pop();
        stack.push(new PyObject(cls, args instanceof PyTuple ? args.items : [args]));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        stack.push(new PyObject(cls, [...(args instanceof PyTuple ? args.items : [args]), kwargs]));
        break;
      }
      case 0x62: {
        // BUILD: record the state; nothing is applied by running code
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.state = state;
        else if (obj instanceof PyObject) obj.states.push(state);
        else if (!isHost(obj)) fail('BUILD on a plain value');
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
      case 0x50: // PERSID (text)
        stack.push(persistent(line()));
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail('out-of-band pickle buffers (protocol 5) are not supported');
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
