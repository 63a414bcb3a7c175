/**
 * Layer dispatch for device-resident tensors (`tensor.to('gpujs-webgpu')`): which device a layer's
 * operands live on, shaped handles on their buffers, and wrapping a device op's result as a tensor.
 */
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import type { DeviceTensor } from '../kernels/gpujs/device.ts';
import { GpujsResidentDevice, ResidentBuffer } from '../kernels/gpujs/resident.ts';

/**
 * The gpu.js device every (non-null) operand lives on, or null when all are on the cpu. Throws
 * for mixed devices and for devices whose layers nn cannot run.
 */
export function residentOf(op: string, ...ts: readonly (Tensor | null | undefined)[]): GpujsResidentDevice | null {
  const be = torch._common_device(ts, false);
  if (be === null) return null;
  if (!(be instanceof GpujsResidentDevice)) throw new Error(`${op}: not implemented on device '${be.name}'`);
  for (const t of ts) if (t && t.dtype !== 'float32') throw new Error(`${op}: device tensors are float32, got ${t.dtype}`);
  return be;
}

/** A handle on `t`'s buffer with `t`'s shape (or `shape`). */
export function handle(t: Tensor, shape: readonly number[] = t.shape): DeviceTensor {
  const d = t._dev;
  if (d === null) throw new Error('handle: not a device tensor');
  return (d.backend as GpujsResidentDevice).view(d.buffer, shape);
}

/** A new tensor owning a device op's result (viewed as `shape`, same size, when given). */
export function wrap(dev: GpujsResidentDevice, out: DeviceTensor, shape: readonly number[] = out.shape): Tensor {
  return torch._device_tensor(dev, new ResidentBuffer(out), shape);
}

/**
 * Host values of a small device tensor (batch-norm statistics): the copy kept at upload, since
 * reading device memory is asynchronous. Null when the tensor is on the cpu.
 */
export function hostValues(t: Tensor, what: string): Float32Array | null {
  if (t._dev === null) return null;
  const m = t._dev.hostMirror();
  if (m === null) {
    throw new Error(`${what}: its values are needed on the host, but this device tensor has no host copy (it was computed or modified on '${t.device}', or is larger than 65536 values)`);
  }
  return m;
}
