/**
 * Device (kernel backend) names for `Module.to(device)`: validation, and `resolve_device` /
 * `select_device`, which load optional backends and resolve `'auto'` (asynchronous: `auto`
 * probes WebGPU, and gpu.js is loaded on demand).
 */
import * as torch from '@gradlens/core';
import { registeredBackends } from '../kernels/registry.ts';
import type { AdapterDescription } from '../kernels/gpujs/runtime.ts';
import { GpujsResidentDevice } from '../kernels/gpujs/resident.ts';

/**
 * A device name: a kernel backend over host memory (`'cpu'`, `'gpujs-webasm'`), a memory device
 * whose tensors live there (`'gpujs-webgpu'`: `tensor.to(...)`, values read with `await t.cpu()`),
 * or `'auto'` (for `resolve_device`).
 */
export type Device = 'cpu' | 'gpujs-webasm' | 'gpujs-webgpu' | 'auto' | (string & {});

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
  /** True for a memory device: tensors must move there (`tensor.to(device)`) and are read back with `await t.cpu()`. */
  resident: boolean;
}

/** Backends loaded on demand by `resolve_device` (not registered until imported). */
const LOADABLE: Record<string, () => Promise<unknown>> = {
  'gpujs-webasm': () => import('../kernels/gpujs/host.ts'),
  'gpujs-webgpu': async () => (await import('../kernels/gpujs/resident.ts')).openResidentDevice('gpujs-webgpu', { mode: 'webgpu' }),
};

/** Registered kernel backends and memory devices. */
function knownDevices(): string[] {
  return [...registeredBackends(), ...torch.available_devices().filter((d) => d !== 'cpu')];
}

function unknownDevice(where: string, device: string): Error {
  const loadable = Object.keys(LOADABLE).filter((n) => !knownDevices().includes(n));
  const hint = loadable.length > 0 ? `; ${loadable.map((n) => `'${n}'`).join(', ')} and 'auto' are available through \`await nn.resolve_device(name)\`` : '';
  return new Error(`${where}: unknown device '${device}' (registered: ${knownDevices().join(', ')}${hint})`);
}

/** Throws a clear error unless `device` is a registered backend (`'auto'` must be resolved first). */
export function check_device(device: string, where = 'Module.to'): string {
  if (typeof device !== 'string') throw new TypeError(`${where}: device must be a string, got ${typeof device}`);
  if (device === 'auto') {
    throw new Error(`${where}('auto'): 'auto' is resolved asynchronously (it probes WebGPU); use \`model.to(await nn.resolve_device('auto'))\``);
  }
  if (!knownDevices().includes(device)) throw unknownDevice(where, device);
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
    if (!knownDevices().includes(backend)) {
      try {
        await LOADABLE[backend]?.();
      } catch (e) {
        reason = `${reason}; ${backend} failed to open (${(e as Error).message}) → cpu`;
        backend = 'cpu';
      }
    }
    const adapter_name = sel.adapter === null ? null : formatAdapter(sel.adapter);
    const chosen = check_device(backend, 'resolve_device');
    return { device: chosen, adapter: sel.adapter, adapter_name, reason, resident: torch.get_device(chosen) !== null };
  }
  if (typeof device === 'string' && !knownDevices().includes(device) && LOADABLE[device] !== undefined) await LOADABLE[device]();
  const chosen = check_device(device, 'resolve_device');
  const resident = torch.get_device(chosen);
  const adapter = resident instanceof GpujsResidentDevice ? resident.gpu.adapter : null;
  return { device: chosen, adapter, adapter_name: resident?.describe() ?? null, reason: 'requested', resident: resident !== null };
}

/** `await nn.resolve_device('auto')` → the concrete backend name for `module.to(...)`. */
export async function resolve_device(device: Device = 'auto'): Promise<string> {
  return (await select_device(device)).device;
}
