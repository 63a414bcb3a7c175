/** Handle returned by every `register_*` call; `remove()` unregisters the hook (idempotent). */
export class RemovableHandle {
  private static nextId = 0;
  /** Unique per registration. */
  readonly id = RemovableHandle.nextId++;
  constructor(private readonly onRemove: (id: number) => void) {}

  /** Unregisters the hook; safe to call more than once and from inside a running hook. */
  remove(): void {
    this.onRemove(this.id);
  }
}

/**
 * Ordered hook storage. Runs see a snapshot of the hooks present when the run began, minus any
 * removed since, so removing a hook from inside a hook (even mid-backward) is safe.
 */
export class HookList<F> {
  private readonly hooks = new Map<number, F>();
  private order: number[] = [];

  add(fn: F, opts: { prepend?: boolean } = {}): RemovableHandle {
    const handle = new RemovableHandle((id) => {
      this.hooks.delete(id);
      this.order = this.order.filter((x) => x !== id);
    });
    this.hooks.set(handle.id, fn);
    if (opts.prepend) this.order.unshift(handle.id);
    else this.order.push(handle.id);
    return handle;
  }

  get size(): number {
    return this.hooks.size;
  }

  /** Iterates hooks in order; a hook removed during iteration is skipped. */
  *[Symbol.iterator](): IterableIterator<F> {
    for (const id of [...this.order]) {
      const fn = this.hooks.get(id);
      if (fn !== undefined) yield fn;
    }
  }
}

/** A readable name for error messages that blame a hook. */
export function hookName(fn: unknown): string {
  const name = typeof fn === 'function' ? fn.name : '';
  return name || '<anonymous>';
}
