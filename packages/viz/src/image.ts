import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';

/** Pixel layouts viz handles, named as in PIL. */
export type ImageMode = 'L' | 'RGB' | 'RGBA';

/**
 * An 8-bit image: the TypeScript stand-in for a `PIL.Image`. `data` is a
 * scijs ndarray of shape H×W×C (C = 1, 3 or 4 for L, RGB, RGBA), the layout
 * `np.asarray(pil_image)` gives, so it can be handed to numeric code directly.
 */
export interface Image {
  readonly mode: ImageMode;
  readonly width: number;
  readonly height: number;
  readonly data: NdArray<Uint8Array>;
}

const CHANNELS: Record<ImageMode, number> = { L: 1, RGB: 3, RGBA: 4 };

/** Number of channels of a mode. */
export function channels_of(mode: ImageMode): number {
  return CHANNELS[mode];
}

/** Wraps a packed H×W×C byte buffer as an {@link Image} (no copy). */
export function make_image(mode: ImageMode, width: number, height: number, pixels: Uint8Array): Image {
  const c = CHANNELS[mode];
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`make_image: invalid size ${width}x${height}`);
  }
  if (pixels.length !== width * height * c) {
    throw new Error(`make_image: ${mode} ${width}x${height} needs ${width * height * c} bytes, got ${pixels.length}`);
  }
  return { mode, width, height, data: ndarray(pixels, [height, width, c]) };
}

/** The pixels of an image as one packed H×W×C Uint8Array (copied only when the ndarray is a view). */
export function packed_pixels(image: Image): Uint8Array {
  const a = image.data;
  const c = CHANNELS[image.mode];
  const n = image.width * image.height * c;
  if (a.offset === 0 && a.stride[0] === image.width * c && a.stride[1] === c && a.stride[2] === 1 && a.data.length === n) {
    return a.data;
  }
  const out = new Uint8Array(n);
  let i = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      for (let k = 0; k < c; k++) out[i++] = a.get(y, x, k);
    }
  }
  return out;
}

/**
 * Converts between L, RGB and RGBA with PIL's `Image.convert` arithmetic:
 * RGB→L uses ITU-R 601-2 luma in PIL's 16-bit fixed point, RGBA→RGB drops alpha
 * without compositing, anything→RGBA gets alpha 255.
 */
export function convert_image(image: Image, mode: ImageMode): Image {
  if (image.mode === mode) return image;
  const src = packed_pixels(image);
  const n = image.width * image.height;
  const cin = CHANNELS[image.mode];
  const cout = CHANNELS[mode];
  const out = new Uint8Array(n * cout);
  for (let p = 0; p < n; p++) {
    const i = p * cin;
    let r: number;
    let g: number;
    let b: number;
    if (cin === 1) r = g = b = src[i]!;
    else {
      r = src[i]!;
      g = src[i + 1]!;
      b = src[i + 2]!;
    }
    const o = p * cout;
    if (cout === 1) {
      // PIL's L24 macro: (r*19595 + g*38470 + b*7471 + 0x8000) >> 16
      out[o] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
    } else {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      if (cout === 4) out[o + 3] = cin === 4 ? src[i + 3]! : 255;
    }
  }
  return make_image(mode, image.width, image.height, out);
}

/**
 * `PIL.Image.fromarray` for uint8 data: H×W → L, H×W×3 → RGB, H×W×4 → RGBA.
 * Throws for other shapes or non-uint8 data (PIL would too).
 */
export function image_from_array(a: NdArray<Uint8Array>): Image {
  const s = a.shape;
  if (a.dtype !== 'uint8') throw new Error(`image_from_array: expected uint8 data, got ${a.dtype}`);
  let mode: ImageMode;
  if (s.length === 2) mode = 'L';
  else if (s.length === 3 && s[2] === 1) mode = 'L';
  else if (s.length === 3 && s[2] === 3) mode = 'RGB';
  else if (s.length === 3 && s[2] === 4) mode = 'RGBA';
  else throw new Error(`image_from_array: cannot make an image from shape [${s.join(', ')}]`);
  const h = s[0]!;
  const w = s[1]!;
  const c = CHANNELS[mode];
  const out = new Uint8Array(h * w * c);
  let i = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (s.length === 2) out[i++] = a.get(y, x);
      else for (let k = 0; k < c; k++) out[i++] = a.get(y, x, k);
    }
  }
  return make_image(mode, w, h, out);
}

/** Whether a value is an {@link Image} (as opposed to a bare ndarray). */
export function is_image(x: unknown): x is Image {
  return (
    typeof x === 'object' &&
    x !== null &&
    'mode' in x &&
    'width' in x &&
    'height' in x &&
    'data' in x &&
    typeof (x as { mode: unknown }).mode === 'string'
  );
}
