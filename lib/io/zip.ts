/**
 * The part of the ZIP format (PKWARE APPNOTE 6.3) that `torch.save` archives use.
 *
 * Reading: central directory (incl. ZIP64 sizes/offsets), STORED and DEFLATE entries; entry data
 * of a STORED entry is a view into the file buffer (no copy). Writing: STORED entries only, each
 * entry's data aligned to 64 bytes through a padding extra field, as PyTorch's own writer does
 * (it lets torch mmap the storages). Encryption, multi-disk archives and other methods are refused.
 */
import { CheckpointError } from './errors.ts';
import * as zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** 0 = STORED, 8 = DEFLATE. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the local file header. */
  localOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const U32_MAX = 0xffffffff;

export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && (buf[2] === 3 || buf[2] === 5);
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function u64(dv: DataView, off: number): number {
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new CheckpointError('zip: 64-bit size beyond 2^53');
  return Number(v);
}

/** List the entries of a zip archive held in memory, in central-directory order. */
export function readZipEntries(buf: Uint8Array, source = '<buffer>'): ZipEntry[] {
  const dv = view(buf);
  // The end-of-central-directory record is the last 22 bytes plus an optional ≤65535-byte comment.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new CheckpointError(`${source}: truncated or damaged zip archive (no end record)`);
  let count = dv.getUint16(eocd + 10, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== SIG_ZIP64_LOCATOR)
      throw new CheckpointError(`${source}: damaged zip archive (ZIP64 locator missing)`);
    const z64 = u64(dv, loc + 8);
    if (dv.getUint32(z64, true) !== SIG_ZIP64_EOCD)
      throw new CheckpointError(`${source}: damaged zip archive (bad ZIP64 end record)`);
    count = u64(dv, z64 + 32);
    cdOffset = u64(dv, z64 + 48);
  }
  const utf8 = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || dv.getUint32(p, true) !== SIG_CENTRAL)
      throw new CheckpointError(`${source}: damaged zip central directory at byte ${p}`);
    const flags = dv.getUint16(p + 8, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const name = utf8.decode(buf.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new CheckpointError(`${source}: zip entry ${name} is encrypted`);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    let localOffset = dv.getUint32(p + 42, true);
    // ZIP64 extra field (id 1): the 64-bit values, in this order, of the fields saturated above.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (size === U32_MAX) {
          size = u64(dv, q);
          q += 8;
        }
        if (compressedSize === U32_MAX) {
          compressedSize = u64(dv, q);
          q += 8;
        }
        if (localOffset === U32_MAX) localOffset = u64(dv, q);
      }
      e += 4 + len;
    }
    entries.push({
      name,
      method: dv.getUint16(p + 10, true),
      compressedSize,
      size,
      crc32: dv.getUint32(p + 16, true),
      localOffset,
    });
    p = eEnd + commentLen;
  }
  return entries;
}

/** The bytes of one entry: a view for STORED entries, a fresh buffer for DEFLATE ones. */
export function zipEntryData(buf: Uint8Array, entry: ZipEntry, source = '<buffer>'): Uint8Array {
  const dv = view(buf);
  const h = entry.localOffset;
  if (h + 30 > buf.length || dv.getUint32(h, true) !== SIG_LOCAL)
    throw new CheckpointError(`${source}: damaged zip entry ${entry.name} (bad local header)`);
  // The local header's name/extra lengths may differ from the central directory's (padding).
  const start = h + 30 + dv.getUint16(h + 26, true) + dv.getUint16(h + 28, true);
  const end = start + entry.compressedSize;
  if (end > buf.length)
    throw new CheckpointError(`${source}: zip entry ${entry.name} is truncated`);
  const raw = buf.subarray(start, end);
  if (entry.method === 0) return raw;
  if (entry.method === 8) {
    const out = zlib.inflateRawSync(raw);
    if (out.length !== entry.size)
      throw new CheckpointError(`${source}: zip entry ${entry.name} inflates to the wrong size`);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  throw new CheckpointError(
    `${source}: zip entry ${entry.name} uses compression method ${entry.method} (only stored and deflate are supported)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Writing

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE), incremental; node:zlib's native one when the runtime has it (Node ≥ 20.15). */
export function crc32(data: Uint8Array, prev = 0): number {
  const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(data, prev);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~prev >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export interface ZipInput {
  name: string;
  /** The entry's bytes, possibly in several pieces (written back to back, never concatenated). */
  data: Uint8Array | Uint8Array[];
}

const ALIGN = 64;
/** Extra-field id PyTorch uses for its alignment padding ('FB'). */
const PAD_ID = 0x4246;
/** DOS date/time 1980-01-01 00:00: a fixed stamp keeps the output byte-reproducible. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/**
 * Encode STORED entries as a zip archive, returned as chunks for `writeSync` (tensor data is
 * referenced, not copied). Throws beyond 4 GiB: ZIP64 writing is not needed for our models.
 */
export function encodeStoredZip(inputs: ZipInput[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  const utf8 = new TextEncoder();
  let offset = 0;
  for (const input of inputs) {
    const parts = Array.isArray(input.data) ? input.data : [input.data];
    const size = parts.reduce((a, d) => a + d.byteLength, 0);
    let crc = 0;
    for (const d of parts) crc = crc32(d, crc);
    const name = utf8.encode(input.name);
    const pad = (ALIGN - ((offset + 30 + name.length + 4) % ALIGN)) % ALIGN;
    const local = new Uint8Array(30 + name.length + 4 + pad);
    const lv = view(local);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, 1 << 11, true); // flags: UTF-8 names
    lv.setUint16(8, 0, true); // STORED
    lv.setUint16(10, 0, true);
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, size, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 4 + pad, true);
    local.set(name, 30);
    lv.setUint16(30 + name.length, PAD_ID, true);
    lv.setUint16(32 + name.length, pad, true);
    local.fill(0x5a, 34 + name.length); // 'Z', as torch pads

    const cd = new Uint8Array(46 + name.length);
    const cv = view(cd);
    cv.setUint32(0, SIG_CENTRAL, true);
    cv.setUint16(4, 20, true); // version made by
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 1 << 11, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, DOS_DATE, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, size, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    central.push(cd);

    chunks.push(local, ...parts);
    offset += local.length + size;
    if (offset > U32_MAX)
      throw new CheckpointError('encodeStoredZip: archives over 4 GiB are not supported');
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = view(end);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, inputs.length, true);
  ev.setUint16(10, inputs.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  if (inputs.length > 0xfffe) throw new CheckpointError('encodeStoredZip: too many entries');
  return [...chunks, ...central, end];
}
