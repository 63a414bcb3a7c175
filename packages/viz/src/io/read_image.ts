import { readFileSync } from 'node:fs';
import { ImageDecodeError } from '../errors.ts';
import type { Image } from '../image.ts';
import { decode_jpeg } from './decode_jpeg.ts';
import { decode_png, PNG_SIGNATURE } from './decode_png.ts';

/**
 * Reads a PNG or JPEG file as an RGB {@link Image} (H×W×3 uint8 ndarray), the
 * equivalent of `Image.open(path).convert('RGB')` (plus EXIF orientation for
 * JPEG). The format is detected from the magic bytes, not the extension.
 * Broken, truncated, unsupported or absurdly large files throw an
 * {@link ImageDecodeError} whose message names `path`.
 */
export function read_image(path: string): Image {
  const buf = new Uint8Array(readFileSync(path));
  return decode_image(buf, path);
}

/** Decodes in-memory PNG or JPEG bytes; `path` is only used in error messages. */
export function decode_image(buf: Uint8Array, path = '<buffer>'): Image {
  if (buf.length === 0) throw new ImageDecodeError(path, 'the file is empty (0 bytes)');
  if (buf.length >= 8 && PNG_SIGNATURE.every((b, i) => buf[i] === b)) return decode_png(buf, path);
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return decode_jpeg(buf, path);
  const head = [...buf.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ImageDecodeError(path, `unrecognised or unsupported image format (first bytes: ${head}); PNG and JPEG are supported`);
}
