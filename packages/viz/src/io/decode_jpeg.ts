import jpeg from 'jpeg-js';
import { ImageDecodeError, MAX_IMAGE_PIXELS } from '../errors.ts';
import { make_image } from '../image.ts';
import type { Image } from '../image.ts';
import { exif_orientation } from './exif.ts';
import { apply_orientation } from './orientation.ts';

interface JpegInfo {
  width: number;
  height: number;
  orientation: number;
}

// SOF markers that carry frame dimensions (C4, C8 and CC are DHT/JPG/DAC).
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * Walks the JPEG marker segments before decoding: checks segment bounds, reads
 * the frame size (rejecting zero and absurd sizes), the EXIF orientation, and
 * that the entropy-coded data is followed by an EOI marker (no truncation).
 */
function scanMarkers(buf: Uint8Array, path: string): JpegInfo {
  const fail = (reason: string): never => {
    throw new ImageDecodeError(path, reason);
  };
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) fail('not a JPEG file (no SOI marker)');
  let pos = 2;
  let size: { width: number; height: number } | null = null;
  let orientation = 1;
  let sawScan = false;
  while (pos < buf.length) {
    if (buf[pos] !== 0xff) {
      if (!sawScan) fail(`corrupt JPEG (expected a marker at byte ${pos})`);
      pos++;
      continue;
    }
    const m = buf[pos + 1];
    if (m === undefined) break;
    if (m === 0xff) {
      pos++;
      continue; // fill byte
    }
    if (m === 0xd9) {
      if (size === null) fail('corrupt JPEG (no frame header)');
      if (!sawScan) fail('corrupt JPEG (no image data)');
      return { ...size!, orientation };
    }
    if (sawScan && (m === 0x00 || (m >= 0xd0 && m <= 0xd7))) {
      pos += 2; // stuffed byte or restart marker inside entropy-coded data
      continue;
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (pos + 4 > buf.length) break;
    const len = (buf[pos + 2]! << 8) | buf[pos + 3]!;
    if (len < 2) fail(`corrupt JPEG (invalid segment length at byte ${pos})`);
    const end = pos + 2 + len;
    if (end > buf.length) break;
    if (SOF.has(m)) {
      if (len < 8) fail('corrupt JPEG (short frame header)');
      const height = (buf[pos + 5]! << 8) | buf[pos + 6]!;
      const width = (buf[pos + 7]! << 8) | buf[pos + 8]!;
      if (width === 0 || height === 0) fail(`zero-size image (${width}x${height})`);
      if (width * height > MAX_IMAGE_PIXELS) {
        fail(`declared size ${width}x${height} exceeds the limit of ${MAX_IMAGE_PIXELS} pixels`);
      }
      if (m !== 0xc0 && m !== 0xc1 && m !== 0xc2) fail(`unsupported JPEG process (SOF marker 0x${m.toString(16)})`);
      size = { width, height };
    } else if (m === 0xe1 && orientation === 1) {
      orientation = exif_orientation(buf.subarray(pos + 4, end));
    } else if (m === 0xda) {
      if (size === null) fail('corrupt JPEG (scan before frame header)');
      sawScan = true;
    }
    pos = end;
  }
  return fail('truncated JPEG (no EOI marker)');
}

/**
 * Decodes baseline or progressive JPEG bytes to an upright RGB {@link Image}
 * (EXIF orientation applied, grayscale replicated to RGB) with jpeg-js.
 * Pixel values can differ by a few levels from libjpeg (PIL) because the
 * IDCT and chroma upsampling are not bit-identical.
 */
export function decode_jpeg(buf: Uint8Array, path: string): Image {
  const info = scanMarkers(buf, path);
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = jpeg.decode(buf, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: 2048,
    });
  } catch (err) {
    throw new ImageDecodeError(path, `corrupt JPEG (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  if (raw.width !== info.width || raw.height !== info.height || raw.data.length !== info.width * info.height * 3) {
    throw new ImageDecodeError(path, 'corrupt JPEG (decoded data does not match the frame header)');
  }
  return apply_orientation(make_image('RGB', raw.width, raw.height, raw.data), info.orientation);
}
