/**
 * Image and label file I/O. Images decode through sharp (libvips, libjpeg-turbo/libpng) to RGB
 * uint8 HWC; label PNGs through ./png.ts (stored values, never palette colours). Every failure
 * becomes a DatasetError that names the file.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { DatasetError } from './errors.ts';
import { PngFormatError, decodePngLabel } from './png.ts';

/** An RGB image, row-major HWC uint8. */
export interface RgbImage {
  data: Uint8Array;
  height: number;
  width: number;
}

/** A label map, one uint8 class id per pixel. */
export interface LabelMap {
  data: Uint8Array;
  height: number;
  width: number;
}

/**
 * Encoded image bytes (any format libvips reads) to RGB uint8 HWC: EXIF orientation applied, as
 * mmcv's cv2 `imfrombytes(flag='color')` does; grey and CMYK converted to sRGB; alpha dropped.
 * `failOn` is sharp's strictness ('error': damaged data fails; 'truncated': only a cut-off file);
 * `limitInputPixels: false` lifts libvips' pixel-count guard (photos of any size).
 * @throws sharp's Error, unwrapped: callers name the file.
 */
export async function decodeRgbBytes(
  bytes: Buffer,
  opts: { failOn: 'error' | 'truncated'; limitInputPixels?: false },
): Promise<RgbImage> {
  const { data, info } = await sharp(bytes, opts)
    .rotate()
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    height: info.height,
    width: info.width,
  };
}

/**
 * Decodes any sharp-readable image to 3-channel RGB uint8 (grey and CMYK are converted, alpha is
 * dropped). EXIF orientation is applied, as mmcv's cv2 `imfrombytes(flag='color')` does.
 */
export async function decodeImage(path: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new DatasetError(
      'missing-image',
      `cannot read image ${path}: ${(e as Error).message}`,
      'check that the file exists and is readable',
      path,
    );
  }
  try {
    return await decodeRgbBytes(bytes, { failOn: 'error' });
  } catch (e) {
    throw new DatasetError(
      'corrupt-image',
      `corrupt or unreadable image ${path}: ${(e as Error).message}`,
      're-export the image (JPEG or PNG) or remove it together with its label',
      path,
    );
  }
}

/** Reads a label PNG "unchanged" (mmseg's LoadAnnotations). */
export async function decodeLabel(path: string): Promise<LabelMap> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new DatasetError(
      'missing-label',
      `cannot read label ${path}: ${(e as Error).message}`,
      'check that the file exists and is readable',
      path,
    );
  }
  try {
    const png = decodePngLabel(bytes);
    if (png.data instanceof Uint16Array) {
      const big = new Set<number>();
      for (const v of png.data) if (v > 255) big.add(v);
      if (big.size > 0) {
        throw new DatasetError(
          'bad-label-values',
          `label ${path} is 16-bit with values ${[...big]
            .sort((a, b) => a - b)
            .slice(0, 10)
            .join(', ')} > 255`,
          'labels must be 8-bit class ids (255 = ignore); convert the dataset first',
          path,
        );
      }
      return { data: Uint8Array.from(png.data), height: png.height, width: png.width };
    }
    return { data: png.data, height: png.height, width: png.width };
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const why = e instanceof PngFormatError ? e.message : `unreadable (${(e as Error).message})`;
    throw new DatasetError(
      'corrupt-label',
      `bad label file ${path}: ${why}`,
      'label maps must be single-channel 8-bit PNGs of class ids; regenerate this file with the dataset converter',
      path,
    );
  }
}

/** Encodes RGB HWC uint8 as baseline JPEG (4:2:0, no progressive): deterministic per sharp build. */
export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .jpeg({ quality, chromaSubsampling: '4:2:0', mozjpeg: false, optimiseCoding: true })
    .toBuffer();
}

/** Encodes RGB HWC uint8 as PNG (used by fixtures in the Cityscapes layout). */
export async function encodePngRgb(img: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png()
    .toBuffer();
}
