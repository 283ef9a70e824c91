// PNG label codec: round trip, palette indices (not colours), bit depths, refusal of RGB labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { PngFormatError, decodePngLabel, encodePngGray8, encodePngPalette8 } from './png.ts';

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0);
  return Buffer.concat([head, body, crc]);
}

function handMadePng(
  w: number,
  h: number,
  depth: number,
  colorType: number,
  rows: number[][],
  plte?: number[],
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const raw = Buffer.concat(rows.map((r) => Buffer.from([0, ...r])));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    ...(plte ? [chunk('PLTE', Buffer.from(plte))] : []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('encodePngGray8 → decodePngLabel round trip, and sharp reads it as the same grey image', async () => {
  const w = 37;
  const h = 5;
  const data = Uint8Array.from({ length: w * h }, (_, i) => (i * 7) % 256);
  const png = encodePngGray8(data, w, h);
  const back = decodePngLabel(png);
  assert.equal(back.width, w);
  assert.equal(back.height, h);
  assert.deepEqual([...back.data], [...data]);
  const viaSharp = await sharp(png)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(viaSharp.info.channels, 1);
  assert.deepEqual([...viaSharp.data], [...data]);
});

test('encodePngPalette8: ids read back as ids, viewers see the palette colours', async () => {
  const [w, h] = [23, 4];
  const data = Uint8Array.from({ length: w * h }, (_, i) => (i >> 3) % 4);
  const palette = [
    [120, 120, 120],
    [180, 120, 120],
    [6, 230, 230],
    [80, 50, 50],
  ] as const;
  const png = encodePngPalette8(data, w, h, palette);
  const back = decodePngLabel(png);
  assert.equal(back.colorType, 3);
  assert.deepEqual([...back.data], [...data]);
  const rgb = await sharp(png).removeAlpha().raw().toBuffer();
  for (let i = 0; i < w * h; i++)
    assert.deepEqual([...rgb.subarray(3 * i, 3 * i + 3)], palette[data[i]]);
  assert.throws(() => encodePngPalette8(data, w, h + 1, palette), /size mismatch/);
});

test('sharp-written PNGs with every filter decode identically', async () => {
  const w = 40;
  const h = 30;
  const data = Uint8Array.from(
    { length: w * h },
    (_, i) => ((i % w) * 3 + Math.floor(i / w) * 5) % 200,
  );
  const png = await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('b-w')
    .png({ adaptiveFiltering: true, compressionLevel: 9 })
    .toBuffer();
  assert.deepEqual([...decodePngLabel(png).data], [...data]);
});

test('palette PNGs give indices, not colours (mmseg "unchanged" with Pillow)', () => {
  const plte = [0, 0, 0, 128, 0, 0, 0, 128, 0];
  const png = handMadePng(
    3,
    2,
    8,
    3,
    [
      [0, 1, 2],
      [2, 1, 0],
    ],
    plte,
  );
  assert.deepEqual([...decodePngLabel(png).data], [0, 1, 2, 2, 1, 0]);
});

test('low bit depths unpack MSB first', () => {
  // 4-bit grey, 3 pixels per row: 0x12 0x30 → 1, 2, 3
  const png = handMadePng(3, 1, 4, 0, [[0x12, 0x30]]);
  assert.deepEqual([...decodePngLabel(png).data], [1, 2, 3]);
});

test('RGB label PNGs and garbage are refused with a reason', async () => {
  const rgb = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#f00' } })
    .png()
    .toBuffer();
  assert.throws(
    () => decodePngLabel(rgb),
    (e: unknown) => e instanceof PngFormatError && /RGB.*single-channel/.test(e.message),
  );
  assert.throws(() => decodePngLabel(Buffer.from('hello')), /not a PNG/);
});
