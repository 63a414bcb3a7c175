/**
 * Kernel registry. Backends register (possibly partial) kernel sets under a
 * name; `getKernels(name)` returns a complete set in which ops the backend
 * does not provide fall back to the CPU kernels (all kernels share the
 * Float32Array-in/Float32Array-out contract of `types.ts`).
 */
import type { KernelName, KernelSet } from './types.ts';
import { cpuKernels } from './cpu/index.ts';

const backends = new Map<string, Partial<KernelSet>>();
const resolved = new Map<string, KernelSet>();

/** Registers (or extends) a backend; later registrations override earlier ops. */
export function registerKernels(backendName: string, kernels: Partial<KernelSet>): void {
  if (backendName.length === 0) throw new TypeError('registerKernels: backend name must be non-empty');
  const prev = backends.get(backendName) ?? {};
  backends.set(backendName, { ...prev, ...kernels });
  resolved.clear();
}

/** Removes a backend (the 'cpu' backend cannot be removed). */
export function unregisterKernels(backendName: string): boolean {
  if (backendName === 'cpu') throw new Error("unregisterKernels: the 'cpu' backend is built in");
  resolved.clear();
  return backends.delete(backendName);
}

/** The complete kernel set of a backend, CPU kernels filling any gaps. */
export function getKernels(backendName = 'cpu'): KernelSet {
  const hit = resolved.get(backendName);
  if (hit !== undefined) return hit;
  const own = backends.get(backendName);
  if (own === undefined) {
    throw new Error(`getKernels: unknown backend '${backendName}' (registered: ${[...backends.keys()].join(', ')})`);
  }
  const cpu = backends.get('cpu') ?? cpuKernels;
  const set: KernelSet = { ...cpuKernels, ...cpu, ...own };
  resolved.set(backendName, set);
  return set;
}

/** Whether the backend itself (not the CPU fallback) provides an op. */
export function hasKernel(backendName: string, op: KernelName): boolean {
  return backends.get(backendName)?.[op] !== undefined;
}

export function registeredBackends(): string[] {
  return [...backends.keys()];
}

registerKernels('cpu', cpuKernels);
