/**
 * Device (kernel backend) names for `Module.to(device)`: validation, and `resolve_device` /
 * `select_device`, which load optional backends and resolve `'auto'` (asynchronous: `auto`
 * probes WebGPU, and gpu.js is loaded on demand).
 */
import { registeredBackends } from '../kernels/registry.ts';
import type { AdapterDescription } from '../kernels/gpujs/runtime.ts';

/** A device name: a registered kernel backend (`'cpu'`, `'gpujs-webasm'`, ...) or `'auto'` (for `resolve_device`). */
export type Device = 'cpu' | 'gpujs-webasm' | 'auto' | (string & {});

/** Which backend `select_device` chose, on which adapter, and why. */
export interface DeviceSelection {
  /** The concrete backend name, ready for `module.to(...)`. */
  device: string;
  /** The WebGPU adapter `auto` found (chosen or rejected), else null. */
  adapter: AdapterDescription | null;
  /** The adapter in words (`formatAdapter`), or null. */
  adapter_name: string | null;
  /** One line saying why (printed by `gbp --verbose`). */
  reason: string;
}

/** Backends loaded on demand by `resolve_device` (not registered until imported). */
const LOADABLE: Record<string, () => Promise<unknown>> = {
  'gpujs-webasm': () => import('../kernels/gpujs/host.ts'),
};

function unknownDevice(where: string, device: string): Error {
  const loadable = Object.keys(LOADABLE).filter((n) => !registeredBackends().includes(n));
  const hint = loadable.length > 0 ? `; ${loadable.map((n) => `'${n}'`).join(', ')} and 'auto' are available through \`await nn.resolve_device(name)\`` : '';
  return new Error(`${where}: unknown device '${device}' (registered backends: ${registeredBackends().join(', ')}${hint})`);
}

/** Throws a clear error unless `device` is a registered backend (`'auto'` must be resolved first). */
export function check_device(device: string, where = 'Module.to'): string {
  if (typeof device !== 'string') throw new TypeError(`${where}: device must be a string, got ${typeof device}`);
  if (device === 'auto') {
    throw new Error(`${where}('auto'): 'auto' is resolved asynchronously (it probes WebGPU); use \`model.to(await nn.resolve_device('auto'))\``);
  }
  if (!registeredBackends().includes(device)) throw unknownDevice(where, device);
  return device;
}

/**
 * Resolves a device name to a registered backend, loading it if needed (`'gpujs-webasm'`), and
 * `'auto'` with `selectBackend()` (never a software adapter). Says what it chose and why.
 */
export async function select_device(device: Device = 'auto'): Promise<DeviceSelection> {
  if (device === 'auto') {
    const { selectBackend } = await import('../kernels/gpujs/auto.ts');
    const { formatAdapter } = await import('../kernels/gpujs/runtime.ts');
    const sel = await selectBackend();
    let backend: string = sel.backend;
    let reason = sel.reason;
    if (backend === 'gpujs-webgpu' && !registeredBackends().includes(backend)) {
      // WebGPU readback is asynchronous: it is the GpuDevice API, not a backend for module ops
      reason = `${reason}; gpujs-webgpu kernels are asynchronous (GpuDevice), module ops need synchronous kernels → cpu`;
      backend = 'cpu';
    }
    if (!registeredBackends().includes(backend)) await LOADABLE[backend]?.();
    const adapter_name = sel.adapter === null ? null : formatAdapter(sel.adapter);
    return { device: check_device(backend, 'resolve_device'), adapter: sel.adapter, adapter_name, reason };
  }
  if (typeof device === 'string' && !registeredBackends().includes(device) && LOADABLE[device] !== undefined) await LOADABLE[device]();
  return { device: check_device(device, 'resolve_device'), adapter: null, adapter_name: null, reason: 'requested' };
}

/** `await nn.resolve_device('auto')` → the concrete backend name for `module.to(...)`. */
export async function resolve_device(device: Device = 'auto'): Promise<string> {
  return (await select_device(device)).device;
}
