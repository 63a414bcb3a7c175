/**
 * Tensor methods that mirror the functional ops (`x.add(y)` ≡ `torch.add(x, y)`), attached to the
 * prototype here so the Tensor class file stays about storage and autograd state.
 */
import type { DType } from './dtype.ts';
import { Tensor } from './tensor.ts';
import type { TensorLike } from './ops/elementwise.ts';
import * as pw from './ops/pointwise.ts';
import * as red from './ops/reduction.ts';
import * as vw from './ops/view.ts';
import * as ix from './ops/indexing.ts';
import * as ip from './ops/inplace.ts';
import { index, type IndexItem } from './ops/getitem.ts';
import { matmul, mm } from './ops/linalg.ts';
import { log_softmax, softmax } from './ops/activation.ts';
import { isDType, toDevice } from './device/transfer.ts';

type Dims = number | number[] | null;

declare module './tensor.ts' {
  interface Tensor {
    /** `self + alpha·other` (broadcasting). */
    add(other: TensorLike, opts?: pw.AlphaOptions): Tensor;
    /** `self − alpha·other` (broadcasting). */
    sub(other: TensorLike, opts?: pw.AlphaOptions): Tensor;
    /** Elementwise product (broadcasting). */
    mul(other: TensorLike): Tensor;
    /** True division (broadcasting). */
    div(other: TensorLike): Tensor;
    /** Negation. */
    neg(): Tensor;
    /** Elementwise power. */
    pow(exponent: TensorLike): Tensor;
    /** Elementwise e^x. */
    exp(): Tensor;
    /** Natural logarithm. */
    log(): Tensor;
    /** Square root. */
    sqrt(): Tensor;
    /** Absolute value. */
    abs(): Tensor;
    /** Sign (−1, 0, 1). */
    sign(): Tensor;
    /** Clamps into [min, max]. */
    clamp(opts: pw.ClampOptions): Tensor;
    /** Alias of clamp. */
    clip(opts: pw.ClampOptions): Tensor;
    /** max(0, x). */
    relu(): Tensor;
    /** Logistic sigmoid. */
    sigmoid(): Tensor;
    /** Hyperbolic tangent. */
    tanh(): Tensor;
    /** Elementwise maximum with another tensor. */
    maximum(other: Tensor): Tensor;
    /** Elementwise minimum with another tensor. */
    minimum(other: Tensor): Tensor;
    /** Elementwise `>` (bool). */
    gt(other: TensorLike): Tensor;
    /** Elementwise `<` (bool). */
    lt(other: TensorLike): Tensor;
    /** Elementwise `>=` (bool). */
    ge(other: TensorLike): Tensor;
    /** Elementwise `<=` (bool). */
    le(other: TensorLike): Tensor;
    /** Elementwise `==` (bool). */
    eq(other: TensorLike): Tensor;
    /** Elementwise `!=` (bool). */
    ne(other: TensorLike): Tensor;
    /** Sum over dims (all when omitted). */
    sum(dim?: Dims, opts?: red.ReduceOptions): Tensor;
    /** Mean over dims (all when omitted). */
    mean(dim?: Dims, opts?: red.ReduceOptions): Tensor;
    /** Max over dims (all when omitted). */
    amax(dim?: Dims, opts?: red.ReduceOptions): Tensor;
    /** Min over dims (all when omitted). */
    amin(dim?: Dims, opts?: red.ReduceOptions): Tensor;
    /** Overall max, values+indices along a dim, or elementwise max with a tensor. */
    max(): Tensor;
    /** Max values and their indices along `dim`. */
    max(dim: number, opts?: red.ReduceOptions): red.ValuesIndices;
    /** Elementwise maximum with `other`. */
    max(other: Tensor): Tensor;
    /** Overall min, values+indices along a dim, or elementwise min with a tensor. */
    min(): Tensor;
    /** Min values and their indices along `dim`. */
    min(dim: number, opts?: red.ReduceOptions): red.ValuesIndices;
    /** Elementwise minimum with `other`. */
    min(other: Tensor): Tensor;
    /** Index of the max (flattened when dim omitted). */
    argmax(dim?: number, opts?: red.ReduceOptions): Tensor;
    /** Index of the min (flattened when dim omitted). */
    argmin(dim?: number, opts?: red.ReduceOptions): Tensor;
    /** Matrix product. */
    matmul(other: Tensor): Tensor;
    /** 2-D matrix product. */
    mm(other: Tensor): Tensor;
    /** Reshape, copying only when a view is impossible. */
    reshape(...shape: number[] | [number[]]): Tensor;
    /** A view with another shape. */
    view(...shape: number[] | [number[]]): Tensor;
    /** A view with the shape of `other`. */
    view_as(other: Tensor): Tensor;
    /** Reshape to the shape of `other`. */
    reshape_as(other: Tensor): Tensor;
    /** Reorders dims. */
    permute(...dims: number[] | [number[]]): Tensor;
    /** Swaps two dims. */
    transpose(dim0: number, dim1: number): Tensor;
    /** Transpose of a ≤2-D tensor. */
    t(): Tensor;
    /** Flattens dims start..end. */
    flatten(start_dim?: number, end_dim?: number): Tensor;
    /** Removes size-1 dims. */
    squeeze(dim?: number | number[]): Tensor;
    /** Inserts a size-1 dim. */
    unsqueeze(dim: number): Tensor;
    /** Broadcasts to a size without copying. */
    expand(...sizes: number[] | [number[]]): Tensor;
    /** Broadcasts to the shape of `other`. */
    expand_as(other: Tensor): Tensor;
    /** `length` entries of `dim` from `start` (a view). */
    narrow(dim: number, start: number, length: number): Tensor;
    /** One index of `dim`, dropping it (a view). */
    select(dim: number, index: number): Tensor;
    /** `start:end:step` along `dim` (a view). */
    slice(dim: number, start?: number | null, end?: number | null, step?: number): Tensor;
    /** Python-style basic indexing, `x[0, :, 1:3]` → `x.index(0, ':', slice_(1, 3))` (a view). */
    index(...items: IndexItem[]): Tensor;
    /** `x[0]` → `x.at(0)` (a view; negative indices count from the end). */
    at(i: number): Tensor;
    /** A contiguous tensor (self when already contiguous). */
    contiguous(): Tensor;
    /** A copy with its own storage. */
    clone(): Tensor;
    /**
     * Converts dtype, or moves to a device (`'gpujs-webgpu'`); self when unchanged. Moving to a
     * device is synchronous; moving back is `await t.cpu()` (device readback is asynchronous).
     */
    to(dtypeOrDevice: DType | (string & {})): Tensor;
    /** To float32. */
    float(): Tensor;
    /** To float64. */
    double(): Tensor;
    /** To int64. */
    long(): Tensor;
    /** Gathers values along dim by index. */
    gather(dim: number, index: Tensor): Tensor;
    /** Slices along dim picked by a 1-D index. */
    index_select(dim: number, index: Tensor): Tensor;
    /** Copy with `src` added at `index` along dim. */
    scatter_add(dim: number, index: Tensor, src: Tensor): Tensor;
    /** Softmax along dim. */
    softmax(dim: number): Tensor;
    /** Log-softmax along dim. */
    log_softmax(dim: number): Tensor;
    /** Zeros in place. */
    zero_(): Tensor;
    /** Fills with a value in place. */
    fill_(value: number): Tensor;
    /** In-place add. */
    add_(other: TensorLike, opts?: pw.AlphaOptions): Tensor;
    /** In-place subtract. */
    sub_(other: TensorLike, opts?: pw.AlphaOptions): Tensor;
    /** In-place multiply. */
    mul_(other: TensorLike): Tensor;
    /** In-place divide. */
    div_(other: TensorLike): Tensor;
    /** In-place clamp. */
    clamp_(opts: pw.ClampOptions): Tensor;
    /** In-place ReLU. */
    relu_(): Tensor;
    /** Copies values from `src` in place. */
    copy_(src: TensorLike): Tensor;
    /** `x[items] = value`; e.g. `one_hot.setitem([0, k], 1)` for `one_hot[0][k] = 1`. */
    setitem(items: IndexItem | IndexItem[], value: TensorLike): Tensor;
    /** Fills with uniform random values in place. */
    uniform_(from?: number, to?: number): Tensor;
    /** Fills with normal random values in place. */
    normal_(mean?: number, std?: number): Tensor;
  }
}

