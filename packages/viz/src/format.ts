import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { floatArray, floatKindOf, requireRank, rounderFor, sanitizeInPlace, toFlat } from './util/arrays.ts';
import type { NumericArray } from './util/arrays.ts';
import { WarningCollector } from './util/warn.ts';

/** What {@link format_np_output} returns: uint8 once scaled, else the input's values re-laid out. */
export type FormattedArray = NdArray<Uint8Array> | NdArray<Float32Array | Float64Array>;

/**
 * Brings an array into a saveable H×W×C layout, like the Python helper:
 * H×W → 1×H×W; 1×H×W → repeated to 3×H×W; 3×H×W → H×W×3; then, if the
 * maximum is ≤ 1, `(a * 255).astype(uint8)` (truncation, in float32 when the
 * input is float32). Other layouts (e.g. H×W×3) pass through unchanged.
 * Deviations, each with a warning: NaN/Inf are replaced first (NaN → 0) and
 * negative values are clipped to 0 where numpy's cast would wrap around.
 */
export function format_np_output(np_arr: NumericArray): FormattedArray {
  const w = new WarningCollector('format_np_output');
  const out = formatWith(np_arr, w);
  w.flush();
  return out;
}

/** {@link format_np_output} reporting into an existing warning collector. */
export function formatWith(np_arr: NumericArray, w: WarningCollector): FormattedArray {
  requireRank('format_np_output', np_arr, [2, 3]);
  let shape = np_arr.shape.slice();
  let v = toFlat(np_arr);
  sanitizeInPlace(v, w);
  if (shape.length === 2) shape = [1, shape[0]!, shape[1]!];
  if (shape[0] === 1) {
    const n = v.length;
    const rep = new Float64Array(n * 3);
    rep.set(v, 0);
    rep.set(v, n);
    rep.set(v, 2 * n);
    v = rep;
    shape = [3, shape[1]!, shape[2]!];
  }
  if (shape[0] === 3) {
    const [c, h, wd] = shape as [number, number, number];
    const t = new Float64Array(v.length);
    for (let k = 0; k < c; k++) for (let i = 0; i < h * wd; i++) t[i * c + k] = v[k * h * wd + i]!;
    v = t;
    shape = [h, wd, c];
  }
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i]! > max) max = v[i]!;
  if (max <= 1) {
    const r = rounderFor(floatKindOf(np_arr));
    const bytes = new Uint8Array(v.length);
    let negative = 0;
    for (let i = 0; i < v.length; i++) {
      const x = Math.trunc(r(v[i]! * 255));
      if (x < 0) negative++;
      bytes[i] = x < 0 ? 0 : x;
    }
    if (negative > 0) w.add(`${negative} negative value(s) clipped to 0`);
    return ndarray(bytes, shape);
  }
  if (np_arr.dtype === 'uint8') return ndarray(Uint8Array.from(v), shape);
  return floatArray(floatKindOf(np_arr), v, shape);
}
