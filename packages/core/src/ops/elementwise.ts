import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import { allocStorage, promoteTypes, promoteWithScalar, type DType, type Storage } from '../dtype.ts';
import { broadcastShapes, broadcastStrides, numelOf, sameShape } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { simdAdd, simdRelu } from './simd.ts';

/** A tensor or a plain number (PyTorch's Python scalar operand). */
export type TensorLike = Tensor | number;

/** A 0-d tensor holding `value`. */
export function scalarTensor(value: number, dtype: DType): Tensor {
  const s = allocStorage(dtype, 1);
  s[0] = value;
  return Tensor._make(s, [], dtype);
}

/** Result dtype of a binary op on two operands, with PyTorch's scalar rule. */
export function resultType(a: TensorLike, b: TensorLike): DType {
  if (a instanceof Tensor && b instanceof Tensor) {
    // A 0-d tensor does not widen a dimensioned one of the same category (PyTorch's rule, simplified).
    if (a.dim() === 0 && b.dim() > 0 && a.is_floating_point() === b.is_floating_point()) return b.dtype;
    if (b.dim() === 0 && a.dim() > 0 && a.is_floating_point() === b.is_floating_point()) return a.dtype;
    return promoteTypes(a.dtype, b.dtype);
  }
  if (a instanceof Tensor) return promoteWithScalar(a.dtype, b as number);
  if (b instanceof Tensor) return promoteWithScalar(b.dtype, a);
  return 'float32';
}

export function asTensor(x: TensorLike, dtype: DType): Tensor {
  return x instanceof Tensor ? x : scalarTensor(x, dtype);
}

/**
 * The storage of a contiguous tensor without copying (a subarray when it has an offset), or null
 * when the tensor is not contiguous. For the specialised loops below.
 */
export function denseData(t: Tensor): Storage | null {
  if (!t.is_contiguous()) return null;
  const nd = t._nd;
  const n = t.numel();
  return nd.offset === 0 && nd.data.length === n ? nd.data : nd.data.subarray(nd.offset, nd.offset + n);
}

/** out[i] = max(0, x[i]) (NaN kept), a closure-free loop. */
export function reluInto(src: Storage, out: Storage): void {
  if (simdRelu(src, out)) return;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    out[i] = v > 0 ? v : v !== v ? v : 0;
  }
}

/** out[i] = x[i] + alpha·y[i] over equal-length arrays, a closure-free loop. */
export function addInto(x: Storage, y: Storage, alpha: number, out: Storage): void {
  if (alpha === 1 && simdAdd(x, y, out)) return;
  const n = out.length;
  if (alpha === 1) for (let i = 0; i < n; i++) out[i] = x[i]! + y[i]!;
  else for (let i = 0; i < n; i++) out[i] = x[i]! + alpha * y[i]!;
}

/** out[i] = f(x[i]) into a new contiguous tensor. */
export function mapUnary(x: Tensor, f: (v: number) => number, dtype: DType = x.dtype): Tensor {
  const src = x._contiguousData();
  const out = allocStorage(dtype, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
  return Tensor._make(out, x.shape, dtype);
}

/** out = f(a, b) with broadcasting, into a new contiguous tensor of `dtype`. */
export function mapBinary(a: Tensor, b: Tensor, f: (x: number, y: number) => number, dtype: DType): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const n = numelOf(shape);
  const out = allocStorage(dtype, n);
  if (sameShape(a.shape, b.shape) && a.is_contiguous() && b.is_contiguous()) {
    const x = a._contiguousData();
    const y = b._contiguousData();
    for (let i = 0; i < n; i++) out[i] = f(x[i]!, y[i]!);
  } else if (b.numel() === 1 && sameShape(a.shape, shape)) {
    const x = a._contiguousData();
    const y = b._nd.data[b._nd.offset]!;
    for (let i = 0; i < n; i++) out[i] = f(x[i]!, y);
  } else if (a.numel() === 1 && sameShape(b.shape, shape)) {
    const x = a._nd.data[a._nd.offset]!;
    const y = b._contiguousData();
    for (let i = 0; i < n; i++) out[i] = f(x, y[i]!);
  } else {
    broadcastLoop(shape, a, b, out, f);
  }
  return Tensor._make(out, shape, dtype);
}

