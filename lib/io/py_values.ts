/**
 * The Python values a pickle describes, as the data-only reader (pickle.ts) builds them: plain
 * JS values for None/bool/int/float/str/bytes/list, and inert records for tuples, dicts, sets,
 * global names and would-be objects. Nothing here can call Python code.
 */
/** Anything the caller's hooks create (tensor references, storages). */
export interface HostValue {
  readonly hostKind: string;
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[] // list
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | PyObject
  | HostValue;

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A dict (or OrderedDict); insertion order is kept. Keys compare by JS identity/value. */
export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
  /** Attributes recorded by BUILD (e.g. the `_metadata` of a state_dict's OrderedDict). */
  state: PyValue | undefined;
  constructor(readonly cls = 'builtins.dict') {}
  get(key: string): PyValue | undefined {
    return this.map.get(key);
  }
}

export class PySet {
  constructor(readonly items: PyValue[] = []) {}
}

/** A reference to a Python global by name. Never resolved, never called. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Inert placeholder for an object the pickle would have constructed by calling `callable`. */
export class PyObject {
  /** States passed to BUILD, in order. */
  readonly states: PyValue[] = [];
  /** Items added by APPEND(S) / SETITEM(S) on the object (list or dict subclasses). */
  readonly items: PyValue[] = [];
  constructor(
    readonly callable: PyValue,
    readonly args: PyValue[],
  ) {}
  /** 'numpy.core.multiarray._reconstruct', or a description if the callable is not a name. */
  get className(): string {
    return this.callable instanceof PyGlobal ? this.callable.qualname : '<computed callable>';
  }
}
