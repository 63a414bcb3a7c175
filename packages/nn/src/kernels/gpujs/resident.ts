/**
 * A {@link GpuDevice} as a core device: tensors moved there with `tensor.to(name)` / `model.to(name)`
 * keep their values in gpu.js buffers, core's pointwise ops and autograd's own work (summing and
 * accumulating gradients) run as gpu.js kernels, and nn's layers dispatch to the device's ops. A
 * whole forward + backward pass stays on the device; only `await t.cpu()` reads back.
 */
import * as torch from '@gradlens/core';
import type { DeviceBackend, DeviceBinaryOp, DeviceBuffer, DeviceScalarOp } from '@gradlens/core';
import type { DeviceTensor, GpuDevice, GpuDeviceOptions } from './device.ts';
import { formatAdapter } from './runtime.ts';

/** A core buffer: one owned device tensor (its shape is whatever the op that made it produced). */
export class ResidentBuffer implements DeviceBuffer {
  constructor(readonly handle: DeviceTensor) {}
  get numel(): number {
    return this.handle.size;
  }
}

function h(b: DeviceBuffer): DeviceTensor {
  return (b as ResidentBuffer).handle;
}

export class GpujsResidentDevice implements DeviceBackend {
  constructor(
    readonly name: string,
    /** The gpu.js device the buffers live on (nn's layers call its ops directly). */
    readonly gpu: GpuDevice,
  ) {}

  describe(): string {
    return this.gpu.adapter !== null ? `gpu.js webgpu on ${formatAdapter(this.gpu.adapter)}` : `gpu.js ${this.gpu.mode}`;
  }

  /** A handle on `b` viewed as `shape` (no copy; the buffer keeps its owner). */
  view(b: DeviceBuffer, shape: readonly number[]): DeviceTensor {
    const t = h(b);
    return t.shape.length === shape.length && t.shape.every((s, i) => s === shape[i]) ? t : this.gpu.alias(t, shape);
  }

  private flat(b: DeviceBuffer): DeviceTensor {
    return this.view(b, [b.numel]);
  }

  private own(t: DeviceTensor): ResidentBuffer {
    return new ResidentBuffer(t);
  }

  upload(data: Float32Array): DeviceBuffer {
    return this.own(this.gpu.upload(data, [data.length]));
  }

  fill(numel: number, value: number): DeviceBuffer {
    return this.own(this.gpu.fill([numel], value));
  }

  copy(x: DeviceBuffer): DeviceBuffer {
    return this.own(this.gpu.copy(h(x)));
  }

  read(x: DeviceBuffer): Promise<Float32Array> {
    return this.gpu.read(h(x));
  }

  release(x: DeviceBuffer): void {
    h(x).dispose();
  }

  binary(op: DeviceBinaryOp, a: DeviceBuffer, b: DeviceBuffer): DeviceBuffer {
    const x = this.flat(a), y = this.flat(b);
    const g = this.gpu;
    return this.own(op === 'add' ? g.add(x, y) : op === 'sub' ? g.sub(x, y) : op === 'mul' ? g.mul(x, y) : g.div(x, y));
  }

  scalar(op: DeviceScalarOp, x: DeviceBuffer, s: number): DeviceBuffer {
    return this.own(this.gpu.scalarOp(op, this.flat(x), s));
  }

  neg(x: DeviceBuffer): DeviceBuffer {
    return this.own(this.gpu.neg(this.flat(x)));
  }

  relu(x: DeviceBuffer): DeviceBuffer {
    return this.own(this.gpu.relu(this.flat(x)));
  }

  clamp(x: DeviceBuffer, lo: number | null, hi: number | null): DeviceBuffer {
    return this.own(this.gpu.clamp(this.flat(x), lo, hi));
  }

  mask(x: DeviceBuffer, g: DeviceBuffer, lo: number, hi: number, inclusive: boolean): DeviceBuffer {
    return this.own(this.gpu.mask(this.flat(x), this.flat(g), lo, hi, inclusive));
  }
}

/**
 * Creates (once) the gpu.js device `name` in `mode` and registers it with core, so that
 * `tensor.to(name)` and `model.to(name)` work. Async: WebGPU's adapter and device requests are.
 * Fails with the reason when there is no WebGPU adapter.
 */
export async function openResidentDevice(name: string, opts: GpuDeviceOptions): Promise<GpujsResidentDevice> {
  const existing = torch.get_device(name);
  if (existing instanceof GpujsResidentDevice) return existing;
  const { GpuDevice } = await import('./device.ts');
  const dev = new GpujsResidentDevice(name, await GpuDevice.create(opts));
  torch.register_device(dev);
  return dev;
}
