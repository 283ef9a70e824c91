/** The zip reader/writer: round trip, 64-byte alignment, CRC-32, DEFLATE, damage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { crc32, encodeStoredZip, readZipEntries, zipEntryData } from './zip.ts';

const concat = (chunks: Uint8Array[]) => new Uint8Array(Buffer.concat(chunks));

test('stored round trip; data aligned to 64 bytes; CRC-32 as zlib', () => {
  const a = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const b = new TextEncoder().encode('3\n');
  const zip = concat(
    encodeStoredZip([
      { name: 'x/data/0', data: [a.subarray(0, 10), a.subarray(10)] },
      { name: 'x/version', data: b },
    ]),
  );
  const entries = readZipEntries(zip);
  assert.deepEqual(
    entries.map((e) => [e.name, e.method, e.size]),
    [
      ['x/data/0', 0, 1000],
      ['x/version', 0, 2],
    ],
  );
  const d0 = zipEntryData(zip, entries[0]);
  assert.deepEqual(d0, a);
  assert.equal(d0.byteOffset % 64, 0); // zip is a fresh buffer, so this is the file offset
  assert.equal(entries[0].crc32, crc32(a));
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926); // the standard check value
  assert.deepEqual(zipEntryData(zip, entries[1]), b);
});

test('DEFLATE entries are inflated', () => {
  // Build a one-entry deflate archive by patching a stored one (method 8, compressed bytes).
  const text = new TextEncoder().encode('abc'.repeat(100));
  const packed = new Uint8Array(deflateRawSync(text));
  const stored = concat(encodeStoredZip([{ name: 'a.txt', data: packed }]));
  const dv = new DataView(stored.buffer);
  const cd = stored.length - 22 - (46 + 5);
  dv.setUint16(8, 8, true); // local header method
  dv.setUint16(cd + 10, 8, true); // central directory method
  dv.setUint32(cd + 24, text.length, true); // uncompressed size
  const [e] = readZipEntries(stored);
  assert.equal(e.method, 8);
  assert.deepEqual(zipEntryData(stored, e), text);
});

test('damaged archives are reported', () => {
  const zip = concat(encodeStoredZip([{ name: 'a', data: Uint8Array.from([1, 2, 3]) }]));
  assert.throws(
    () => readZipEntries(zip.subarray(0, zip.length - 30), 'f.pth'),
    /f\.pth: truncated or damaged zip/,
  );
  const bad = zip.slice();
  bad[0] = 0; // local header signature
  assert.throws(() => zipEntryData(bad, readZipEntries(bad)[0], 'f.pth'), /bad local header/);
});
