import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import { allocStorage, isFloatingPoint, type DType, type Storage } from '../dtype.ts';
import { recordOp } from '../autograd/op_node.ts';
import { normalizeDim, normalizeDims, numelOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { div, eq, where } from './pointwise.ts';
import { expand, reshape } from './view.ts';
import { scatter_add } from './indexing.ts';

/** Options of reductions over dimensions. */
export interface ReduceOptions {
  /** Keep reduced dims with size 1 (default false). */
  keepdim?: boolean;
}

/** The dims to reduce: all of them when `dim` is omitted. */
type Dims = number | number[] | null | undefined;

interface Plan {
  dims: number[];
  outShape: number[];
  keptShape: number[];
  /** Values with reduced dims moved last, C order: `outer` groups of `inner` consecutive values. */
  data: Storage;
  outer: number;
  inner: number;
}

function plan(x: Tensor, dim: Dims, keepdim: boolean): Plan {
  const nd = x.dim();
  // A 0-d tensor accepts dim 0/-1 (as PyTorch) but has no dim to reduce.
  const dims = normalizeDims(dim, nd).filter((d) => d < nd).sort((a, b) => a - b);
  const kept = x.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  const outShape = keepdim ? kept : x.shape.filter((_, i) => !dims.includes(i));
  const rest = Array.from({ length: nd }, (_, i) => i).filter((i) => !dims.includes(i));
  const order = [...rest, ...dims];
  const inner = numelOf(dims.map((d) => x.shape[d]!));
  const outer = numelOf(rest.map((d) => x.shape[d]!));
  let data: Storage;
  if (order.every((d, i) => d === i)) data = x._contiguousData();
  else {
    data = allocStorage(x.dtype, x.numel());
    const src = x._nd.transpose(...order);
    ops.assign(ndarray(data, src.shape.slice()), src);
  }
  return { dims, outShape, keptShape: kept, data, outer, inner };
}

function reduce(x: Tensor, p: Plan, dtype: DType, f: (data: Storage, start: number, len: number) => number): Tensor {
  const out = allocStorage(dtype, p.outer);
  for (let o = 0; o < p.outer; o++) out[o] = f(p.data, o * p.inner, p.inner);
  return Tensor._make(out, p.outShape, dtype);
}

/** Brings a reduced gradient back to the input's shape (a broadcasting view). */
function expandBack(g: Tensor, p: Plan, inputShape: number[]): Tensor {
  return expand(reshape(g, p.keptShape), inputShape);
}

function sumRange(d: Storage, s: number, n: number): number {
  let acc = 0;
  for (let i = s; i < s + n; i++) acc += d[i]!;
  return acc;
}

/** Sum over `dim` (all dims when omitted). */
export function sum(x: Tensor, dim?: Dims, opts: ReduceOptions = {}): Tensor {
  const p = plan(x, dim, opts.keepdim ?? false);
  const dtype = x.dtype === 'bool' ? 'int64' : x.dtype;
  const out = reduce(x, p, dtype, sumRange);
  const shape = x.shape;
  return recordOp(dim === undefined || dim === null ? 'SumBackward0' : 'SumBackward1', [x], [out], [], ([g]) => [
    expandBack(g!, p, shape),
  ]);
}

/** Mean over `dim` (all dims when omitted). */
export function mean(x: Tensor, dim?: Dims, opts: ReduceOptions = {}): Tensor {
  if (!isFloatingPoint(x.dtype)) throw new Error(`mean(): could not infer output dtype. Input dtype must be floating point, got ${x.dtype}`);
  const p = plan(x, dim, opts.keepdim ?? false);
  const n = p.inner;
  const out = reduce(x, p, x.dtype, (d, s, len) => sumRange(d, s, len) / len);
  const shape = x.shape;
  return recordOp(dim === undefined || dim === null ? 'MeanBackward0' : 'MeanBackward1', [x], [out], [], ([g]) => [
    div(expandBack(g!, p, shape), n),
  ]);
}

function maxRange(d: Storage, s: number, n: number): number {
  let m = -Infinity;
  for (let i = s; i < s + n; i++) {
    const v = d[i]!;
    if (v > m || Number.isNaN(v)) {
      m = v;
      if (Number.isNaN(v)) break;
    }
  }
  return m;
}

function minRange(d: Storage, s: number, n: number): number {
  let m = Infinity;
  for (let i = s; i < s + n; i++) {
    const v = d[i]!;
    if (v < m || Number.isNaN(v)) {
      m = v;
      if (Number.isNaN(v)) break;
    }
  }
  return m;
}

function extremeReduce(x: Tensor, dim: Dims, keepdim: boolean, name: string, f: typeof maxRange): Tensor {
  if (x.numel() === 0) throw new Error(`${name.replace(/Backward\d$/, '').toLowerCase()}(): Expected reduction dim to be specified for input.numel() == 0`);
  const p = plan(x, dim, keepdim);
  const out = reduce(x, p, x.dtype, f);
  const shape = x.shape;
  // Gradient is shared evenly among the positions that attain the extremum.
  return recordOp(name, [x], [out], [x, out], ([g], [sx, y]) => {
    const mask = eq(sx!, expandBack(y!, p, shape));
    const count = sum(where(mask, 1, 0).to(g!.dtype), p.dims, { keepdim: true });
    return [where(mask, div(expandBack(g!, p, shape), count), 0)];
  });
}

/** Max over `dim` (all dims when omitted); ties share the gradient evenly. */
export function amax(x: Tensor, dim?: Dims, opts: ReduceOptions = {}): Tensor {
  return extremeReduce(x, dim, opts.keepdim ?? false, 'AmaxBackward0', maxRange);
}

/** Min over `dim` (all dims when omitted); ties share the gradient evenly. */
export function amin(x: Tensor, dim?: Dims, opts: ReduceOptions = {}): Tensor {
  return extremeReduce(x, dim, opts.keepdim ?? false, 'AminBackward0', minRange);
}

function argRange(d: Storage, s: number, n: number, better: (a: number, b: number) => boolean): number {
  let best = 0;
  let bv = d[s]!;
  for (let i = 1; i < n; i++) {
    const v = d[s + i]!;
    if (Number.isNaN(bv)) break;
    if (better(v, bv) || Number.isNaN(v)) {
      best = i;
      bv = v;
    }
  }
  return best;
}

/** Values and indices of a reduction along one dim; also indexable as `[values, indices]`. */
export type ValuesIndices = [Tensor, Tensor] & {
  /** The max/min values (differentiable). */
  values: Tensor;
  /** Their int64 positions along the dim (first one on ties). */
  indices: Tensor;
};

function argReduce(x: Tensor, dim: number | undefined, keepdim: boolean, better: (a: number, b: number) => boolean): Tensor {
  if (dim === undefined) {
    const flat = reshape(x, [-1]);
    const out = reduce(flat, plan(flat, 0, false), 'int64', (d, s, n) => argRange(d, s, n, better));
    return keepdim ? reshape(out, x.shape.map(() => 1)) : out;
  }
  const d = normalizeDim(dim, x.dim());
  return reduce(x, plan(x, d, keepdim), 'int64', (data, s, n) => argRange(data, s, n, better));
}

/** Index of the max (first one on ties) along `dim`, or of the flattened tensor. */
export function argmax(x: Tensor, dim?: number, opts: ReduceOptions = {}): Tensor {
  return argReduce(x, dim, opts.keepdim ?? false, (a, b) => a > b);
}

/** Index of the min (first one on ties) along `dim`, or of the flattened tensor. */
export function argmin(x: Tensor, dim?: number, opts: ReduceOptions = {}): Tensor {
  return argReduce(x, dim, opts.keepdim ?? false, (a, b) => a < b);
}

function selectAlong(x: Tensor, dim: number, keepdim: boolean, name: string, better: (a: number, b: number) => boolean): ValuesIndices {
  const d = normalizeDim(dim, x.dim());
  const p = plan(x, d, keepdim);
  const idx = reduce(x, p, 'int64', (data, s, n) => argRange(data, s, n, better));
  const vals = reduce(x, p, x.dtype, (data, s, n) => data[s + argRange(data, s, n, better)]!);
  const shape = x.shape;
  recordOp(name, [x], [vals], [idx], ([g], [i]) => {
    const kept = p.keptShape;
    return [scatter_add(Tensor._zeros(shape, g!.dtype), d, reshape(i!, kept), reshape(g!, kept))];
  });
  return Object.assign([vals, idx] as [Tensor, Tensor], { values: vals, indices: idx });
}

/** `max(x)`: the overall max; `max(x, dim)`: values and indices along dim. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, opts?: ReduceOptions): ValuesIndices;
export function max(x: Tensor, dim?: number, opts: ReduceOptions = {}): Tensor | ValuesIndices {
  if (dim === undefined) return extremeReduce(x, null, false, 'MaxBackward1', maxRange);
  return selectAlong(x, dim, opts.keepdim ?? false, 'MaxBackward0', (a, b) => a > b);
}

/** `min(x)`: the overall min; `min(x, dim)`: values and indices along dim. */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, opts?: ReduceOptions): ValuesIndices;
export function min(x: Tensor, dim?: number, opts: ReduceOptions = {}): Tensor | ValuesIndices {
  if (dim === undefined) return extremeReduce(x, null, false, 'MinBackward1', minRange);
  return selectAlong(x, dim, opts.keepdim ?? false, 'MinBackward0', (a, b) => a < b);
}
