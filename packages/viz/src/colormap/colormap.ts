import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { isIntegerDtype, toFlat } from '../util/arrays.ts';
import type { NumericArray } from '../util/arrays.ts';
import { COLORMAP_NAMES, COLORMAP_TABLES } from './tables.ts';
import type { ColormapName } from './tables.ts';

/** Number of entries of every built-in lookup table (matplotlib's default N). */
export const COLORMAP_N = 256;

/**
 * A matplotlib colormap: call it on an ndarray to get float64 RGBA values of
 * shape `[...x.shape, 4]`, like `matplotlib.cm.get_cmap(name)(x)`.
 * Integer arrays index the 256-entry table directly (below 0 → first colour,
 * above 255 → last colour); float arrays are scaled by N and truncated, with
 * 1.0 mapping to the last entry; NaN maps to transparent black ("bad").
 */
export interface Colormap {
  (x: NumericArray): NdArray<Float64Array>;
  readonly name: ColormapName;
  readonly N: number;
}

function isColormapName(name: string): name is ColormapName {
  return (COLORMAP_NAMES as readonly string[]).includes(name);
}

/** Index into the lookup table of one value, following matplotlib's `Colormap.__call__`; -1 means "bad". */
function lutIndex(v: number, integer: boolean): number {
  const n = COLORMAP_N;
  if (Number.isNaN(v)) return -1;
  let x = v;
  if (!integer) {
    x = v * n;
    if (x < 0) return 0; // under → first colour
    if (x === n) return n - 1;
    if (x >= n) return n - 1; // over → last colour
    return Math.trunc(x);
  }
  if (x < 0) return 0;
  if (x > n - 1) return n - 1;
  return x;
}

/** Looks up a built-in matplotlib colormap by name (hsv, jet, viridis, gray, seismic). */
export function get_cmap(name: string): Colormap {
  if (!isColormapName(name)) {
    throw new Error(`unknown colormap '${name}'; available: ${COLORMAP_NAMES.join(', ')}`);
  }
  const lut = COLORMAP_TABLES[name];
  const fn = (x: NumericArray): NdArray<Float64Array> => {
    const values = toFlat(x);
    const integer = isIntegerDtype(x);
    const out = new Float64Array(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      const k = lutIndex(values[i]!, integer);
      if (k < 0) continue; // bad: (0, 0, 0, 0)
      out[i * 4] = lut[k * 3]!;
      out[i * 4 + 1] = lut[k * 3 + 1]!;
      out[i * 4 + 2] = lut[k * 3 + 2]!;
      out[i * 4 + 3] = 1.0;
    }
    return ndarray(out, [...x.shape, 4]);
  };
  Object.defineProperty(fn, 'name', { value: name });
  Object.defineProperty(fn, 'N', { value: COLORMAP_N, enumerable: true });
  return fn as Colormap;
}
