import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { convert_image, packed_pixels } from './image.ts';
import type { Image } from './image.ts';
import { resize as pil_resize } from './resize/pil_resize.ts';
import { floatKindOf, requireRank, rounderFor, sanitizeInPlace, toFlat } from './util/arrays.ts';
import type { NumericArray } from './util/arrays.ts';
import { WarningCollector } from './util/warn.ts';

/** ImageNet channel means used by torchvision models. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet channel standard deviations used by torchvision models. */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Options of {@link preprocess_image_array} and `preprocess_image`. */
export interface PreprocessOptions {
  /** Resize to 224×224 with PIL's LANCZOS ("ANTIALIAS") filter first (default true). */
  resize?: boolean;
}

/**
 * The numeric part of `preprocess_image`, without autodiff: optionally resize
 * to 224×224 (LANCZOS), then to float32 C×H×W, `/255`, subtract the ImageNet
 * mean and divide by the std per channel (each step rounded to float32, as in
 * numpy), and add a leading batch dimension. Returns a 1×3×H×W Float32 ndarray.
 * L and RGBA images are converted to RGB first.
 */
export function preprocess_image_array(image: Image, options: PreprocessOptions = {}): NdArray<Float32Array> {
  let im = image.mode === 'RGB' ? image : convert_image(image, 'RGB');
  if (options.resize ?? true) im = pil_resize(im, [224, 224], 'lanczos');
  const px = packed_pixels(im);
  const h = im.height;
  const w = im.width;
  const n = h * w;
  const out = new Float32Array(3 * n);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f(IMAGENET_MEAN[c]!);
    const std = f(IMAGENET_STD[c]!);
    for (let i = 0; i < n; i++) out[c * n + i] = f(f(f(px[i * 3 + c]! / 255) - mean) / std);
  }
  return ndarray(out, [1, 3, h, w]);
}

/**
 * Something that can hand out its values as an ndarray: a `@gradlens/core`
 * Tensor, for instance. When `detach` exists it is used first (the analogue of
 * the Python's `.data.numpy()`), since `numpy()` refuses tensors that require grad.
 */
export interface HasNumpy {
  numpy(): NumericArray;
  detach?(): { numpy(): NumericArray };
}

function toArray(x: NumericArray | HasNumpy): NumericArray {
  if ('numpy' in x && typeof x.numpy === 'function') {
    const t = x as HasNumpy;
    return typeof t.detach === 'function' ? t.detach().numpy() : t.numpy();
  }
  return x as NumericArray;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Inverse of `preprocess_image`: takes a 1×3×H×W (or 3×H×W) array or tensor,
 * undoes the ImageNet normalisation (float32 steps, as numpy), clips to [0, 1],
 * rounds `x * 255` half to even (`np.round`) and returns an H×W×3 uint8 ndarray.
 * NaN/Inf are replaced (NaN → 0) with a warning.
 */
export function recreate_image(im_as_var: NumericArray | HasNumpy): NdArray<Uint8Array> {
  const arr = toArray(im_as_var);
  requireRank('recreate_image', arr, [3, 4]);
  const shape = arr.shape.length === 4 ? arr.shape.slice(1) : arr.shape.slice();
  if (shape[0] !== 3) throw new Error(`recreate_image: expected 3 channels, got shape [${arr.shape.join(', ')}]`);
  const w = new WarningCollector('recreate_image');
  const r = rounderFor(floatKindOf(arr));
  const all = toFlat(arr);
  const [, h, wd] = shape as [number, number, number];
  const n = h * wd;
  const v = all.subarray(0, 3 * n);
  sanitizeInPlace(v, w);
  const out = new Uint8Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const revStd = r(1 / IMAGENET_STD[c]!);
    const revMean = r(-IMAGENET_MEAN[c]!);
    for (let i = 0; i < n; i++) {
      let x = r(r(v[c * n + i]! / revStd) - revMean);
      if (x > 1) x = 1;
      if (x < 0) x = 0;
      out[i * 3 + c] = roundHalfEven(r(x * 255));
    }
  }
  w.flush();
  return ndarray(out, [h, wd, 3]);
}
