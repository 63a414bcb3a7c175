/** Element types a tensor can hold. `int64` is stored in a Float64Array (exact up to 2^53). */
export type DType = 'float32' | 'float64' | 'int64' | 'bool';

/** The typed array behind each dtype. */
export type Storage = Float32Array | Float64Array | Uint8Array;

/** 32-bit float, the default dtype. */
export const float32: DType = 'float32';
/** 64-bit float (gradcheck needs it). */
export const float64: DType = 'float64';
/** Alias of float32, as `torch.float`. */
export const float: DType = 'float32';
/** Alias of float64, as `torch.double`. */
export const double: DType = 'float64';
/** 64-bit integer (indices), exact up to 2^53. */
export const int64: DType = 'int64';
/** Alias of int64, as `torch.long`. */
export const long: DType = 'int64';
/** Boolean (masks, comparison results). */
export const bool: DType = 'bool';

export function allocStorage(dtype: DType, length: number): Storage {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
    case 'int64':
      return new Float64Array(length);
    case 'bool':
      return new Uint8Array(length);
  }
}

export function isFloatingPoint(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** PyTorch's type promotion for two tensor operands (bool < int64 < float32 < float64). */
export function promoteTypes(a: DType, b: DType): DType {
  const rank: Record<DType, number> = { bool: 0, int64: 1, float32: 2, float64: 3 };
  return rank[a] >= rank[b] ? a : b;
}

/** Result dtype of `tensor op scalar`: a Python float scalar does not widen a float tensor. */
export function promoteWithScalar(a: DType, scalar: number): DType {
  if (isFloatingPoint(a)) return a;
  if (Number.isInteger(scalar)) return a === 'bool' ? 'int64' : a;
  return 'float32';
}

export function dtypeOfStorage(data: ArrayLike<number>): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Uint8Array) return 'bool';
  if (data instanceof Int32Array || data instanceof Int16Array || data instanceof Int8Array || data instanceof Uint16Array || data instanceof Uint32Array || data instanceof BigInt64Array) return 'int64';
  return 'float32';
}
