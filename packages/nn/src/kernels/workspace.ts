/**
 * Reusable scratch buffers for kernels. Each named slot holds one buffer
 * that only grows (rounded up to limit re-growth), so steady-state kernel
 * calls allocate nothing. Kernels are synchronous and use distinct slots,
 * so nested kernel calls (conv → sgemm) never share a buffer.
 */
export class Workspace {
  private readonly f32s = new Map<string, Float32Array>();
  private readonly f64s = new Map<string, Float64Array>();

  private static round(n: number): number {
    // grow in steps of 1/8 of the next power of two
    if (n <= 1024) return 1024;
    const p = 2 ** Math.floor(Math.log2(n));
    const step = p / 8;
    return Math.ceil(n / step) * step;
  }

  f32(slot: string, size: number): Float32Array {
    let b = this.f32s.get(slot);
    if (b === undefined || b.length < size) {
      b = new Float32Array(Workspace.round(size));
      this.f32s.set(slot, b);
    }
    return b;
  }

  f64(slot: string, size: number): Float64Array {
    let b = this.f64s.get(slot);
    if (b === undefined || b.length < size) {
      b = new Float64Array(Workspace.round(size));
      this.f64s.set(slot, b);
    }
    return b;
  }

  /** Total bytes currently held. */
  bytes(): number {
    let s = 0;
    for (const b of this.f32s.values()) s += b.byteLength;
    for (const b of this.f64s.values()) s += b.byteLength;
    return s;
  }

  /** Drops every buffer (e.g. after a one-off huge layer). */
  release(): void {
    this.f32s.clear();
    this.f64s.clear();
  }
}

/** The workspace shared by the CPU kernels. */
export const cpuWorkspace = new Workspace();
