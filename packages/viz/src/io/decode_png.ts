import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { ImageDecodeError, MAX_IMAGE_PIXELS } from '../errors.ts';
import { make_image } from '../image.ts';
import type { Image } from '../image.ts';
import { crc32 } from './crc32.ts';

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  /** tRNS colour key of a gray (1 value) or RGB (3 values) image, in the file's bit depth. */
  key: number[] | null;
  interlaced: boolean;
  /** The IDAT payloads, in order (together one zlib stream). */
  idat: Uint8Array[];
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Filtered image data size the header implies: per (Adam7 pass and) row, a filter byte plus the packed samples. */
function expectedDataLength(h: PngHeader): number {
  const bits = h.depth * CHANNELS[h.colorType]!;
  const rowBytes = (w: number): number => 1 + Math.ceil((w * bits) / 8);
  if (!h.interlaced) return h.height * rowBytes(h.width);
  // Adam7 passes: [x start, y start, x step, y step]
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((h.width - x0) / dx);
    const rows = Math.ceil((h.height - y0) / dy);
    if (w > 0 && rows > 0) total += rows * rowBytes(w);
  }
  return total;
}

/**
 * Inflates the IDAT stream with Node's zlib, which throws on corruption, and checks its length:
 * pngjs's own inflate can hand back a short buffer padded with uninitialised memory, which made
 * corrupt files decode "successfully" to garbage now and then.
 */
function checkImageData(h: PngHeader, path: string): void {
  let inflated: Uint8Array;
  try {
    inflated = inflateSync(Buffer.concat(h.idat));
  } catch (err) {
    throw new ImageDecodeError(path, `corrupt PNG (image data: ${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const want = expectedDataLength(h);
  if (inflated.length < want) {
    throw new ImageDecodeError(path, `corrupt PNG (image data has ${inflated.length} bytes, the header needs ${want})`);
  }
}

const VALID_DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/**
 * Walks the chunk structure before any decompression: checks the signature,
 * every chunk's bounds and CRC, the IHDR fields and size limit, and that IDAT
 * and IEND are present. Throws {@link ImageDecodeError} naming `path`.
 */
function checkStructure(buf: Uint8Array, path: string): PngHeader {
  const fail = (reason: string): never => {
    throw new ImageDecodeError(path, reason);
  };
  if (buf.length < 8 || !PNG_SIGNATURE.every((b, i) => buf[i] === b)) fail('not a PNG file (bad signature)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let header: PngHeader | null = null;
  let sawIdat = false;
  let sawEnd = false;
  while (pos < buf.length) {
    if (pos + 8 > buf.length) fail(`truncated PNG (incomplete chunk header at byte ${pos})`);
    const len = view.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!, buf[pos + 6]!, buf[pos + 7]!);
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`corrupt PNG (invalid chunk type at byte ${pos})`);
    const end = pos + 12 + len;
    if (len > 0x7fffffff || end > buf.length) fail(`truncated PNG (chunk ${type} runs past the end of the file)`);
    const stored = view.getUint32(pos + 8 + len);
    if (crc32(buf, pos + 4, pos + 8 + len) !== stored) fail(`corrupt PNG (bad CRC in chunk ${type})`);
    if (header === null && type !== 'IHDR') fail('corrupt PNG (first chunk is not IHDR)');
    if (type === 'IHDR') {
      if (len !== 13) fail('corrupt PNG (IHDR has the wrong length)');
      const width = view.getUint32(pos + 8);
      const height = view.getUint32(pos + 12);
      const depth = buf[pos + 16]!;
      const colorType = buf[pos + 17]!;
      if (width === 0 || height === 0) fail(`zero-size image (${width}x${height})`);
      if (width * height > MAX_IMAGE_PIXELS) {
        fail(`declared size ${width}x${height} exceeds the limit of ${MAX_IMAGE_PIXELS} pixels`);
      }
      if (!(colorType in VALID_DEPTHS) || !VALID_DEPTHS[colorType]!.includes(depth)) {
        fail(`unsupported PNG colour type ${colorType} with bit depth ${depth}`);
      }
      if (buf[pos + 18] !== 0 || buf[pos + 19] !== 0 || buf[pos + 20]! > 1) fail('corrupt PNG (invalid IHDR method fields)');
      header = { width, height, depth, colorType, key: null, interlaced: buf[pos + 20] === 1, idat: [] };
    } else if (type === 'tRNS' && header !== null) {
      if (header.colorType === 0 && len >= 2) header.key = [view.getUint16(pos + 8)];
      if (header.colorType === 2 && len >= 6) {
        header.key = [view.getUint16(pos + 8), view.getUint16(pos + 10), view.getUint16(pos + 12)];
      }
    } else if (type === 'IDAT' && header !== null) {
      sawIdat = true;
      header.idat.push(buf.subarray(pos + 8, pos + 8 + len));
    }
    else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos = end;
  }
  if (header === null) return fail('corrupt PNG (no IHDR chunk)');
  if (!sawIdat) fail('corrupt PNG (no image data)');
  if (!sawEnd) fail('truncated PNG (no IEND chunk)');
  return header;
}

/**
 * Decodes PNG bytes to an RGB {@link Image} exactly as `Image.open(p).convert('RGB')`
 * does in PIL: any bit depth (16-bit samples keep their high byte), gray, gray+alpha,
 * palette and RGBA; alpha and tRNS transparency are dropped without compositing.
 */
export function decode_png(buf: Uint8Array, path: string): Image {
  const header = checkStructure(buf, path);
  checkImageData(header, path);
  const sixteen = header.depth === 16;
  let decoded: { data: Uint8Array | Uint16Array; width: number; height: number };
  try {
    const png = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), {
      checkCRC: true,
      skipRescale: sixteen,
    });
    decoded = { data: png.data as Uint8Array | Uint16Array, width: png.width, height: png.height };
  } catch (err) {
    throw new ImageDecodeError(path, `corrupt PNG (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const { width, height } = header;
  const n = width * height;
  const src = decoded.data;
  if (decoded.width !== width || decoded.height !== height || src.length < n * 4) {
    throw new ImageDecodeError(path, 'corrupt PNG (decoded data does not match the header)');
  }
  // pngjs blanks colour-keyed (tRNS) pixels to 0,0,0,0; PIL keeps their colour.
  const key = header.key ? restoreKey(header.key, header.depth) : null;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    let r = src[i]!;
    let g = src[i + 1]!;
    let b = src[i + 2]!;
    if (sixteen) {
      r >>>= 8;
      g >>>= 8;
      b >>>= 8;
    }
    if (key !== null && src[i + 3] === 0) {
      r = key[0]!;
      g = key[1]!;
      b = key[2]!;
    }
    out[p * 3] = r;
    out[p * 3 + 1] = g;
    out[p * 3 + 2] = b;
  }
  return make_image('RGB', width, height, out);
}

function restoreKey(key: number[], depth: number): number[] {
  const to8 = (v: number): number => {
    if (depth === 16) return v >>> 8;
    if (depth === 8) return v & 0xff;
    const max = 2 ** depth - 1;
    return Math.floor(((v & max) * 255) / max + 0.5);
  };
  const k = key.map(to8);
  return k.length === 1 ? [k[0]!, k[0]!, k[0]!] : k;
}
