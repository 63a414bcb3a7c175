import ndarray, { type NdArray } from 'ndarray';
import { allocStorage, type DType, type Storage } from '../dtype.ts';
import { recordOp } from '../autograd/op_node.ts';
import { contiguousStrides as contiguousStridesOf, formatShape, inferShape, normalizeDim, numelOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { writeStrided } from './elementwise.ts';
import { sumToShape } from './reduce_to_shape.ts';
import { deviceCopy } from '../device/ops.ts';

/** A tensor viewing `nd`, sharing storage and version counter with `x`. */
function viewOf(x: Tensor, nd: NdArray<Storage>): Tensor {
  const v = new Tensor(nd, x.dtype, x._version);
  v._base = x._base ?? x;
  return v;
}

/** A view of a (always contiguous) device tensor with another shape, sharing its storage. */
function deviceViewOf(x: Tensor, shape: number[]): Tensor {
  const v = Tensor._onDevice(x._dev!, shape, x._version);
  v._base = x._base ?? x;
  return v;
}

/**
 * Strides for viewing `x` as `shape` without copying, or null if impossible
 * (PyTorch's computeStride: groups of input dims that are contiguous among themselves can be re-split).
 */
function viewStrides(oldShape: number[], oldStrides: number[], shape: number[]): number[] | null {
  if (numelOf(oldShape) === 0 || oldShape.length === 0) return contiguousStridesOf(shape);
  const strides = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d]!;
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        strides[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return strides;
}

/** A view with a new shape; errors (as PyTorch) if the strides don't allow it: use `reshape` then. */
export function view(x: Tensor, shape: number[]): Tensor {
  const target = inferShape(shape, x.numel());
  const strides = viewStrides(x.shape, x.stride(), target);
  if (!strides) {
    throw new Error(
      `view size is not compatible with input tensor's size and stride (at least one dimension spans across two ` +
        `contiguous subspaces). Use .reshape(...) instead.`,
    );
  }
  const out = x._dev !== null ? deviceViewOf(x, target) : viewOf(x, ndarray(x._nd.data, target, strides, x._nd.offset));
  const inShape = x.shape;
  return recordOp('ViewBackward0', [x], [out], [], ([g]) => [reshape(g!, inShape)]);
}

/** Like `view`, but copies when the strides don't allow a view. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const target = inferShape(shape, x.numel());
  if (viewStrides(x.shape, x.stride(), target)) return view(x, target);
  return view(contiguous(x), target);
}

/** Flattens dims start_dim..end_dim into one. */
export function flatten(x: Tensor, start_dim = 0, end_dim = -1): Tensor {
  if (x.dim() === 0) return reshape(x, [1]);
  const s = normalizeDim(start_dim, x.dim());
  const e = normalizeDim(end_dim, x.dim());
  if (s > e) throw new Error('flatten() has invalid args: start_dim cannot come after end_dim');
  const shape = x.shape;
  return reshape(x, [...shape.slice(0, s), numelOf(shape.slice(s, e + 1)), ...shape.slice(e + 1)]);
}

/** Reorders dimensions (a view). */
export function permute(x: Tensor, dims: number[]): Tensor {
  if (dims.length !== x.dim()) {
    throw new Error(`permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${x.dim()} is not equal to len(dims) = ${dims.length}`);
  }
  const order = dims.map((d) => normalizeDim(d, x.dim()));
  if (new Set(order).size !== order.length) throw new Error('permute(): duplicate dims are not allowed.');
  const out = viewOf(x, x._nd.transpose(...order));
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => (inverse[d] = i));
  return recordOp('PermuteBackward0', [x], [out], [], ([g]) => [permute(g!, inverse)]);
}

/** Swaps two dimensions (a view). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const n = x.dim();
  if (n === 0) return permute(x, []);
  const a = normalizeDim(dim0, n);
  const b = normalizeDim(dim1, n);
  const order = Array.from({ length: n }, (_, i) => (i === a ? b : i === b ? a : i));
  const out = viewOf(x, x._nd.transpose(...order));
  return recordOp('TransposeBackward0', [x], [out], [], ([g]) => [transpose(g!, a, b)]);
}

/** Transpose of a ≤2-D tensor. */
export function t(x: Tensor): Tensor {
  if (x.dim() > 2) throw new Error(`t() expects a tensor with <= 2 dimensions, but self is ${x.dim()}D`);
  return x.dim() < 2 ? x : transpose(x, 0, 1);
}

/** Inserts a size-1 dim at `dim` (a view). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim(dim, x.dim() + 1);
  const shape = x.shape;
  shape.splice(d, 0, 1);
  return view(x, shape);
}

/** Removes size-1 dims (all, or just `dim`). */
export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  const dims = dim === undefined ? null : (Array.isArray(dim) ? dim : [dim]).map((d) => normalizeDim(d, x.dim()));
  const shape = x.shape.filter((s, i) => !(s === 1 && (dims === null || dims.includes(i))));
  return view(x, shape);
}

