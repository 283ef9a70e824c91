/**
 * Reading the user's own photos for `offseg predict`: JPEG, PNG, WebP (and whatever else libvips
 * reads: TIFF, GIF, AVIF…) of any size, EXIF orientation applied (a portrait phone photo stays
 * portrait, as mmcv's `imfrombytes` does), grey/CMYK converted to RGB, alpha dropped. Every
 * failure is a PhotoError naming the file and the fix, one line each.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { decodeRgbBytes, type RgbImage } from '../data/image_io.ts';

/** File extensions taken from a folder (lower case, with the dot). */
export const PHOTO_EXTENSIONS: readonly string[] = [
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.tif',
  '.tiff',
  '.bmp',
  '.gif',
  '.avif',
];

/** A photo that cannot be read; `fix` is the remedy the CLI prints after the message. */
export class PhotoError extends Error {
  readonly fix: string;
  constructor(
    message: string,
    fix: string,
    readonly path: string,
  ) {
    super(`${message}\n  fix: ${fix}`);
    this.name = 'PhotoError';
    this.fix = fix;
  }
}

/**
 * Decode `path` to RGB uint8 HWC with its EXIF orientation applied.
 * @throws PhotoError for a missing file, a folder, a non-image, or a truncated/corrupt image
 */
export async function readPhoto(path: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory())
      throw new PhotoError(`${path} is a folder`, 'pass a folder with --input only', path);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof PhotoError) throw e;
    throw new PhotoError(`image not found: ${path}`, 'check the path', path);
  }
  let format: string | undefined;
  try {
    format = (await sharp(bytes).metadata()).format;
  } catch (e) {
    throw new PhotoError(
      `${path} is not an image (${(e as Error).message.replace(/\.$/, '')})`,
      'give a JPEG, PNG or WebP file',
      path,
    );
  }
  try {
    return await decodeRgbBytes(bytes, { failOn: 'truncated', limitInputPixels: false });
  } catch (e) {
    throw new PhotoError(
      `${path} is truncated or corrupt (${format ?? 'image'}: ${(e as Error).message})`,
      'copy or export the image again',
      path,
    );
  }
}

/**
 * The photos in `dir` (not recursive), sorted by name.
 * @throws PhotoError when the folder holds none
 */
export function listPhotos(dir: string): string[] {
  const files = readdirSync(dir)
    .filter((f) => PHOTO_EXTENSIONS.includes(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile());
  if (files.length === 0) {
    throw new PhotoError(
      `no images in ${dir} (looked for ${PHOTO_EXTENSIONS.join(' ')})`,
      'point --input at an image or a folder of images',
      dir,
    );
  }
  return files;
}
