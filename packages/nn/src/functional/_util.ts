import { Tensor } from '@gradlens/core';
import { getKernels } from '../kernels/registry.ts';
import type { KernelSet } from '../kernels/types.ts';

/** The active kernel backend (CPU unless another backend is selected with `set_backend`). */
let backendName = 'cpu';

/** Selects the kernel backend the layer Functions use (see `kernels/registry.ts`). */
export function set_backend(name: string): void {
  getKernels(name);
  backendName = name;
}

export function get_backend(): string {
  return backendName;
}

/**
 * The kernel set of `backend` (a module's backend, chosen with `module.to(device)`), or of the
 * global default (`set_backend`, 'cpu' unless changed) when none is given.
 */
export function kernels(backend?: string): KernelSet {
  return getKernels(backend ?? backendName);
}

/** The backend a Function call runs on: the given one (a module's), else the global default. */
export function resolveBackend(backend?: string | null): string {
  return backend ?? backendName;
}

/** The float32 values of `t` in C order (no copy when already contiguous). */
export function f32(t: Tensor, what: string): Float32Array {
  if (t.dtype !== 'float32') {
    throw new TypeError(`${what}: the CPU kernels are float32; got a ${t.dtype} tensor (use .float())`);
  }
  return t._contiguousData() as Float32Array;
}

/** A new float32 tensor over `data`. */
export function make(data: Float32Array | Float64Array, shape: number[]): Tensor {
  return Tensor._make(data, shape, data instanceof Float64Array ? 'float64' : 'float32');
}

/** `n` or `[a, b]` → `[a, b]`. */
export function pair(v: number | readonly number[], name = 'value'): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (v.length === 1) return [v[0]!, v[0]!];
  if (v.length !== 2) throw new Error(`${name} must be an int or a pair of ints, got [${v.join(', ')}]`);
  return [v[0]!, v[1]!];
}

export function checkDim(x: Tensor, dims: number[], what: string): void {
  if (!dims.includes(x.dim())) {
    throw new Error(`${what}: Expected ${dims.join('D or ')}D input, but got input of size: [${x.shape.join(', ')}]`);
  }
}

/** Floating storage of `t` (float32 or float64), contiguous. */
export function floatData(t: Tensor): Float32Array | Float64Array {
  if (!t.is_floating_point()) throw new TypeError(`expected a floating point tensor, got ${t.dtype}`);
  return t._contiguousData() as Float32Array | Float64Array;
}

export function allocLike(t: Tensor, n: number): Float32Array | Float64Array {
  return t.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}
