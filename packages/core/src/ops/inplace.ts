import ndarray from 'ndarray';
import { allocStorage } from '../dtype.ts';
import { is_grad_enabled, no_grad } from '../grad_mode.ts';
import { fillNormal, fillUniform } from '../random.ts';
import { Tensor } from '../tensor.ts';
import { addInto, asTensor, denseData, mapInPlace, reluInto, writeStrided, type TensorLike } from './elementwise.ts';
import { formatShape, sameShape } from '../shape.ts';
import { index, type IndexItem } from './getitem.ts';
import { add, clamp, div, mul, relu, sub, type AlphaOptions, type ClampOptions } from './pointwise.ts';
import { expand } from './view.ts';

function checkLeaf(self: Tensor): void {
  if (!is_grad_enabled()) return;
  if (self._customFnView && self._gradFn !== null) {
    throw new Error(
      `Output ${self._outputNr} of ${self._gradFn.name()} is a view and is being modified inplace. This view was ` +
        'created inside a custom Function (or because an input was returned as-is) and the autograd logic to handle ' +
        'view+inplace would override the custom backward associated with the custom Function, leading to incorrect ' +
        'gradients. This behavior is forbidden. You can fix this by cloning the output of the custom Function.',
    );
  }
  if (self.is_leaf && self._requiresGrad) {
    throw new Error('a leaf Variable that requires grad is being used in an in-place operation.');
  }
  // Only a view that is itself part of the graph: `x[0:1].detach().zero_()` is allowed, as in PyTorch.
  if (self._base && self.requires_grad && self._base.is_leaf && self._base._requiresGrad) {
    throw new Error('a view of a leaf Variable that requires grad is being used in an in-place operation.');
  }
}

/**
 * Runs an in-place op. Without autograd it writes straight into storage. With autograd, the old
 * values move to a hidden tensor that keeps the old history, the out-of-place op is recorded on it,
 * and `self` takes the new grad_fn: PyTorch's "rebase history". The version bump makes any node that
 * saved `self` fail loudly at backward.
 */
function inplace(
  self: Tensor,
  operands: (Tensor | null)[],
  recorded: (old: Tensor) => Tensor,
  raw: () => void,
  /** False when `recorded` neither saves `old` nor reads it after returning: `old` may then alias self's storage (no copy). */
  keepsOld = true,
): Tensor {
  checkLeaf(self);
  const tracking = is_grad_enabled() && (self.requires_grad || operands.some((t) => t?.requires_grad));
  if (self._dev !== null) return inplaceOnDevice(self, recorded, tracking);
  if (!tracking) {
    raw();
    self._version.value++;
    return self;
  }
  if (self._base) {
    throw new Error('in-place operations on views of tensors that require grad are not supported in gradlens; use the out-of-place op');
  }
  const old = keepsOld
    ? new Tensor(ndarray(self._contiguousData().slice(), self.shape), self.dtype)
    : new Tensor(ndarray(self._nd.data, self.shape, self.stride(), self._nd.offset), self.dtype);
  old._gradFn = self._gradFn;
  old._outputNr = self._outputNr;
  const res = recorded(old);
  writeStrided(self, res._contiguousData());
  self._version.value++;
  self._gradFn = res._gradFn;
  self._outputNr = res._outputNr;
  return self;
}

/**
 * The device form of `inplace`: device buffers are immutable, so the out-of-place op runs on a
 * tensor holding the old buffer and `self`'s storage (shared by its views) is rebound to the result.
 * Tensors saved for backward keep the old buffer; the version bump still flags them as stale.
 */
function inplaceOnDevice(self: Tensor, recorded: (old: Tensor) => Tensor, tracking: boolean): Tensor {
  if (tracking && self._base) {
    throw new Error('in-place operations on views of tensors that require grad are not supported in gradlens; use the out-of-place op');
  }
  const storage = self._dev!;
  const old = Tensor._onDevice(storage.share(), self.shape);
  if (tracking) {
    old._gradFn = self._gradFn;
    old._outputNr = self._outputNr;
  }
  const res = tracking ? recorded(old) : no_grad(() => recorded(old));
  if (res._dev === null || res.dtype !== self.dtype) throw new Error(`in-place op on a '${self.device}' tensor produced a ${res.device} ${res.dtype} result`);
  storage.rebind(res._dev);
  // untracked: nothing saved the temporaries, so their buffers can go now rather than at GC
  if (!tracking) {
    old._dev!.dispose();
    res._dev.dispose();
  }
  self._version.value++;
  if (tracking) {
    self._gradFn = res._gradFn;
    self._outputNr = res._outputNr;
  }
  return self;
}

/** Fills with zeros in place. */
export function zero_(self: Tensor): Tensor {
  return fill_(self, 0);
}

/** Fills with `value` in place. */
export function fill_(self: Tensor, value: number): Tensor {
  return inplace(self, [], (old) => add(mul(old, 0), value), () => mapInPlace(self, null, () => value));
}

/** self += alpha·other in place. */
export function add_(self: Tensor, other: TensorLike, opts: AlphaOptions = {}): Tensor {
  const alpha = opts.alpha ?? 1;
  const o = asTensor(other, self.dtype);
  // add(old, o) saves nothing: `old` need not be a copy.
  return inplace(self, [o], (old) => add(old, o, opts), () => {
    if (!addInPlaceDense(self, o, alpha)) mapInPlace(self, o, (x, y) => x + alpha * y);
  }, false);
}

