/**
 * Minimal PNG codec for label maps: single-channel grey (1–16 bit) and palette images decoded to
 * their stored values, as mmseg's `LoadAnnotations` does (`imfrombytes(flag='unchanged')` with
 * Pillow returns palette indices, never colours). sharp expands palettes to RGB, hence this file.
 * Encoding writes 8-bit grey PNGs (the layout of every mmseg label file).
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';

export interface PngLabel {
  width: number;
  height: number;
  /** One value per pixel, row-major. */
  data: Uint8Array | Uint16Array;
  colorType: number;
  bitDepth: number;
}

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** Thrown for files this codec cannot or will not read; callers wrap it with the file name. */
export class PngFormatError extends Error {}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses the per-row filters in place; `bpp` = bytes per complete pixel (≥ 1). */
function unfilter(raw: Buffer, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const prev = dst - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[dst + x - bpp] : 0;
      const b = y > 0 ? out[prev + x] : 0;
      const c = y > 0 && x >= bpp ? out[prev + x - bpp] : 0;
      const v = raw[src + x];
      let r: number;
      switch (type) {
        case 0:
          r = v;
          break;
        case 1:
          r = v + a;
          break;
        case 2:
          r = v + b;
          break;
        case 3:
          r = v + ((a + b) >> 1);
          break;
        case 4:
          r = v + paeth(a, b, c);
          break;
        default:
          throw new PngFormatError(`bad PNG filter type ${type} in row ${y}`);
      }
      out[dst + x] = r & 255;
    }
  }
  return out;
}

/** Decodes a single-channel (grey or palette) PNG; throws PngFormatError otherwise. */
export function decodePngLabel(buf: Uint8Array): PngLabel {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE))
    throw new PngFormatError('not a PNG file');
  let pos = 8;
  let width = 0,
    height = 0,
    bitDepth = 0,
    colorType = -1,
    interlace = 0;
  const idat: Buffer[] = [];
  while (pos + 8 <= b.length) {
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > b.length) throw new PngFormatError(`truncated ${type} chunk`);
    const body = b.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      bitDepth = body[8];
      colorType = body[9];
      interlace = body[12];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (colorType < 0 || width === 0 || height === 0) throw new PngFormatError('missing IHDR');
  if (colorType !== 0 && colorType !== 3) {
    const what = { 2: 'RGB', 4: 'grey+alpha', 6: 'RGBA' }[colorType] ?? `colour type ${colorType}`;
    throw new PngFormatError(
      `label PNG is ${what}; it must be single-channel (8-bit grey or palette) holding class ids`,
    );
  }
  if (interlace !== 0) throw new PngFormatError('interlaced (Adam7) label PNGs are not supported');
  if (idat.length === 0) throw new PngFormatError('no image data (IDAT)');
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new PngFormatError(`corrupt image data: ${(e as Error).message}`);
  }
  const stride = Math.ceil((width * bitDepth) / 8);
  if (raw.length < height * (stride + 1)) throw new PngFormatError('truncated image data');
  const rows = unfilter(raw, height, stride, Math.max(1, bitDepth >> 3));
  const n = width * height;
  if (bitDepth === 8)
    return {
      width,
      height,
      data: rows.length === n ? rows : rows.slice(0, n),
      colorType,
      bitDepth,
    };
  if (bitDepth === 16) {
    const data = new Uint16Array(n);
    for (let i = 0; i < n; i++) data[i] = (rows[2 * i] << 8) | rows[2 * i + 1];
    return { width, height, data, colorType, bitDepth };
  }
  // 1, 2, 4 bits: values packed MSB first, rows padded to whole bytes.
  const data = new Uint8Array(n);
  const mask = (1 << bitDepth) - 1;
  const perByte = 8 / bitDepth;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = rows[y * stride + Math.floor(x / perByte)];
      const shift = 8 - bitDepth * ((x % perByte) + 1);
      data[y * width + x] = (byte >> shift) & mask;
    }
  }
  return { width, height, data, colorType, bitDepth };
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

/** Rows with the Sub filter (label maps are long runs along a row), one filter byte each. */
function subFiltered(data: Uint8Array, width: number, height: number): Buffer {
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) {
    const o = y * (width + 1);
    raw[o] = 1;
    const r = y * width;
    raw[o + 1] = data[r];
    for (let x = 1; x < width; x++) raw[o + 1 + x] = (data[r + x] - data[r + x - 1]) & 255;
  }
  return raw;
}

function header(width: number, height: number, colorType: 0 | 3): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = colorType;
  return ihdr;
}

/** Encodes an 8-bit grey PNG (Sub filter, zlib level 6): deterministic for a given zlib. */
export function encodePngGray8(data: Uint8Array, width: number, height: number): Buffer {
  if (data.length !== width * height) throw new Error('encodePngGray8: size mismatch');
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header(width, height, 0)),
    chunk('IDAT', deflateSync(subFiltered(data, width, height), { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Encodes an 8-bit palette PNG whose pixel values are the class ids and whose palette shows
 * them in colour, as mmseg saves predictions (`MMSegInferencer`, `img_path` → `pred/*.png`):
 * viewers show colours, `decodePngLabel` (and Pillow) read back the ids.
 * @param palette RGB per id; ids without a colour are drawn black
 * @throws Error when `data` does not hold width × height values or the palette has > 256 entries
 */
export function encodePngPalette8(
  data: Uint8Array,
  width: number,
  height: number,
  palette: readonly (readonly [number, number, number])[],
): Buffer {
  if (data.length !== width * height) throw new Error('encodePngPalette8: size mismatch');
  if (palette.length > 256)
    throw new Error(`a PNG palette holds 256 colours, got ${palette.length}`);
  let top = 0;
  for (const v of data) if (v > top) top = v;
  const plte = Buffer.alloc(3 * Math.max(palette.length, top + 1));
  palette.forEach((c, i) => plte.set(c, 3 * i));
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header(width, height, 3)),
    chunk('PLTE', plte),
    chunk('IDAT', deflateSync(subFiltered(data, width, height), { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
