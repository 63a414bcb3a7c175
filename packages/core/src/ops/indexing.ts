import { allocStorage } from '../dtype.ts';
import { recordOp } from '../autograd/op_node.ts';
import { formatShape, normalizeDim, numelOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { clone } from './view.ts';

/** Calls `f(indexOffset, srcOffsetWithoutDim, position)` for every element of `shape`, tracking offsets by strides. */
function forEachIndex(
  shape: number[],
  stridesA: number[],
  offsetA: number,
  stridesB: number[],
  offsetB: number,
  f: (a: number, b: number, coordAlongDim: number[]) => void,
): void {
  const n = numelOf(shape);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let a = offsetA;
  let b = offsetB;
  for (let i = 0; i < n; i++) {
    f(a, b, idx);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      a += stridesA[d]!;
      b += stridesB[d]!;
      if (idx[d]! < shape[d]!) break;
      a -= stridesA[d]! * shape[d]!;
      b -= stridesB[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

function checkIndexShape(op: string, x: Tensor, dim: number, index: Tensor): void {
  if (index.dim() !== x.dim()) throw new Error(`${op}(): Index tensor must have the same number of dimensions as input tensor`);
  index.shape.forEach((s, d) => {
    if (d !== dim && s > x.shape[d]!) {
      throw new Error(`${op}(): Size does not match at dimension ${d} expected index ${formatShape(index.shape)} to be smaller than self ${formatShape(x.shape)} apart from dimension ${dim}`);
    }
  });
}

function checkedIndex(v: number, size: number, op: string): number {
  if (!Number.isInteger(v) || v < -size || v >= size) throw new RangeError(`${op}(): index ${v} is out of bounds for dimension with size ${size}`);
  return v < 0 ? v + size : v;
}

/** out[...i_d...] = x[... index[...] ...] along `dim` (torch.gather). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim(dim, x.dim());
  checkIndexShape('gather', x, d, index);
  const shape = index.shape;
  const out = allocStorage(x.dtype, numelOf(shape));
  const xs = x._nd.stride.slice();
  const xStridesNoDim = xs.map((s, k) => (k === d ? 0 : s));
  const idx = index._nd;
  const xd = x._nd.data;
  const size = x.shape[d]!;
  let o = 0;
  forEachIndex(shape, idx.stride, idx.offset, xStridesNoDim, x._nd.offset, (ia, xb) => {
    out[o++] = xd[xb + checkedIndex(idx.data[ia]!, size, 'gather') * xs[d]!]!;
  });
  const inShape = x.shape;
  return recordOp('GatherBackward0', [x], [Tensor._make(out, shape, x.dtype)], [index], ([g], [i]) => [
    scatter_add(Tensor._zeros(inShape, g!.dtype), d, i!, g!),
  ]);
}

/** A copy of `x` with `src` added at `index` along `dim` (torch.scatter_add). */
export function scatter_add(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = normalizeDim(dim, x.dim());
  checkIndexShape('scatter_add', x, d, index);
  const out = clone(x).detach();
  const os = out._nd.stride;
  const outStridesNoDim = os.map((s, k) => (k === d ? 0 : s));
  const idx = index._nd;
  const od = out._nd.data;
  const srcData = src._nd;
  const size = x.shape[d]!;
  // Walk index and src together (src may be larger; only index's extent is used).
  const pairs: number[] = [];
  forEachIndex(index.shape, idx.stride, idx.offset, srcData.stride, srcData.offset, (ia, sb) => {
    pairs.push(ia, sb);
  });
  let p = 0;
  forEachIndex(index.shape, outStridesNoDim, 0, outStridesNoDim, 0, (ob) => {
    const ia = pairs[p++]!;
    const sb = pairs[p++]!;
    od[ob + checkedIndex(idx.data[ia]!, size, 'scatter_add') * os[d]!]! += srcData.data[sb]!;
  });
  return recordOp('ScatterAddBackward0', [x, src], [out], [index], ([g], [i], needs) => [
    needs[0] ? g! : null,
    needs[1] ? gather(g!, d, i!) : null,
  ]);
}

/** Rows (or slices along `dim`) of `x` picked by a 1-D index tensor (torch.index_select). */
export function index_select(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim(dim, x.dim());
  if (index.dim() > 1) throw new Error('index_select(): Index is supposed to be a vector');
  const ids = Array.from(index._contiguousData(), (v) => checkedIndex(v, x.shape[d]!, 'index_select'));
  const shape = x.shape;
  shape[d] = ids.length;
  const outer = numelOf(shape.slice(0, d));
  const inner = numelOf(shape.slice(d + 1));
  const src = x._contiguousData();
  const out = allocStorage(x.dtype, numelOf(shape));
  const srcDim = x.shape[d]!;
  for (let o = 0; o < outer; o++) {
    ids.forEach((id, k) => {
      const from = (o * srcDim + id) * inner;
      out.set(src.subarray(from, from + inner), (o * ids.length + k) * inner);
    });
  }
  const inShape = x.shape;
  return recordOp('IndexSelectBackward0', [x], [Tensor._make(out, shape, x.dtype)], [index], ([g], [i]) => [
    index_add(Tensor._zeros(inShape, g!.dtype), d, i!, g!),
  ]);
}

/** A copy of `x` with slices of `source` added at `index` along `dim` (torch.index_add). */
export function index_add(x: Tensor, dim: number, index: Tensor, source: Tensor): Tensor {
  const d = normalizeDim(dim, x.dim());
  const ids = Array.from(index._contiguousData(), (v) => checkedIndex(v, x.shape[d]!, 'index_add'));
  const out = clone(x).detach();
  const od = out._nd.data;
  const src = source._contiguousData();
  const outer = numelOf(x.shape.slice(0, d));
  const inner = numelOf(x.shape.slice(d + 1));
  const dimSize = x.shape[d]!;
  for (let o = 0; o < outer; o++) {
    ids.forEach((id, k) => {
      const to = (o * dimSize + id) * inner;
      const from = (o * ids.length + k) * inner;
      for (let j = 0; j < inner; j++) od[to + j]! += src[from + j]!;
    });
  }
  return recordOp('IndexAddBackward0', [x, source], [out], [index], ([g], [i], needs) => [
    needs[0] ? g! : null,
    needs[1] ? index_select(g!, d, i!) : null,
  ]);
}

/** One-hot encoding of integer class indices: shape [...indices.shape, num_classes], dtype int64 (F.one_hot). */
export function one_hot(indices: Tensor, num_classes = -1): Tensor {
  const ids = indices._contiguousData();
  let n = num_classes;
  if (n < 0) n = ids.length ? Math.max(...ids) + 1 : 0;
  const out = allocStorage('int64', ids.length * n);
  ids.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new RangeError(`one_hot: class index ${v} is out of range for ${n} classes`);
    out[i * n + v] = 1;
  });
  return Tensor._make(out, [...indices.shape, n], 'int64');
}
