import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NdArray } from 'ndarray';
import { percentile } from './percentile.ts';
import { save_image_with } from './save_image.ts';
import { floatArray, floatKindOf, minMax, requireRank, rounderFor, sanitizeInPlace, toFlat } from './util/arrays.ts';
import type { NumericArray } from './util/arrays.ts';
import { WarningCollector } from './util/warn.ts';

/** A float ndarray result: float32 when the input was float32, float64 otherwise (numpy's promotion). */
export type FloatArray = NdArray<Float32Array | Float64Array>;

/**
 * Collapses a C×H×W gradient to a 1×H×W map in [0, 1], like the Python helper:
 * sum of absolute values over channels, then scaled between the true minimum
 * and the 99th percentile (numpy's linear interpolation) and clipped.
 * float32 input is computed with float32 rounding at every step, as numpy does.
 * Degenerate input (constant map) gives all zeros (a black image) and a warning;
 * a map whose 99th percentile equals its minimum gives 1 where above the minimum.
 */
export function convert_to_grayscale(im_as_arr: NumericArray): FloatArray {
  requireRank('convert_to_grayscale', im_as_arr, [3]);
  const w = new WarningCollector('convert_to_grayscale');
  const kind = floatKindOf(im_as_arr);
  const r = rounderFor(kind);
  const v = toFlat(im_as_arr);
  sanitizeInPlace(v, w);
  const [c, h, wd] = im_as_arr.shape as [number, number, number];
  const n = h * wd;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = Math.abs(v[i]!);
    for (let k = 1; k < c; k++) acc = r(acc + Math.abs(v[k * n + i]!));
    s[i] = acc;
  }
  // float32 sums of huge values can overflow to Inf: clamp those to the largest finite value
  sanitizeInPlace(s, w);
  const hi = percentile(s, 99, kind);
  const [lo, top] = minMax(s);
  let den = r(hi - lo);
  // a range wider than the float type would overflow: compute at half scale (never taken for ordinary data)
  const half = !Number.isFinite(den);
  if (half) den = r(hi / 2 - lo / 2);
  const out = new Float64Array(n);
  if (!(den > 0)) {
    if (top === lo) w.add('constant input: the grayscale map is all zeros');
    else {
      w.add('99th percentile equals the minimum: the map is binarised (1 above the minimum)');
      for (let i = 0; i < n; i++) out[i] = s[i]! > lo ? 1 : 0;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = r((half ? r(s[i]! / 2 - lo / 2) : r(s[i]! - lo)) / den);
      out[i] = x < 0 ? 0 : x > 1 ? 1 : x;
    }
  }
  w.flush();
  return floatArray(kind, out, [1, h, wd]);
}

/**
 * Positive and negative saliency maps: `max(0, g) / g.max()` and
 * `max(0, -g) / -g.min()`, same shape as `g`. When `g` has no positive (or no
 * negative) part the corresponding map is all zeros, with a warning, instead
 * of numpy's 0/0 = NaN.
 */
export function get_positive_negative_saliency(gradient: NumericArray): [FloatArray, FloatArray] {
  requireRank('get_positive_negative_saliency', gradient, [1, 2, 3, 4]);
  const w = new WarningCollector('get_positive_negative_saliency');
  const kind = floatKindOf(gradient);
  const r = rounderFor(kind);
  const v = toFlat(gradient);
  sanitizeInPlace(v, w);
  const [lo, hi] = minMax(v);
  const pos = new Float64Array(v.length);
  const neg = new Float64Array(v.length);
  // numpy's maximum(0, x) returns x itself when x == 0, so -0 survives (kept for bit-exactness)
  const relu = (x: number): number => (x >= 0 ? x : 0);
  if (hi > 0) for (let i = 0; i < v.length; i++) pos[i] = r(relu(v[i]!) / hi);
  else w.add('no positive values: the positive saliency map is all zeros');
  if (lo < 0) for (let i = 0; i < v.length; i++) neg[i] = r(relu(-v[i]!) / -lo);
  else w.add('no negative values: the negative saliency map is all zeros');
  w.flush();
  return [floatArray(kind, pos, gradient.shape), floatArray(kind, neg, gradient.shape)];
}

/**
 * The normalisation `save_gradient_images` applies: subtract the minimum, then
 * divide by the new maximum, giving values in [0, 1] (in the input's float
 * precision). A constant gradient gives all zeros and a warning.
 */
export function normalize_gradient(gradient: NumericArray): FloatArray {
  const w = new WarningCollector('normalize_gradient');
  const out = normalizeWith(gradient, w);
  w.flush();
  return out;
}

function normalizeWith(gradient: NumericArray, w: WarningCollector): FloatArray {
  if (gradient.size === 0) throw new Error('normalize_gradient: the array is empty');
  const kind = floatKindOf(gradient);
  const r = rounderFor(kind);
  const v = toFlat(gradient);
  sanitizeInPlace(v, w);
  const [lo, top] = minMax(v);
  // A range wider than the float type (e.g. -3e38..3e38 in float32) would overflow to Inf
  // and give NaN; compute at half scale instead (exact for ordinary ranges, never taken there).
  const half = !Number.isFinite(r(top - lo));
  if (half) w.add('value range overflows the float type; normalised at half scale');
  for (let i = 0; i < v.length; i++) v[i] = half ? r(v[i]! / 2 - lo / 2) : r(v[i]! - lo);
  const [, hi] = minMax(v);
  if (hi > 0) for (let i = 0; i < v.length; i++) v[i] = r(v[i]! / hi);
  else w.add('constant gradient: saved as a black image');
  return floatArray(kind, v, gradient.shape);
}

/** Options of {@link save_gradient_images}. */
export interface SaveGradientOptions {
  /** Output folder, created if missing (default `results`; the Python wrote to `../results`). */
  dir?: string;
}

/**
 * Normalises a gradient to [0, 1] (see {@link normalize_gradient}) and saves
 * it as `<dir>/<file_name>.png` through {@link save_image}: C×H×W, 1×H×W or
 * H×W arrays. Returns the written path. Never writes NaN pixels: degenerate
 * input becomes a black image and a warning.
 */
export function save_gradient_images(gradient: NumericArray, file_name: string, options: SaveGradientOptions = {}): string {
  const dir = options.dir ?? 'results';
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${file_name}.png`);
  const w = new WarningCollector('save_gradient_images');
  save_image_with(normalizeWith(gradient, w), path, w);
  w.flush();
  return path;
}
