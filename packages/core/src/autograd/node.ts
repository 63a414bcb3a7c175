import type { DType } from '../dtype.ts';
import type { DeviceBackend } from '../device/backend.ts';
import type { Tensor } from '../tensor.ts';
import { HookList, type RemovableHandle } from './removable_handle.ts';

/** Gradients flowing through a node: one entry per slot, `null` where no gradient exists. */
export type Grads = (Tensor | null)[];

/** `grad_fn.register_hook(fn)`: sees (grad_inputs, grad_outputs); returning an array replaces grad_inputs. */
export type NodePostHook = (grad_inputs: Grads, grad_outputs: Grads) => Grads | void | null | undefined;
/** `grad_fn.register_prehook(fn)`: sees grad_outputs; returning an array replaces them. */
export type NodePreHook = (grad_outputs: Grads) => Grads | void | null | undefined;
/** `tensor.register_hook(fn)`: sees the tensor's gradient; returning a tensor replaces it. */
export type TensorHook = (grad: Tensor) => Tensor | void | null | undefined;

/** An edge of the backward graph: the node that receives a gradient and which of its slots. */
export interface Edge {
  /** The receiving node; null where no gradient is needed. */
  node: Node | null;
  /** Which of that node's gradient slots. */
  inputNr: number;
}

/** Shape and dtype of a tensor slot, kept so hook replacements can be validated and zeros made. */
export interface TensorMeta {
  /** The slot's shape. */
  shape: number[];
  /** The slot's dtype. */
  dtype: DType;
  /** The device backend of the slot, or null for the cpu. */
  device: DeviceBackend | null;
}

let nextSequenceNr = 0;

/**
 * A node of the backward graph (PyTorch's `grad_fn`). In PyTorch's terms its *inputs* are the
 * gradients of the forward outputs (`grad_outputs`) and its *outputs* are the gradients for the
 * forward inputs (`grad_inputs`), which flow along `next_functions`.
 */
export abstract class Node {
  /** Creation order; among ready nodes the engine runs the most recent first, as PyTorch does. */
  readonly sequence_nr: number = nextSequenceNr++;
  /** Free-form storage, as PyTorch's `grad_fn.metadata`. */
  readonly metadata: Record<string, unknown> = {};
  /** Hooks added by `register_prehook`, in order. */
  readonly preHooks = new HookList<NodePreHook>();
  /** Hooks added by `register_hook`, in order. */
  readonly postHooks = new HookList<NodePostHook>();
  /** Hooks of non-leaf tensors, keyed by which forward output of this node the tensor is. */
  readonly tensorPreHooks = new Map<number, HookList<TensorHook>>();
  /** `retain_grad()` hooks; PyTorch runs them after all other tensor hooks. */
  readonly retainGradHooks = new Map<number, (grad: Tensor) => void>();

  constructor(
    /** Where grad_inputs go: one edge per forward input (PyTorch's `next_functions`). */
    readonly nextEdges: Edge[],
    /** Meta of the forward inputs, in edge order (for validating grad_inputs). */
    readonly inputMeta: (TensorMeta | null)[],
    /** Meta of the forward outputs (for validating grad_outputs). */
    readonly outputMeta: TensorMeta[],
  ) {}

  /** PyTorch's class name of the node, e.g. `MulBackward0`. */
  abstract name(): string;

  /** Computes grad_inputs (one per next edge) from grad_outputs (one per forward output). */
  abstract apply(gradOutputs: Grads): Grads;

  /** Frees what backward saved; called after the node ran unless `retain_graph`. */
  release(): void {}

  /** `(node, slot)` pairs the node sends gradients to, one per forward input, as PyTorch. */
  get next_functions(): [Node | null, number][] {
    return this.nextEdges.map((e) => [e.node, e.inputNr]);
  }

  /** Runs `fn(grad_inputs, grad_outputs)` after the node; returning an array replaces grad_inputs. */
  register_hook(fn: NodePostHook): RemovableHandle {
    return this.postHooks.add(fn);
  }

  /** Runs `fn(grad_outputs)` before the node; returning an array replaces grad_outputs. */
  register_prehook(fn: NodePreHook): RemovableHandle {
    return this.preHooks.add(fn);
  }

  /** Registers a hook for the tensor that is forward output `outputNr` of this node. */
  addTensorPreHook(outputNr: number, fn: TensorHook): RemovableHandle {
    let list = this.tensorPreHooks.get(outputNr);
    if (!list) {
      list = new HookList<TensorHook>();
      this.tensorPreHooks.set(outputNr, list);
    }
    return list.add(fn);
  }

  /** `<MulBackward0>`, as PyTorch prints a grad_fn. */
  toString(): string {
    return `<${this.name()}>`;
  }
}
