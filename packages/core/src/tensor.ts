import ndarray, { type NdArray } from 'ndarray';
import ops from 'ndarray-ops';
import { allocStorage, isFloatingPoint, type DType, type Storage } from './dtype.ts';
import { contiguousStrides, formatShape, normalizeDim, numelOf, sameShape } from './shape.ts';
import type { Node, TensorHook } from './autograd/node.ts';
import { HookList, type RemovableHandle } from './autograd/removable_handle.ts';
import { runBackward } from './autograd/engine.ts';
import { formatTensor } from './format.ts';
import { warnOnce } from './warn.ts';
import type { DeviceStorage } from './device/storage.ts';
import { deviceAccessError } from './device/errors.ts';
// (device/ops.ts imports Tensor too; both sides use each other only inside functions, like engine.ts)
import { deviceArith, deviceCopy } from './device/ops.ts';

/** Options of creation functions, mirroring PyTorch's keyword arguments. */
export interface TensorOptions {
  /** Element type (default float32). */
  dtype?: DType;
  /** Record operations on this tensor for autograd. */
  requires_grad?: boolean;
}

/** Options of `Tensor.backward`. */
export interface BackwardOptions {
  /** Keep the graph's saved tensors so backward can run again. */
  retain_graph?: boolean;
  /** Record the backward pass itself, for higher-order gradients (implies retain_graph). */
  create_graph?: boolean;
  /** Accumulate only into these leaves' `.grad`. */
  inputs?: Tensor | Tensor[];
}

/** Shared by a tensor and its views; bumped by every in-place write so backward can detect stale saves. */
export interface VersionCounter {
  /** Number of in-place writes so far. */
  value: number;
}

/** Hook on a leaf that runs after its `.grad` has been accumulated. */
export type PostAccumulateGradHook = (tensor: Tensor) => void;

/**
 * An n-dimensional array with autograd, stored in a scijs `ndarray` (shape, strides, offset over a
 * typed array). Views (reshape, permute, select, ...) share storage and version counter with their base.
 */
export class Tensor {
  /**
   * @internal Shape, strides and (for host tensors) values. A device tensor's holds only its shape
   * and contiguous strides over an empty array: read it through `_nd`, which refuses device tensors.
   */
  _store: NdArray<Storage>;
  /** @internal The device memory of a tensor not on the cpu, else null. */
  _dev: DeviceStorage | null = null;
  /** @internal */ _requiresGrad = false;
  /** @internal */ _gradFn: Node | null = null;
  /** @internal */ _outputNr = 0;
  /** @internal */ _grad: Tensor | null = null;
  /** @internal */ _version: VersionCounter;
  /** @internal The tensor this one is a view of, if any. */ _base: Tensor | null = null;
  /** @internal */ _retainsGrad = false;
  /**
   * @internal Set once a gradient tensor is held outside the engine (a leaf's `.grad`, a user-given
   * gradient, an argument or result of a hook), so AccumulateGrad copies it instead of adopting it.
   */
  _claimedAsGrad = false;
  /** @internal */ _accumulator: Node | null = null;
  /** @internal An input a custom Function returned as-is: a view that must not be modified in place. */
  _customFnView = false;
  /** @internal */ _postAccumulateHooks: HookList<PostAccumulateGradHook> | null = null;

  /** Element type of the storage. */
  readonly dtype: DType;

  /** @internal Use `tensor()`, `zeros()` and friends to create tensors. */
  constructor(nd: NdArray<Storage>, dtype: DType, version?: VersionCounter) {
    this.dtype = dtype;
    this._store = nd;
    this._version = version ?? { value: 0 };
  }

  /**
   * @internal The host ndarray. Every CPU op reads values through here, so an op without a device
   * implementation fails with a clear message instead of reading the empty placeholder.
   */
  get _nd(): NdArray<Storage> {
    if (this._dev !== null) throw deviceAccessError(this);
    return this._store;
  }

  /** @internal Replaces the host ndarray (the tensor becomes a cpu tensor). */
  set _nd(nd: NdArray<Storage>) {
    this._store = nd;
    this._dev = null;
  }