/** Broadcasts to `sizes` without copying (stride 0); -1 keeps a size. */
export function expand(x: Tensor, sizes: number[]): Tensor {
  const shape = x.shape;
  const lead = sizes.length - shape.length;
  if (lead < 0) {
    throw new Error(`expand: the number of sizes provided (${sizes.length}) must be greater or equal to the number of dimensions in the tensor (${shape.length})`);
  }
  const strides = x._nd.stride;
  const outShape: number[] = [];
  const outStrides: number[] = [];
  sizes.forEach((s, i) => {
    const j = i - lead;
    const cur = j >= 0 ? shape[j]! : 1;
    const size = s === -1 ? cur : s;
    if (j < 0 && s === -1) throw new Error('expand: -1 is not allowed in a leading, non-existing dimension');
    if (cur !== size && cur !== 1) {
      throw new Error(`The expanded size of the tensor (${size}) must match the existing size (${cur}) at non-singleton dimension ${i}.  Target sizes: ${formatShape(sizes)}.  Tensor sizes: ${formatShape(shape)}`);
    }
    outShape.push(size);
    outStrides.push(j < 0 || (cur === 1 && size !== 1) ? 0 : strides[j]!);
  });
  const out = viewOf(x, ndarray(x._nd.data, outShape, outStrides, x._nd.offset));
  return recordOp('ExpandBackward0', [x], [out], [], ([g]) => [sumToShape(g!, shape)]);
}

/** Expands `x` to the shape of `other`. */
export function expand_as(x: Tensor, other: Tensor): Tensor {
  return expand(x, other.shape);
}

/**
 * The adjoint of a view op: a zero tensor of `shape` with `g` written through `viewFn`.
 * Differentiable in `g` (its gradient is `viewFn` of the incoming gradient).
 */
function embed(g: Tensor, shape: number[], viewFn: (t: Tensor) => Tensor, name: string): Tensor {
  const out = Tensor._zeros(shape, g.dtype);
  writeStrided(viewFn(out), g._contiguousData());
  return recordOp(name, [g], [out], [], ([gg]) => [viewFn(gg!)]);
}

/** A view of `length` entries of `dim` starting at `start`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim(dim, x.dim());
  const size = x.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (s < 0 || length < 0 || s + length > size) throw new RangeError(`start (${start}) + length (${length}) exceeds dimension size (${size}).`);
  return slice(x, d, s, s + length, 1);
}

/** Python's `x[..., start:end:step, ...]` along one dim (a view); bounds are clamped like Python. */
export function slice(x: Tensor, dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
  if (step <= 0) throw new Error('slice step must be positive');
  const d = normalizeDim(dim, x.dim());
  const size = x.shape[d]!;
  const clampIdx = (v: number): number => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const s = start === null ? 0 : clampIdx(start);
  const e = Math.max(end === null ? size : clampIdx(end), s);
  const len = Math.ceil((e - s) / step);
  const nd = x._nd;
  const shape = nd.shape.slice();
  const strides = nd.stride.slice();
  shape[d] = len;
  strides[d] = strides[d]! * step;
  const out = viewOf(x, ndarray(nd.data, shape, strides, nd.offset + s * nd.stride[d]!));
  const inShape = x.shape;
  return recordOp('SliceBackward0', [x], [out], [], ([g]) => [
    embed(g!, inShape, (z) => slice(z, d, s, e, step), 'SliceBackwardBackward0'),
  ]);
}

/** Picks one index of `dim`, removing that dim (a view). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normalizeDim(dim, x.dim());
  const size = x.shape[d]!;
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new RangeError(`index ${index} is out of bounds for dimension ${d} with size ${size}`);
  }
  const i = index < 0 ? index + size : index;
  const picks = x.shape.map((_, k) => (k === d ? i : null));
  const out = viewOf(x, x._nd.pick(...(picks as number[])));
  const inShape = x.shape;
  return recordOp('SelectBackward0', [x], [out], [], ([g]) => [
    embed(g!, inShape, (z) => select(z, d, i), 'SelectBackwardBackward0'),
  ]);
}

/** A contiguous copy (or `x` itself if already contiguous). */
export function contiguous(x: Tensor): Tensor {
  return x.is_contiguous() ? x : clone(x);
}

/** A copy with its own storage; gradient flows back unchanged. */
export function clone(x: Tensor): Tensor {
  if (x._dev !== null) return recordOp('CloneBackward0', [x], [deviceCopy(x)], [], ([g]) => [g!]);
  const data = x._contiguousData();
  const copy = data === x._nd.data || data.buffer === x._nd.data.buffer ? data.slice() : data;
  const out = Tensor._make(copy, x.shape, x.dtype);
  return recordOp('CloneBackward0', [x], [out], [], ([g]) => [g!]);
}

/** A copy converted to `dtype` (or `x` itself when already that dtype). */
export function to(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  if (x._dev !== null) throw new Error(`to(${dtype}): device tensors are float32; convert on the cpu before moving`);
  const src = x._contiguousData();
  const out = allocStorage(dtype, src.length);
  if (dtype === 'bool') for (let i = 0; i < src.length; i++) out[i] = src[i] ? 1 : 0;
  else if (dtype === 'int64') for (let i = 0; i < src.length; i++) out[i] = Math.trunc(src[i]!);
  else out.set(src);
  const res = Tensor._make(out, x.shape, dtype);
  const from = x.dtype;
  return recordOp('ToCopyBackward0', [x], [res], [], ([g]) => [to(g!, from)]);
}