/** General strided broadcast loop, innermost dimension unrolled into a tight loop. */
function broadcastLoop(shape: number[], a: Tensor, b: Tensor, out: Storage, f: (x: number, y: number) => number): void {
  const nd = shape.length;
  const da = a._nd.data;
  const db = b._nd.data;
  if (nd === 0) {
    out[0] = f(da[a._nd.offset]!, db[b._nd.offset]!);
    return;
  }
  const sa = broadcastStrides(a.shape, a._nd.stride, shape);
  const sb = broadcastStrides(b.shape, b._nd.stride, shape);
  const inner = shape[nd - 1]!;
  const ia = sa[nd - 1]!;
  const ib = sb[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let oa = a._nd.offset;
  let ob = b._nd.offset;
  const total = numelOf(shape);
  for (let o = 0; o < total; ) {
    for (let i = 0; i < inner; i++) out[o++] = f(da[oa + i * ia]!, db[ob + i * ib]!);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      oa += sa[d]!;
      ob += sb[d]!;
      if (idx[d]! < shape[d]!) break;
      oa -= sa[d]! * shape[d]!;
      ob -= sb[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Writes f(self, other) into self's storage (other broadcast to self's shape). */
export function mapInPlace(self: Tensor, other: Tensor | null, f: (x: number, y: number) => number): void {
  const nd = self._nd;
  const shape = nd.shape;
  if (other && !sameShape(broadcastShapes(shape, other.shape), shape)) {
    throw new Error(
      `output with shape [${shape.join(', ')}] doesn't match the broadcast shape [${broadcastShapes(shape, other.shape).join(', ')}]`,
    );
  }
  const n = numelOf(shape);
  if (n === 0) return;
  const o = other ?? scalarTensor(0, self.dtype);
  if (self.is_contiguous()) {
    const data = nd.data;
    const base = nd.offset;
    if (o.numel() === 1) {
      const y = o._nd.data[o._nd.offset]!;
      for (let i = 0; i < n; i++) data[base + i] = f(data[base + i]!, y);
      return;
    }
    if (sameShape(o.shape, shape) && o.is_contiguous()) {
      const y = o._contiguousData();
      for (let i = 0; i < n; i++) data[base + i] = f(data[base + i]!, y[i]!);
      return;
    }
  }
  // General case: compute out of place, then scatter back through self's strides.
  const result = mapBinary(self, o, f, self.dtype)._contiguousData();
  writeStrided(self, result);
}

/** Copies C-ordered `values` into the (possibly strided) storage of `t`. */
export function writeStrided(t: Tensor, values: ArrayLike<number>): void {
  const nd = t._nd;
  const shape = nd.shape;
  const dims = shape.length;
  if (dims === 0) {
    nd.data[nd.offset] = values[0]!;
    return;
  }
  if (t.is_contiguous()) {
    // C order is storage order: one block copy (values are converted to the storage's type).
    const m = numelOf(shape);
    if (ArrayBuffer.isView(values) && values.length === m) {
      if (values !== nd.data || nd.offset !== 0) nd.data.set(values as Storage, nd.offset);
    } else {
      const data = nd.data;
      const base = nd.offset;
      for (let i = 0; i < m; i++) data[base + i] = values[i]!;
    }
    return;
  }
  const idx = new Array<number>(dims).fill(0);
  let off = nd.offset;
  const n = numelOf(shape);
  for (let i = 0; i < n; i++) {
    nd.data[off] = values[i]!;
    for (let d = dims - 1; d >= 0; d--) {
      idx[d]!++;
      off += nd.stride[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= nd.stride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** The values of `t` broadcast to `shape`, in C order (a copy unless no broadcast was needed). */
export function broadcastData(t: Tensor, shape: number[]): Storage {
  if (sameShape(t.shape, shape)) return t._contiguousData();
  const n = numelOf(shape);
  const out = allocStorage(t.dtype, n);
  if (t.numel() === 1) {
    out.fill(t._nd.data[t._nd.offset]!);
    return out;
  }
  const view = ndarray(t._nd.data, shape, broadcastStrides(t.shape, t._nd.stride, shape), t._nd.offset);
  ops.assign(ndarray(out, shape), view);
  return out;
}