  /** @internal A contiguous float32 tensor over device memory. */
  static _onDevice(storage: DeviceStorage, shape: readonly number[], version?: VersionCounter): Tensor {
    const t = new Tensor(ndarray(EMPTY, [...shape], contiguousStrides(shape), 0), 'float32', version);
    t._dev = storage;
    return t;
  }

  /** Where the values live: `'cpu'` or a registered device (`'gpujs-webgpu'`, ...). */
  get device(): string {
    return this._dev === null ? 'cpu' : this._dev.backend.name;
  }

  /** True unless the tensor lives on a device other than the cpu. */
  get is_cpu(): boolean {
    return this._dev === null;
  }

  /** @internal A new contiguous tensor over `storage`. */
  static _make(storage: Storage, shape: readonly number[], dtype: DType): Tensor {
    return new Tensor(ndarray(storage, [...shape], contiguousStrides(shape), 0), dtype);
  }

  /** @internal A new tensor of zeros. */
  static _zeros(shape: readonly number[], dtype: DType): Tensor {
    return Tensor._make(allocStorage(dtype, numelOf(shape)), shape, dtype);
  }

  // ---- shape ----------------------------------------------------------------------------------

  /** The sizes of each dimension (PyTorch's `torch.Size`, as a plain array). */
  get shape(): number[] {
    return this._store.shape.slice();
  }

