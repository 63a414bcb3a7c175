import type { Tensor } from '../tensor.ts';

type PackHook = (t: Tensor) => unknown;
type UnpackHook = (packed: unknown) => Tensor;
const hookStack: { pack: PackHook; unpack: UnpackHook }[] = [];

/**
 * `autograd.graph.saved_tensors_hooks(pack, unpack, fn)`: while `fn` runs, every tensor an op saves
 * for backward goes through `pack`, and `unpack` turns it back when backward needs it.
 */
export function saved_tensors_hooks<T>(pack: PackHook, unpack: UnpackHook, fn: () => T): T {
  hookStack.push({ pack, unpack });
  try {
    return fn();
  } finally {
    hookStack.pop();
  }
}

/** A tensor kept for backward, with PyTorch's version check and release-after-backward. */
export class SavedTensor {
  private tensor: Tensor | null;
  private packed: unknown;
  private readonly unpackHook: UnpackHook | null;
  private readonly version: number;
  private released = false;

  constructor(tensor: Tensor) {
    this.version = tensor._version.value;
    const hooks = hookStack[hookStack.length - 1];
    if (hooks) {
      this.tensor = null;
      this.packed = hooks.pack(tensor);
      this.unpackHook = hooks.unpack;
    } else {
      this.tensor = tensor;
      this.unpackHook = null;
    }
  }

  /** The saved tensor, after the freed and version checks (or through the unpack hook). */
  unpack(nodeName: string, index: number): Tensor {
    if (this.released) {
      throw new Error(
        'Trying to backward through the graph a second time (or directly access saved tensors after they have ' +
          'already been freed). Saved intermediate values of the graph are freed when you call .backward() or ' +
          'autograd.grad(). Specify retain_graph: true if you need to backward through the graph a second time ' +
          'or if you need to access saved tensors after calling backward.',
      );
    }
    if (this.unpackHook) return this.unpackHook(this.packed);
    const t = this.tensor!;
    if (t._version.value !== this.version) {
      throw new Error(
        `one of the variables needed for gradient computation has been modified by an inplace operation: ` +
          `[${t.dtype} [${t.shape.join(', ')}]], which is saved tensor ${index} of ${nodeName}, is at version ` +
          `${t._version.value}; expected version ${this.version} instead.`,
      );
    }
    return t;
  }

  /** Frees the saved value; later unpacks raise the second-backward error. */
  release(): void {
    this.released = true;
    this.tensor = null;
    this.packed = null;
  }
}
