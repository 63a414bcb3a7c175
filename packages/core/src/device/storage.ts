import type { DeviceBackend, DeviceBuffer } from './backend.ts';

/**
 * One device buffer and how many storages hold it. Buffers are immutable once made (every op
 * writes a new one), so storages may share them freely; the last holder frees it.
 */
class BufferRef {
  private refs = 1;
  constructor(readonly backend: DeviceBackend, readonly buffer: DeviceBuffer, readonly mirror: Float32Array | null) {}
  retain(): this {
    this.refs++;
    return this;
  }
  drop(): void {
    if (--this.refs === 0) this.backend.release(this.buffer);
  }
}

/** What the finalizer needs (kept apart from the storage, which it must not reference). */
interface Cell {
  ref: BufferRef;
}

// Device memory has no owner JS would notify: a storage drops its buffer when it is garbage.
const finalizer = new FinalizationRegistry<Cell>((cell) => cell.ref.drop());

/** Host copies are kept for small uploads only (batch-norm statistics, biases): layers that fold them need the values synchronously. */
const MIRROR_LIMIT = 1 << 16;

/**
 * The device memory behind a tensor and its views (PyTorch's Storage, on a device): a binding to
 * an immutable buffer. An in-place op computes a new buffer and rebinds the storage to it, so
 * every view sees the new values while tensors saved for backward keep the old buffer.
 */
export class DeviceStorage {
  private readonly cell: Cell;

  private constructor(ref: BufferRef) {
    this.cell = { ref };
    finalizer.register(this, this.cell, this);
  }

  /** A storage owning a buffer the backend just made. */
  static of(backend: DeviceBackend, buffer: DeviceBuffer): DeviceStorage {
    return new DeviceStorage(new BufferRef(backend, buffer, null));
  }

  /** Uploads host values (small ones keep a host copy, see `hostMirror`). */
  static upload(backend: DeviceBackend, data: Float32Array): DeviceStorage {
    const mirror = data.length <= MIRROR_LIMIT ? data.slice() : null;
    return new DeviceStorage(new BufferRef(backend, backend.upload(data), mirror));
  }

  /** The device the buffer lives on. */
  get backend(): DeviceBackend {
    return this.cell.ref.backend;
  }

  /** The buffer this storage is bound to now. */
  get buffer(): DeviceBuffer {
    return this.cell.ref.buffer;
  }

  /** A second storage over the same (immutable) buffer. */
  share(): DeviceStorage {
    return new DeviceStorage(this.cell.ref.retain());
  }

  /** Binds this storage to `other`'s buffer (an in-place op's result). */
  rebind(other: DeviceStorage): void {
    const next = other.cell.ref;
    if (next.buffer.numel !== this.buffer.numel) {
      throw new Error(`DeviceStorage.rebind: ${next.buffer.numel} values for a storage of ${this.buffer.numel}`);
    }
    if (next === this.cell.ref) return;
    next.retain();
    this.cell.ref.drop();
    this.cell.ref = next;
  }

  /**
   * Drops this storage's hold on its buffer now instead of at garbage collection. Only for a
   * storage nothing else can reach (the temporary of an untracked in-place op).
   */
  dispose(): void {
    if (!finalizer.unregister(this)) return;
    this.cell.ref.drop();
  }

  /** The host values uploaded into this buffer, when small (no readback needed), else null. */
  hostMirror(): Float32Array | null {
    return this.cell.ref.mirror;
  }
}
