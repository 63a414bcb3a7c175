import { allocStorage, isFloatingPoint } from '../dtype.ts';
import { recordOp } from '../autograd/op_node.ts';
import { normalizeDim, numelOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { exp, mul, sub } from './pointwise.ts';
import { sum } from './reduction.ts';
import { contiguous, transpose } from './view.ts';

/** Runs `f` on each 1-D lane along `dim` of a contiguous copy (moving `dim` last when needed). */
function alongDim(x: Tensor, dim: number, f: (src: Float32Array | Float64Array, dst: Float32Array | Float64Array, start: number, len: number) => void): Tensor {
  if (!isFloatingPoint(x.dtype)) x = x.to('float32');
  const d = normalizeDim(dim, x.dim());
  const last = x.dim() === 0 || d === x.dim() - 1;
  const moved = last ? x : contiguous(transpose(x, d, -1));
  const src = moved._contiguousData() as Float32Array | Float64Array;
  const len = moved.dim() === 0 ? 1 : moved.shape[moved.dim() - 1]!;
  const out = allocStorage(x.dtype, src.length) as Float32Array | Float64Array;
  for (let s = 0; s < numelOf(moved.shape); s += len) f(src, out, s, len);
  const res = Tensor._make(out, moved.shape, x.dtype);
  return last ? res : contiguous(transpose(res, d, -1)).detach();
}

/** Numerically stable softmax along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  const out = alongDim(x, dim, (src, dst, s, n) => {
    let m = -Infinity;
    for (let i = s; i < s + n; i++) m = Math.max(m, src[i]!);
    let z = 0;
    for (let i = s; i < s + n; i++) z += dst[i] = Math.exp(src[i]! - m);
    for (let i = s; i < s + n; i++) dst[i]! /= z;
  });
  return recordOp('SoftmaxBackward0', [x], [out], [out], ([g], [y]) => [
    mul(y!, sub(g!, sum(mul(g!, y!), dim, { keepdim: true }))),
  ]);
}

/** Numerically stable log-softmax along `dim`. */
export function log_softmax(x: Tensor, dim: number): Tensor {
  const out = alongDim(x, dim, (src, dst, s, n) => {
    let m = -Infinity;
    for (let i = s; i < s + n; i++) m = Math.max(m, src[i]!);
    let z = 0;
    for (let i = s; i < s + n; i++) z += Math.exp(src[i]! - m);
    const lse = m + Math.log(z);
    for (let i = s; i < s + n; i++) dst[i] = src[i]! - lse;
  });
  return recordOp('LogSoftmaxBackward0', [x], [out], [out], ([g], [y]) => [
    sub(g!, mul(exp(y!), sum(g!, dim, { keepdim: true }))),
  ]);
}
