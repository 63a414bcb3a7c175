import { PNG } from 'pngjs';
import type { ColorType } from 'pngjs';
import { packed_pixels } from '../image.ts';
import type { Image } from '../image.ts';
import { write_file_atomic } from './atomic_write.ts';

const COLOR_TYPE: Record<Image['mode'], ColorType> = { L: 0, RGB: 2, RGBA: 6 };

/** Encodes an {@link Image} as an 8-bit PNG (gray, RGB or RGBA, matching its mode). */
export function encode_png(image: Image): Buffer {
  const colorType = COLOR_TYPE[image.mode];
  const png = new PNG({ width: image.width, height: image.height, colorType, inputColorType: colorType, inputHasAlpha: image.mode === 'RGBA' });
  png.data = Buffer.from(packed_pixels(image));
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: image.mode === 'RGBA', bitDepth: 8 });
}

/** Writes an {@link Image} to `path` as PNG, atomically (temporary file + rename). */
export function write_png(image: Image, path: string): void {
  write_file_atomic(path, encode_png(image));
}
