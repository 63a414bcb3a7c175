/** One compiled gpu.js kernel per (op, output grid, constants); shared helpers. */
import { SRC } from './sources.ts';
import type { KernelOp } from './sources.ts';
import type { GpuJsInstance, GpuJsKernel } from './runtime.ts';

/** gpu.js computes flat indices in f32: every tensor must stay below 2^24 elements. */
export const MAX_ELEMENTS = 1 << 24;

export type Constants = Record<string, number>;

export class KernelCache {
  private readonly kernels = new Map<string, GpuJsKernel>();

  constructor(
    private readonly gpu: GpuJsInstance,
    private readonly settings: Record<string, unknown>,
  ) {}

  get(op: KernelOp, output: readonly number[], constants: Constants): GpuJsKernel {
    const key = `${op}|${output.join(',')}|${JSON.stringify(constants)}`;
    let k = this.kernels.get(key);
    if (k === undefined) {
      k = this.gpu.createKernel(SRC[op], {
        ...this.settings,
        output: [...output],
        constants: { ...constants },
        precision: 'single',
      });
      this.kernels.set(key, k);
    }
    return k;
  }

  get size(): number {
    return this.kernels.size;
  }

  clear(): void {
    for (const k of this.kernels.values()) {
      try {
        k.destroy?.();
      } catch {
        // a kernel that never built has nothing to release
      }
    }
    this.kernels.clear();
  }
}

/**
 * gpu.js returns a 1-D result as a Float32Array and 2-/3-D results as nested
 * arrays of row views over ONE fresh buffer (webasm: `slice` of its memory;
 * webgpu: the mapped staging copy). Returns a flat view of that buffer when it
 * is contiguous, else a copy.
 */
export function flatResult(r: unknown, size: number): Float32Array {
  if (r instanceof Float32Array) return r.length === size ? r : r.subarray(0, size);
  let leaf: unknown = r;
  while (Array.isArray(leaf)) leaf = leaf[0];
  if (leaf instanceof Float32Array && leaf.buffer.byteLength - leaf.byteOffset >= size * 4) {
    const view = new Float32Array(leaf.buffer, leaf.byteOffset, size);
    // verify contiguity cheaply on the last row
    let last: unknown = r;
    while (Array.isArray(last)) last = last[last.length - 1];
    if (last instanceof Float32Array && last.buffer === leaf.buffer && last.byteOffset + last.byteLength === leaf.byteOffset + size * 4) {
      return view;
    }
  }
  const out = new Float32Array(size);
  let o = 0;
  const walk = (v: unknown): void => {
    if (v instanceof Float32Array) {
      out.set(v, o);
      o += v.length;
    } else if (Array.isArray(v)) {
      for (const e of v) walk(e);
    } else {
      throw new TypeError('gpu.js returned an unexpected result');
    }
  };
  walk(r);
  if (o !== size) throw new Error(`gpu.js result has ${o} values, expected ${size}`);
  return out;
}

export function checkSize(what: string, n: number): void {
  if (n >= MAX_ELEMENTS) {
    throw new RangeError(`gpujs: ${what} has ${n} elements; the gpu.js kernels index in f32 and need fewer than 2^24`);
  }
}
