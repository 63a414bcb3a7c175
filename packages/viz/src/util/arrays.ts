import ndarray from 'ndarray';
import type { NdArray, TypedArray } from 'ndarray';
import type { WarningCollector } from './warn.ts';

/** A scijs ndarray of numbers: the numpy-array analogue every viz function takes. */
export type NumericArray = NdArray<TypedArray | number[]>;

/** Float element type of a result, chosen like numpy: float32 stays float32, everything else becomes float64. */
export type FloatKind = 'float32' | 'float64';

/** The float kind numpy would compute in for an input of this dtype. */
export function floatKindOf(a: NumericArray): FloatKind {
  return a.dtype === 'float32' ? 'float32' : 'float64';
}

/** Rounding applied after every arithmetic step to emulate numpy's float32 (or no-op for float64). */
export function rounderFor(kind: FloatKind): (x: number) => number {
  return kind === 'float32' ? Math.fround : identity;
}

function identity(x: number): number {
  return x;
}

/** Whether the dtype is one of the integer typed arrays (matplotlib's "integer input" rule). */
export function isIntegerDtype(a: NumericArray): boolean {
  return /^u?int/.test(a.dtype);
}

/** The elements in C (row-major) order as a Float64Array, whatever the strides. */
export function toFlat(a: NumericArray): Float64Array {
  const n = a.size;
  const out = new Float64Array(n);
  const shape = a.shape;
  const d = shape.length;
  if (d === 0) return out;
  if (isCContiguous(a)) {
    const data = a.data;
    for (let i = 0; i < n; i++) out[i] = Number(dataGet(data, a.offset + i));
    return out;
  }
  const idx = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) {
    let ptr = a.offset;
    for (let k = 0; k < d; k++) ptr += idx[k]! * a.stride[k]!;
    out[i] = Number(dataGet(a.data, ptr));
    for (let k = d - 1; k >= 0; k--) {
      idx[k]!++;
      if (idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

function dataGet(data: TypedArray | number[], i: number): number {
  return data[i] as number;
}

function isCContiguous(a: NumericArray): boolean {
  let expected = 1;
  for (let k = a.shape.length - 1; k >= 0; k--) {
    if (a.shape[k]! !== 1 && a.stride[k]! !== expected) return false;
    expected *= a.shape[k]!;
  }
  return true;
}

/** A new C-contiguous float ndarray of the given kind. */
export function floatArray(kind: FloatKind, values: ArrayLike<number>, shape: number[]): NdArray<Float32Array | Float64Array> {
  const data = kind === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  return ndarray<Float32Array | Float64Array>(data, shape.slice());
}

/**
 * Replaces non-finite values in place so downstream arithmetic stays defined:
 * NaN becomes 0, +Inf the largest finite value (or 0) and -Inf the smallest
 * finite value (or 0). Records a warning when anything was replaced.
 */
export function sanitizeInPlace(values: Float64Array, w: WarningCollector): void {
  let lo = Infinity;
  let hi = -Infinity;
  let bad = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    } else bad++;
  }
  if (bad === 0) return;
  if (!Number.isFinite(lo)) lo = hi = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) values[i] = 0;
    else if (v === Infinity) values[i] = hi;
    else if (v === -Infinity) values[i] = lo;
  }
  w.add(`${bad} non-finite value(s) replaced (NaN -> 0, +/-Inf -> largest/smallest finite value)`);
}

/** Minimum and maximum of a non-empty array (NaN-free). */
export function minMax(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Throws a clear error unless the array has one of the allowed ranks. */
export function requireRank(fn: string, a: NumericArray, ranks: number[]): void {
  if (!ranks.includes(a.shape.length)) {
    throw new Error(`${fn}: expected an array of rank ${ranks.join(' or ')}, got shape [${a.shape.join(', ')}]`);
  }
  if (a.size === 0) throw new Error(`${fn}: the array is empty (shape [${a.shape.join(', ')}])`);
}