/** self −= alpha·other in place. */
export function sub_(self: Tensor, other: TensorLike, opts: AlphaOptions = {}): Tensor {
  const alpha = opts.alpha ?? 1;
  const o = asTensor(other, self.dtype);
  return inplace(self, [o], (old) => sub(old, o, opts), () => {
    if (!addInPlaceDense(self, o, -alpha)) mapInPlace(self, o, (x, y) => x - alpha * y);
  }, false);
}

/** self *= other in place. */
export function mul_(self: Tensor, other: TensorLike): Tensor {
  const o = asTensor(other, self.dtype);
  return inplace(self, [o], (old) => mul(old, o), () => mapInPlace(self, o, (x, y) => x * y));
}

/** self /= other in place. */
export function div_(self: Tensor, other: TensorLike): Tensor {
  const o = asTensor(other, self.dtype);
  return inplace(self, [o], (old) => div(old, o), () => mapInPlace(self, o, (x, y) => x / y));
}

/** Clamps in place. */
export function clamp_(self: Tensor, opts: ClampOptions): Tensor {
  return inplace(self, [], (old) => clamp(old, opts), () => {
    const r = no_grad(() => clamp(self, opts));
    writeStrided(self, r._contiguousData());
  });
}

/** ReLU in place (`nn.ReLU(inplace=True)`). */
export function relu_(self: Tensor): Tensor {
  // relu(old) saves its own output, not `old`: `old` need not be a copy.
  return inplace(self, [], (old) => relu(old), () => {
    const d = denseData(self);
    if (d) reluInto(d, d);
    else mapInPlace(self, null, (x) => (x > 0 || Number.isNaN(x) ? x : 0));
  }, false);
}

/** self += alpha·o as one closure-free loop when both are contiguous, of one shape and dtype; false otherwise. */
function addInPlaceDense(self: Tensor, o: Tensor, alpha: number): boolean {
  if (self.dtype !== o.dtype || !sameShape(self._nd.shape, o._nd.shape)) return false;
  const x = denseData(self);
  const y = x && denseData(o);
  if (!x || !y) return false;
  addInto(x, y, alpha, x);
  return true;
}

/** Copies `src` (broadcast) into self. */
export function copy_(self: Tensor, src: TensorLike): Tensor {
  const s = asTensor(src, self.dtype);
  const shape = self.shape;
  if (self._dev !== null) return copyToDevice(self, s);
  return inplace(
    self,
    [s],
    (old) => add(mul(old, 0), expand(s.to(self.dtype), shape)),
    () => {
      // Same shape and dtype, both contiguous: one block copy (load_state_dict's path).
      const d = s.dtype === self.dtype && sameShape(s._nd.shape, self._nd.shape) ? denseData(self) : null;
      const v = d && denseData(s);
      if (d && v) d.set(v);
      else mapInPlace(self, s, (_x, y) => y);
    },
  );
}

/**
 * `copy_` into a device tensor (load_state_dict after `model.to(device)`): the values are uploaded
 * (or, from the same device, shared: buffers are immutable) and the storage rebound to them.
 */
function copyToDevice(self: Tensor, s: Tensor): Tensor {
  if (!sameShape(s.shape, self.shape)) {
    throw new Error(`copy_: broadcasting ${formatShape(s.shape)} into ${formatShape(self.shape)} is not implemented on device '${self.device}'`);
  }
  const moved = s._dev !== null ? s : s.float().to(self.device);
  checkLeaf(self);
  if (is_grad_enabled() && (self.requires_grad || s.requires_grad)) {
    // recorded like the cpu's copy_: the result depends on `s` only
    return inplace(self, [s], (old) => add(mul(old, 0), moved), () => {});
  }
  if (moved._dev!.backend !== self._dev!.backend) throw new Error(`copy_: from device '${moved.device}' to '${self.device}' is not supported`);
  self._dev!.rebind(moved._dev!);
  self._version.value++;
  return self;
}

/**
 * Python's `x[items] = value` (e.g. `one_hot.setitem([0, k], 1)` for `one_hot[0][k] = 1`).
 * Writes through a view into the storage, bumping the version counter.
 */
export function setitem(self: Tensor, items: IndexItem | IndexItem[], value: TensorLike): Tensor {
  const list = Array.isArray(items) ? items : [items];
  checkLeaf(self);
  const v = asTensor(value, self.dtype);
  if (is_grad_enabled() && (self.requires_grad || v.requires_grad)) {
    throw new Error('setitem on tensors that require grad is not supported in gradlens; build the tensor with where/cat or under no_grad');
  }
  const target = no_grad(() => index(self, ...list));
  mapInPlace(target, v, (_x, y) => y);
  self._version.value++;
  return self;
}

/** Fills with U(from, to) values from the seeded generator. */
export function uniform_(self: Tensor, from = 0, to = 1): Tensor {
  return fillRandom(self, (out) => fillUniform(out, from, to));
}

/** Fills with N(mean, std²) values from the seeded generator. */
export function normal_(self: Tensor, mean = 0, std = 1): Tensor {
  return fillRandom(self, (out) => fillNormal(out, mean, std));
}

function fillRandom(self: Tensor, fill: (out: Float32Array | Float64Array) => void): Tensor {
  checkLeaf(self);
  if (!self.is_floating_point()) throw new Error(`random fill is only implemented for floating point tensors, got ${self.dtype}`);
  if (self.is_contiguous()) {
    fill(self._contiguousData() as Float32Array | Float64Array);
  } else {
    const values = allocStorage(self.dtype, self.numel()) as Float32Array | Float64Array;
    fill(values);
    writeStrided(self, values);
  }
  self._version.value++;
  return self;
}