  /** `size()` is the shape; `size(dim)` one size (negative dims count from the end). */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return this.shape;
    return this._store.shape[normalizeDim(dim, this.dim())]!;
  }

  /** Number of dimensions. */
  dim(): number {
    return this._store.shape.length;
  }

  /** Number of dimensions (alias of `dim()`). */
  get ndim(): number {
    return this.dim();
  }

  /** Total number of elements. */
  numel(): number {
    return numelOf(this._store.shape);
  }

  /** Storage step per dimension, in elements. */
  stride(): number[] {
    return this._store.stride.slice();
  }

  /** True when the elements lie in C order with no gaps. */
  is_contiguous(): boolean {
    const nd = this._store;
    const expected = contiguousStrides(nd.shape);
    return nd.shape.every((s, i) => s <= 1 || nd.stride[i] === expected[i]);
  }

  /** True for float32/float64. */
  is_floating_point(): boolean {
    return isFloatingPoint(this.dtype);
  }

  // ---- autograd state -------------------------------------------------------------------------

  /** Whether operations on this tensor are recorded (a leaf flag, or having a grad_fn). */
  get requires_grad(): boolean {
    return this._requiresGrad || this._gradFn !== null;
  }

  /** Same as `requires_grad_(flag)`. */
  set requires_grad(flag: boolean) {
    this.requires_grad_(flag);
  }

  /** Sets `requires_grad` in place on a leaf and returns the tensor. */
  requires_grad_(flag = true): this {
    if (this._gradFn !== null) {
      if (flag) return this;
      throw new Error(
        'you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a ' +
          'subgraph that doesn\'t require differentiation use var_no_grad = var.detach().',
      );
    }
    if (flag && !isFloatingPoint(this.dtype)) {
      throw new Error('only Tensors of floating point dtype can require gradients');
    }
    this._requiresGrad = flag;
    return this;
  }

  /** True for tensors created by the user (not by a recorded op): their `.grad` is populated by backward. */
  get is_leaf(): boolean {
    return this._gradFn === null;
  }

  /** The backward node that created this tensor, or null for leaves. */
  get grad_fn(): Node | null {
    return this._gradFn;
  }

  /** The index of this tensor among its grad_fn's outputs. */
  get output_nr(): number {
    return this._outputNr;
  }

  /** Whether `retain_grad()` was called on this non-leaf. */
  get retains_grad(): boolean {
    return this._retainsGrad;
  }

  /** The accumulated gradient (leaves, or tensors that called `retain_grad()`). */
  get grad(): Tensor | null {
    if (!this.is_leaf && !this._retainsGrad && this._grad === null) {
      warnOnce(
        'non-leaf-grad',
        'The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won\'t be ' +
          'populated during backward(). Use .retain_grad() on the non-leaf Tensor if you want its gradient.',
      );
    }
    return this._grad;
  }

  /** Replaces the accumulated gradient (same shape), or clears it with null. */
  set grad(g: Tensor | null) {
    if (g !== null && !sameShape(g.shape, this.shape)) {
      throw new Error(`assigned grad has data of a different size: ${formatShape(g.shape)} vs ${formatShape(this.shape)}`);
    }
    this._grad = g;
  }

  /** Keeps the gradient of a non-leaf in `.grad` during backward. */
  retain_grad(): void {
    if (this.is_leaf) return;
    if (!this.requires_grad) throw new Error("can't retain_grad on Tensor that has requires_grad=False");
    if (this._retainsGrad) return;
    this._retainsGrad = true;
    this._gradFn!.retainGradHooks.set(this._outputNr, (g) => {
      this._grad = this._grad === null ? detachedCopy(g) : addDetached(this._grad, g);
    });
  }

  /** A tensor sharing storage (and version counter) with no history. */
  detach(): Tensor {
    const t = new Tensor(this._store, this.dtype, this._version);
    t._dev = this._dev;
    t._base = this._base ?? null;
    return t;
  }

  /** Removes this tensor from the graph in place, making it a leaf. */
  detach_(): this {
    this._gradFn = null;
    this._outputNr = 0;
    this._requiresGrad = false;
    return this;
  }

  /** Like PyTorch's `.data`: same storage, no history, and (unlike `detach()`) its own version counter. */
  get data(): Tensor {
    const t = new Tensor(this._store, this.dtype);
    t._dev = this._dev;
    return t;
  }

  /** Swaps in another tensor's storage (possibly on another device), keeping this tensor's autograd identity. */
  set data(other: Tensor) {
    if (other.dtype !== this.dtype) throw new Error(`data set to a tensor of dtype ${other.dtype}, expected ${this.dtype}`);
    this._store = other._store;
    this._dev = other._dev;
  }

  // ---- hooks ----------------------------------------------------------------------------------

  /**
   * Registers `hook(grad)` to run when this tensor's gradient is computed; returning a tensor replaces
   * the gradient, returning nothing keeps it. On a leaf it runs before accumulation into `.grad`.
   */
  register_hook(hook: TensorHook): RemovableHandle {
    if (!this.requires_grad) throw new Error("cannot register a hook on a tensor that doesn't require gradient");
    if (this._gradFn) return this._gradFn.addTensorPreHook(this._outputNr, hook);
    return accumulatorOf(this).addTensorPreHook(0, hook);
  }

  /** Registers `hook(tensor)` on a leaf, run after its `.grad` has been accumulated. */
  register_post_accumulate_grad_hook(hook: PostAccumulateGradHook): RemovableHandle {
    if (!this.requires_grad) throw new Error("cannot register a hook on a tensor that doesn't require gradient");
    if (!this.is_leaf) throw new Error('post accumulate grad hooks cannot be registered on non-leaf tensors');
    this._postAccumulateHooks ??= new HookList<PostAccumulateGradHook>();
    return this._postAccumulateHooks.add(hook);
  }

  /** Computes gradients of this tensor w.r.t. graph leaves (`gradient` is required unless it has one element). */
  backward(gradient?: Tensor | null, opts: BackwardOptions = {}): void {
    const inputs = opts.inputs === undefined ? undefined : Array.isArray(opts.inputs) ? opts.inputs : [opts.inputs];
    runBackward([this], [gradient ?? null], {
      retainGraph: opts.retain_graph ?? opts.create_graph ?? false,
      createGraph: opts.create_graph ?? false,
      inputs,
      accumulate: true,
    });
  }

  // ---- data access ----------------------------------------------------------------------------

  /**
   * The values as a scijs ndarray sharing storage (PyTorch's `.numpy()`); index it with `.get(i, j)`
   * or `.pick(0)`. `t.data.numpy().pick(0)` is the analogue of `t.data.numpy()[0]`.
   */
  numpy(): NdArray<Storage> {
    if (this._dev !== null) throw hostOnly(this, 'numpy()');
    if (this.requires_grad) {
      throw new Error("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.");
    }
    return this._nd;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this._dev !== null) throw hostOnly(this, 'item()');
    if (this.numel() !== 1) {
      throw new Error(`a Tensor with ${this.numel()} elements cannot be converted to Scalar`);
    }
    // With one element every index is 0, so the value sits at the view's offset.
    return this._nd.data[this._nd.offset]!;
  }

  /** The values as (nested) plain arrays. */
  tolist(): number | NestedArray {
    if (this._dev !== null) throw hostOnly(this, 'tolist()');
    const nd = this._nd;
    if (nd.shape.length === 0) return nd.data[nd.offset]!;
    const rec = (dim: number, off: number): NestedArray => {
      const out: (number | NestedArray)[] = [];
      for (let i = 0; i < nd.shape[dim]!; i++) {
        const o = off + i * nd.stride[dim]!;
        out.push(dim === nd.shape.length - 1 ? nd.data[o]! : rec(dim + 1, o));
      }
      return out;
    };
    return rec(0, nd.offset);
  }

  /**
   * A cpu copy of a device tensor (the tensor itself when already on the cpu), detached from the
   * graph. ASYNCHRONOUS, unlike PyTorch's `.cpu()`: reading GPU memory back is (WebGPU's
   * `mapAsync`), so `await t.cpu()`; errors of any queued op that produced `t` surface here.
   */
  async cpu(): Promise<Tensor> {
    if (this._dev === null) return this;
    const values = await this._dev.backend.read(this._dev.buffer);
    return Tensor._make(values.length === this.numel() ? values : values.slice(0, this.numel()), this.shape, this.dtype);
  }

  /**
   * @internal The values in C order: the storage itself when already contiguous, else a fresh copy.
   * Callers must not write to the result unless they own the tensor.
   */
  _contiguousData(): Storage {
    const nd = this._nd;
    const n = this.numel();
    if (this.is_contiguous()) {
      return nd.offset === 0 && nd.data.length === n ? nd.data : nd.data.subarray(nd.offset, nd.offset + n);
    }
    const out = allocStorage(this.dtype, n);
    if (nd.shape.length === 0) out[0] = nd.data[nd.offset]!;
    else ops.assign(ndarray(out, nd.shape.slice()), nd);
    return out;
  }

  /** PyTorch-style printing. */
  toString(): string {
    return formatTensor(this);
  }
}

