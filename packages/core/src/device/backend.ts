/**
 * Devices: where a tensor's values live. `'cpu'` is host memory (scijs ndarray storage); any other
 * device is a {@link DeviceBackend} registered by a package that owns the memory (gradlens nn
 * registers gpu.js's WebGPU device as `'gpujs-webgpu'`).
 *
 * Core knows nothing of GPUs: a backend gives it opaque buffers and a small set of float32
 * elementwise primitives, enough for autograd's own work (summing and accumulating gradients,
 * seeding backward) and for the pointwise ops hooks typically use (`clamp`, `add`, `mul`, ...).
 * Layers (conv, pooling, ...) are dispatched by the package that registered the device.
 *
 * Every method is SYNCHRONOUS except `read`: a backend enqueues work and returns a handle at once,
 * so define-by-run code (forward, backward, hooks) stays synchronous; only reading values back
 * (`await tensor.cpu()`) waits, because WebGPU's readback (`GPUBuffer.mapAsync`) is asynchronous.
 */

/** A backend's handle to one float32 buffer of `numel` values (opaque to core). */
export interface DeviceBuffer {
  /** Number of float32 values. */
  readonly numel: number;
}

/** Same-shape binary ops: out[i] = a[i] ∘ b[i]. */
export type DeviceBinaryOp = 'add' | 'sub' | 'mul' | 'div';

/** Tensor-scalar ops: out[i] = x[i] ∘ s ('rsub': s − x[i], 'rdiv': s / x[i]). */
export type DeviceScalarOp = 'add' | 'mul' | 'rsub' | 'div' | 'rdiv';

/**
 * A device's memory and primitives. Buffers are float32 and C-contiguous; every op returns a new
 * buffer (core never writes into a buffer it did not just create). NaN semantics follow the CPU
 * ops: `clamp` and `relu` pass NaN through.
 */
export interface DeviceBackend {
  /** The device name tensors report (`tensor.device`), e.g. `'gpujs-webgpu'`. */
  readonly name: string;
  /** One line about the hardware (adapter), for messages and `--verbose`. */
  describe(): string;
  /** Copies host values to a new buffer (the array is snapshotted during the call). */
  upload(data: Float32Array): DeviceBuffer;
  /** A new buffer of `numel` copies of `value`. */
  fill(numel: number, value: number): DeviceBuffer;
  /** A copy of `x`. */
  copy(x: DeviceBuffer): DeviceBuffer;
  /** Reads a buffer back into a new array: the one asynchronous call. */
  read(x: DeviceBuffer): Promise<Float32Array>;
  /** Frees a buffer once the work already enqueued on it is done (called when its tensors are garbage). */
  release(x: DeviceBuffer): void;
  /** a ∘ b elementwise (same size). */
  binary(op: DeviceBinaryOp, a: DeviceBuffer, b: DeviceBuffer): DeviceBuffer;
  /** x ∘ s elementwise. */
  scalar(op: DeviceScalarOp, x: DeviceBuffer, s: number): DeviceBuffer;
  /** −x. */
  neg(x: DeviceBuffer): DeviceBuffer;
  /** max(x, 0), NaN kept. */
  relu(x: DeviceBuffer): DeviceBuffer;
  /** clamp into [lo, hi] (null: unbounded), NaN kept. */
  clamp(x: DeviceBuffer, lo: number | null, hi: number | null): DeviceBuffer;
  /**
   * The backward mask of clamp/relu: g[i] where lo ≤ x[i] ≤ hi (`inclusive`), or where x[i] > lo
   * (not inclusive; `hi` ignored); else 0.
   */
  mask(x: DeviceBuffer, g: DeviceBuffer, lo: number, hi: number, inclusive: boolean): DeviceBuffer;
}

const devices = new Map<string, DeviceBackend>();

/**
 * Registers a device so tensors can move there with `tensor.to(name)`. Registering a name again
 * replaces the backend (tensors already on the old one keep it).
 */
export function register_device(backend: DeviceBackend): void {
  if (backend.name === 'cpu' || backend.name.length === 0) throw new Error(`register_device: invalid device name '${backend.name}'`);
  devices.set(backend.name, backend);
}

/** Removes a registered device; returns whether it was registered. */
export function unregister_device(name: string): boolean {
  return devices.delete(name);
}

/** The registered backend of a device name, or null (`'cpu'` and unknown names). */
export function get_device(name: string): DeviceBackend | null {
  return devices.get(name) ?? null;
}

/** Names of every device tensors can move to: `'cpu'` first, then the registered ones. */
export function available_devices(): string[] {
  return ['cpu', ...devices.keys()];
}
