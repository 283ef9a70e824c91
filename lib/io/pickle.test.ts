/**
 * The data-only pickle reader and the protocol-2 writer. Byte strings below were produced by
 * CPython's `pickle.dumps` at authoring time (the expression is quoted beside each).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyDict, PyGlobal, PyObject, PySet, PyTuple, unpickle, type PyValue } from './pickle.ts';
import { PickleWriter } from './pickle_writer.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

test('protocol 4: FRAME, MEMOIZE, SHORT_BINUNICODE, SHORT_BINBYTES, LONG1, FROZENSET, ints', () => {
  // pickle.dumps({'a': [1, 2.5, None, True], 'b': ('x', b'\x00\xff'), 'big': 2**70,
  //   'neg': -2**70, 'f': frozenset([3]), 's': 'é€', 'n32': -100000, 'u16': 60000}, protocol=4)
  const v = unpickle(
    hex(
      '80049574000000000000007d94288c0161945d94284b014740040000000000004e88658c0162948c017894430200ff9486948c03626967948a090000000000000000408c036e6567948a090000000000000000c08c016694284b0391948c0173948c05c3a9e282ac948c036e3332944a6079feff8c03753136944d60ea752e',
    ),
  );
  assert.ok(v instanceof PyDict);
  assert.deepEqual(v.get('a'), [1, 2.5, null, true]);
  const b = v.get('b');
  assert.ok(b instanceof PyTuple);
  assert.equal(b.items[0], 'x');
  assert.deepEqual(b.items[1], Uint8Array.from([0, 255]));
  assert.equal(v.get('big'), 2n ** 70n);
  assert.equal(v.get('neg'), -(2n ** 70n));
  assert.deepEqual((v.get('f') as PySet).items, [3]);
  assert.equal(v.get('s'), 'é€');
  assert.equal(v.get('n32'), -100000);
  assert.equal(v.get('u16'), 60000);
});

test('memo references keep identity (a list that contains itself)', () => {
  // l = []; l.append(l); pickle.dumps(l, protocol=2)
  const v = unpickle(hex('80025d71006800612e')) as PyValue[];
  assert.ok(Array.isArray(v));
  assert.equal(v[0], v);
});

test('a malicious REDUCE is recorded, never executed (protocols 2 and 4)', () => {
  // class Evil: __reduce__ = lambda self: (os.system, ('echo pwned',));  {'x': Evil()}
  for (const h of [
    '80027d7100580100000078710163706f7369780a73797374656d0a7102580a0000006563686f2070776e65647103857104527105732e',
    '8004952c000000000000007d948c0178948c05706f736978948c0673797374656d9493948c0a6563686f2070776e65649485945294732e',
  ]) {
    const x = (unpickle(hex(h)) as PyDict).get('x');
    assert.ok(x instanceof PyObject);
    assert.equal(x.className, 'posix.system');
    assert.deepEqual(x.args, ['echo pwned']);
  }
});

test('hooks: reduce builds values for known names, persistent ids go to persistentLoad', () => {
  const w = new PickleWriter().proto2();
  w.global('m', 'make').mark().str('storage').int(5).op(0x74).op(0x51); // f (BINPERSID(('storage',5)))
  w.op(0x85).op(0x52).op(0x2e); // TUPLE1 REDUCE STOP
  const seen: PyValue[] = [];
  const v = unpickle(w.bytes(), {
    persistentLoad: (pid) => (seen.push(pid), { hostKind: 'ref' }),
    reduce: (fn: PyGlobal, args) => (fn.qualname === 'm.make' ? `made(${args.length})` : undefined),
  });
  assert.equal(v, 'made(1)');
  assert.ok(seen[0] instanceof PyTuple);
  assert.deepEqual((seen[0] as PyTuple).items, ['storage', 5]);
});

test('BUILD state on an OrderedDict is kept as .state (torch _metadata)', () => {
  const w = new PickleWriter().proto2().global('collections', 'OrderedDict').op(0x29).op(0x52);
  w.mark().str('k').int(1).op(0x75); // SETITEMS
  w.value({ _metadata: { '': { version: 1 } } })
    .op(0x62)
    .op(0x2e); // BUILD STOP
  const v = unpickle(w.bytes());
  assert.ok(v instanceof PyDict);
  assert.equal(v.cls, 'collections.OrderedDict');
  assert.equal(v.get('k'), 1);
  assert.ok(v.state instanceof PyDict);
});

test('writer → reader round trip of JSON-like values (ints of every width, floats, nesting)', () => {
  const value = {
    s: 'héllo',
    ints: [0, 255, 256, 65535, 65536, -1, -2147483648, 2147483647, 2 ** 40, -(2 ** 40)],
    f: [0.5, -1e-30, 1e300],
    nested: { empty: {}, list: [], t: true, n: null },
  };
  const v = unpickle(new PickleWriter().proto2().value(value).op(0x2e).bytes());
  const plain = (x: PyValue): unknown =>
    x instanceof PyDict
      ? Object.fromEntries([...x.map].map(([k, y]) => [k, plain(y)]))
      : Array.isArray(x)
        ? x.map(plain)
        : x;
  assert.deepEqual(plain(v), value);
});

test('damaged input fails with a byte position, not a crash', () => {
  assert.throws(
    () => unpickle(Uint8Array.from([0x80, 2, 0x58, 9, 0, 0, 0, 0x61])),
    /truncated pickle/,
  );
  assert.throws(() => unpickle(Uint8Array.from([0x80, 2, 0xff])), /unsupported pickle opcode 0xff/);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 2, 0x68, 3, 0x2e])), /memo 3 unset/);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 2, 0x51, 0x2e])), /stack underflow/);
});