function sizesArg(args: number[] | [number[]]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...args[0]] : (args as number[]);
}

const methods: Partial<Tensor> & ThisType<Tensor> = {
  add(other, opts) { return pw.add(this, other, opts); },
  sub(other, opts) { return pw.sub(this, other, opts); },
  mul(other) { return pw.mul(this, other); },
  div(other) { return pw.div(this, other); },
  neg() { return pw.neg(this); },
  pow(e) { return pw.pow(this, e); },
  exp() { return pw.exp(this); },
  log() { return pw.log(this); },
  sqrt() { return pw.sqrt(this); },
  abs() { return pw.abs(this); },
  sign() { return pw.sign(this); },
  clamp(opts) { return pw.clamp(this, opts); },
  clip(opts) { return pw.clamp(this, opts); },
  relu() { return pw.relu(this); },
  sigmoid() { return pw.sigmoid(this); },
  tanh() { return pw.tanh(this); },
  maximum(o) { return pw.maximum(this, o); },
  minimum(o) { return pw.minimum(this, o); },
  gt(o) { return pw.gt(this, o); },
  lt(o) { return pw.lt(this, o); },
  ge(o) { return pw.ge(this, o); },
  le(o) { return pw.le(this, o); },
  eq(o) { return pw.eq(this, o); },
  ne(o) { return pw.ne(this, o); },
  sum(dim, opts) { return red.sum(this, dim, opts); },
  mean(dim, opts) { return red.mean(this, dim, opts); },
  amax(dim, opts) { return red.amax(this, dim, opts); },
  amin(dim, opts) { return red.amin(this, dim, opts); },
  argmax(dim, opts) { return red.argmax(this, dim, opts); },
  argmin(dim, opts) { return red.argmin(this, dim, opts); },
  matmul(o) { return matmul(this, o); },
  mm(o) { return mm(this, o); },
  reshape(...shape) { return vw.reshape(this, sizesArg(shape)); },
  view(...shape) { return vw.view(this, sizesArg(shape)); },
  view_as(o) { return vw.view(this, o.shape); },
  reshape_as(o) { return vw.reshape(this, o.shape); },
  permute(...dims) { return vw.permute(this, sizesArg(dims)); },
  transpose(a, b) { return vw.transpose(this, a, b); },
  t() { return vw.t(this); },
  flatten(s, e) { return vw.flatten(this, s, e); },
  squeeze(dim) { return vw.squeeze(this, dim); },
  unsqueeze(dim) { return vw.unsqueeze(this, dim); },
  expand(...sizes) { return vw.expand(this, sizesArg(sizes)); },
  expand_as(o) { return vw.expand_as(this, o); },
  narrow(d, s, l) { return vw.narrow(this, d, s, l); },
  select(d, i) { return vw.select(this, d, i); },
  slice(d, s, e, st) { return vw.slice(this, d, s, e, st); },
  index(...items) { return index(this, ...items); },
  at(i) { return vw.select(this, 0, i); },
  contiguous() { return vw.contiguous(this); },
  clone() { return vw.clone(this); },
  to(target) { return isDType(target) ? vw.to(this, target) : toDevice(this, target); },
  float() { return vw.to(this, 'float32'); },
  double() { return vw.to(this, 'float64'); },
  long() { return vw.to(this, 'int64'); },
  gather(d, i) { return ix.gather(this, d, i); },
  index_select(d, i) { return ix.index_select(this, d, i); },
  scatter_add(d, i, s) { return ix.scatter_add(this, d, i, s); },
  softmax(d) { return softmax(this, d); },
  log_softmax(d) { return log_softmax(this, d); },
  zero_() { return ip.zero_(this); },
  fill_(v) { return ip.fill_(this, v); },
  add_(o, opts) { return ip.add_(this, o, opts); },
  sub_(o, opts) { return ip.sub_(this, o, opts); },
  mul_(o) { return ip.mul_(this, o); },
  div_(o) { return ip.div_(this, o); },
  clamp_(opts) { return ip.clamp_(this, opts); },
  relu_() { return ip.relu_(this); },
  copy_(s) { return ip.copy_(this, s); },
  setitem(items, v) { return ip.setitem(this, items, v); },
  uniform_(a, b) { return ip.uniform_(this, a, b); },
  normal_(m, s) { return ip.normal_(this, m, s); },
};
Object.assign(Tensor.prototype, methods);

function maxMethod(this: Tensor, arg?: number | Tensor, opts?: red.ReduceOptions): Tensor | red.ValuesIndices {
  if (arg instanceof Tensor) return pw.maximum(this, arg);
  return arg === undefined ? red.max(this) : red.max(this, arg, opts);
}
function minMethod(this: Tensor, arg?: number | Tensor, opts?: red.ReduceOptions): Tensor | red.ValuesIndices {
  if (arg instanceof Tensor) return pw.minimum(this, arg);
  return arg === undefined ? red.min(this) : red.min(this, arg, opts);
}
Object.assign(Tensor.prototype, { max: maxMethod, min: minMethod });
