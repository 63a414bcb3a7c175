import ndarray, { type NdArray } from 'ndarray';
import { allocStorage, dtypeOfStorage, type DType, type Storage } from '../dtype.ts';
import { fillNormal, fillUniform } from '../random.ts';
import { numelOf } from '../shape.ts';
import { Tensor, type NestedArray, type TensorOptions } from '../tensor.ts';

type TypedArrayInput = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;

/** Data accepted by `tensor()`: a number, nested arrays, or a typed array (1-D unless `shape` is given). */
export type TensorData = number | boolean | NestedArray | TypedArrayInput;

/** `tensor()` options: PyTorch's keyword arguments, plus `shape` to view a flat typed array. */
export interface TensorCreateOptions extends TensorOptions {
  /** View the data with this shape (its element count must match). */
  shape?: number[];
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}

function inferNested(data: NestedArray | number | boolean): { shape: number[]; flat: number[] } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw new Error('tensor(): nested arrays are ragged (too deep)');
      if (typeof v === 'boolean') flat.push(v ? 1 : 0);
      else if (typeof v === 'number') {
        flat.push(v);
      } else throw new TypeError(`tensor(): expected numbers, got ${typeof v}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new Error(`tensor(): expected sequence of length ${shape[depth]} at dim ${depth} (ragged nested arrays)`);
    }
    for (const item of v) walk(item, depth + 1);
  };
  walk(data, 0);
  return { shape, flat };
}

/**
 * Creates a tensor from data (copied). Nested arrays of numbers give float32 (PyTorch's default
 * float, also for integer literals here, since gradients are the point); booleans give bool.
 */
export function tensor(data: TensorData, opts: TensorCreateOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const dtype = opts.dtype ?? dtypeOfStorage(data);
    const shape = opts.shape ?? [data.length];
    if (numelOf(shape) !== data.length) throw new Error(`tensor(): shape [${shape}] does not match ${data.length} values`);
    const storage = allocStorage(dtype, data.length);
    storage.set(data);
    return finish(Tensor._make(storage, shape, dtype), opts);
  }
  const { shape, flat } = inferNested(data);
  const dtype = opts.dtype ?? (isBoolData(data) ? 'bool' : 'float32');
  const storage = allocStorage(dtype, flat.length);
  storage.set(flat);
  const target = opts.shape ?? shape;
  if (numelOf(target) !== flat.length) throw new Error(`tensor(): shape [${target}] does not match ${flat.length} values`);
  return finish(Tensor._make(storage, target, dtype), opts);
}

function isBoolData(data: unknown): boolean {
  let v = data;
  while (Array.isArray(v)) v = v[0];
  return typeof v === 'boolean';
}

/** Wraps a scijs ndarray as a tensor sharing its storage (`torch.from_numpy`). */
export function from_numpy(a: NdArray): Tensor {
  const data = a.data;
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Uint8Array) {
    return new Tensor(ndarray(data as Storage, a.shape.slice(), a.stride.slice(), a.offset), dtypeOfStorage(data));
  }
  // Other storages (plain arrays, int typed arrays) are copied into float32.
  const out = new Float32Array(numelOf(a.shape));
  const idx = new Array<number>(a.shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    out[i] = Number(a.get(...idx));
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < a.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return Tensor._make(out, a.shape, 'float32');
}

/** Sizes given either as varargs (`zeros(2, 3)`) or an array (`zeros([2, 3])`), optionally followed by options. */
export type SizeArgs = [number[], TensorOptions?] | number[] | [...number[], TensorOptions];

function parseSize(args: readonly unknown[]): [number[], TensorOptions] {
  let opts: TensorOptions = {};
  const list = [...args];
  const last = list[list.length - 1];
  if (last !== undefined && typeof last === 'object' && !Array.isArray(last)) {
    opts = last as TensorOptions;
    list.pop();
  }
  const shape = list.length === 1 && Array.isArray(list[0]) ? (list[0] as number[]) : (list as number[]);
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new Error(`Trying to create tensor with invalid size ${s}`);
  }
  return [[...shape], opts];
}

function filled(args: readonly unknown[], value: number | ((out: Float32Array | Float64Array) => void)): Tensor {
  const [shape, opts] = parseSize(args);
  const dtype = opts.dtype ?? 'float32';
  const storage = allocStorage(dtype, numelOf(shape));
  if (typeof value === 'number') {
    if (value !== 0) storage.fill(value);
  } else {
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`random fill is only implemented for floating point tensors, got ${dtype}`);
    value(storage as Float32Array | Float64Array);
  }
  return finish(Tensor._make(storage, shape, dtype), opts);
}

/** Zeros of the given size: `zeros(1, 7)` or `zeros([1, 7], {dtype})`. */
export function zeros(...args: SizeArgs): Tensor {
  return filled(args, 0);
}

/** Ones of the given size. */
export function ones(...args: SizeArgs): Tensor {
  return filled(args, 1);
}

/** Uninitialised in PyTorch; zero-filled here. */
export function empty(...args: SizeArgs): Tensor {
  return filled(args, 0);
}

/** Uniform [0, 1) values from the seeded generator (`manual_seed`). */
export function rand(...args: SizeArgs): Tensor {
  return filled(args, (out) => fillUniform(out, 0, 1));
}

/** Standard normal values from the seeded generator (`manual_seed`). */
export function randn(...args: SizeArgs): Tensor {
  return filled(args, (out) => fillNormal(out, 0, 1));
}

/** A tensor of `size` filled with `value`. */
export function full(size: number[], value: number, opts: TensorOptions = {}): Tensor {
  return filled([size, opts], value);
}

/** Zeros with the shape (and by default dtype) of `x`. */
export function zeros_like(x: Tensor, opts: TensorOptions = {}): Tensor {
  return zeros(x.shape, { dtype: x.dtype, ...opts });
}

/** Ones with the shape (and by default dtype) of `x`. */
export function ones_like(x: Tensor, opts: TensorOptions = {}): Tensor {
  return ones(x.shape, { dtype: x.dtype, ...opts });
}

/** `value` everywhere, with the shape (and by default dtype) of `x`. */
export function full_like(x: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  return full(x.shape, value, { dtype: x.dtype, ...opts });
}

/** Uniform [0, 1) values shaped like `x`. */
export function rand_like(x: Tensor, opts: TensorOptions = {}): Tensor {
  return rand(x.shape, { dtype: x.dtype, ...opts });
}

/** Standard normal values shaped like `x`. */
export function randn_like(x: Tensor, opts: TensorOptions = {}): Tensor {
  return randn(x.shape, { dtype: x.dtype, ...opts });
}

/** `arange(end)`, `arange(start, end, step?)`; integer arguments give int64, as PyTorch. */
export function arange(startOrEnd: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  const start = end === undefined ? 0 : startOrEnd;
  const stop = end === undefined ? startOrEnd : end;
  if (step === 0) throw new Error('arange: step must be nonzero');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const integral = [start, stop, step].every(Number.isInteger);
  const dtype: DType = opts.dtype ?? (integral ? 'int64' : 'float32');
  const storage = allocStorage(dtype, n);
  for (let i = 0; i < n; i++) storage[i] = start + i * step;
  return finish(Tensor._make(storage, [n], dtype), opts);
}

/** `n` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  const storage = allocStorage(dtype, steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) storage[i] = i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step;
  return finish(Tensor._make(storage, [steps], dtype), opts);
}

/** Identity matrix. */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const t = zeros([n, m], opts);
  for (let i = 0; i < Math.min(n, m); i++) t._nd.data[i * m + i] = 1;
  return t;
}

/**
 * `torch.FloatTensor(1, 7)` (sizes; zero-filled here, uninitialised in PyTorch) or
 * `torch.FloatTensor([[1, 2]])` (data). A float32 tensor either way.
 */
export function FloatTensor(...args: number[] | [NestedArray]): Tensor {
  if (args.length === 1 && Array.isArray(args[0])) return tensor(args[0], { dtype: 'float32' });
  return zeros(args as number[], { dtype: 'float32' });
}

/** `torch.DoubleTensor(...)`: like FloatTensor, float64. */
export function DoubleTensor(...args: number[] | [NestedArray]): Tensor {
  if (args.length === 1 && Array.isArray(args[0])) return tensor(args[0], { dtype: 'float64' });
  return zeros(args as number[], { dtype: 'float64' });
}

/** `torch.LongTensor(...)`: like FloatTensor, int64. */
export function LongTensor(...args: number[] | [NestedArray]): Tensor {
  if (args.length === 1 && Array.isArray(args[0])) return tensor(args[0], { dtype: 'int64' });
  return zeros(args as number[], { dtype: 'int64' });
}
