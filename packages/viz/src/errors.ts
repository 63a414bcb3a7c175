/**
 * Raised when an image file cannot be decoded: corrupt or truncated data,
 * an unknown or unsupported format, a zero or absurd declared size, a bad
 * CRC. The message always names the file, so a failing batch job points at
 * the offending input instead of crashing deep inside a decoder.
 */
export class ImageDecodeError extends Error {
  /** The file that failed to decode. */
  readonly path: string;
  /** The reason, without the path. */
  readonly reason: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot decode image "${path}": ${reason}`, options);
    this.name = 'ImageDecodeError';
    this.path = path;
    this.reason = reason;
  }
}

/** Largest pixel count viz agrees to decode (2^28), checked on the header before any decoding. */
export const MAX_IMAGE_PIXELS = 2 ** 28;