/** Nested arrays of numbers, as accepted by `tensor()` and returned by `tolist()`. */
export type NestedArray = (number | boolean | NestedArray)[];

/** The placeholder values of device tensors' shape-only ndarrays. */
const EMPTY = new Float32Array(0);

function hostOnly(t: Tensor, what: string): Error {
  return new Error(`can't call ${what} on a tensor on device '${t.device}': read it with \`await t.cpu()\` first (device readback is asynchronous)`);
}

function detachedCopy(g: Tensor): Tensor {
  if (g._dev !== null) return deviceCopy(g);
  return Tensor._make(g._contiguousData().slice(), g.shape, g.dtype);
}

function addDetached(a: Tensor, b: Tensor): Tensor {
  const onDevice = deviceArith('add', a, b);
  if (onDevice !== null) return onDevice;
  const x = a._contiguousData();
  const y = b._contiguousData();
  const out = allocStorage(a.dtype, x.length);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! + y[i]!;
  return Tensor._make(out, a.shape, a.dtype);
}

// Set by accumulate_grad.ts to break the import cycle (AccumulateGrad needs Tensor ops).
let makeAccumulator: ((t: Tensor) => Node) | null = null;

/** @internal */
export function setAccumulatorFactory(factory: (t: Tensor) => Node): void {
  makeAccumulator = factory;
}

/** @internal The cached AccumulateGrad node of a leaf that requires grad. */
export function accumulatorOf(t: Tensor): Node {
  t._accumulator ??= makeAccumulator!(t);
  return t._accumulator;
}
