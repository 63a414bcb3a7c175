import { RemovableHandle } from '@gradlens/core';

/** One registered hook and its registration options. */
export interface HookEntry<F> {
  readonly fn: F;
  readonly withKwargs: boolean;
  readonly alwaysCall: boolean;
}

/**
 * Ordered hook storage like PyTorch's `OrderedDict` of hooks: `prepend` puts a hook first, and a
 * run iterates a snapshot, skipping hooks removed meanwhile (so a hook may remove itself).
 */
export class HookDict<F> {
  private readonly entries = new Map<number, HookEntry<F>>();
  private order: number[] = [];

  add(fn: F, opts: { prepend?: boolean; with_kwargs?: boolean; always_call?: boolean } = {}): RemovableHandle {
    const handle = new RemovableHandle((id) => {
      if (this.entries.delete(id)) this.order = this.order.filter((x) => x !== id);
    });
    this.entries.set(handle.id, { fn, withKwargs: opts.with_kwargs ?? false, alwaysCall: opts.always_call ?? false });
    if (opts.prepend) this.order.unshift(handle.id);
    else this.order.push(handle.id);
    return handle;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries in run order, as a snapshot. */
  list(): HookEntry<F>[] {
    const out: HookEntry<F>[] = [];
    for (const id of this.order) {
      const e = this.entries.get(id);
      if (e) out.push(e);
    }
    return out;
  }

  /** Whether `entry` is still registered (a hook earlier in the run may have removed it). */
  has(entry: HookEntry<F>): boolean {
    for (const e of this.entries.values()) if (e === entry) return true;
    return false;
  }

  values(): F[] {
    return this.list().map((e) => e.fn);
  }
}
