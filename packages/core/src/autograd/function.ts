import { is_grad_enabled, no_grad } from '../grad_mode.ts';
import { formatShape, sameShape } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { sumToShape } from '../ops/reduce_to_shape.ts';
import { broadcastShapes } from '../shape.ts';
import { gradientEdge } from './gradient_edge.ts';
import { Node, type Edge, type Grads, type TensorMeta } from './node.ts';
import { metaOf, zerosOf } from './op_node.ts';
import { SavedTensor } from './saved_tensor.ts';

/** The `ctx` a custom Function's forward and backward share. Extra fields may be stored on it. */
export class FunctionCtx {
  /** Which forward arguments need a gradient (false for non-tensors). */
  needs_input_grad: boolean[] = [];
  /** @internal */ _saved: (SavedTensor | null)[] = [];
  /** @internal */ _nonDifferentiable = new Set<Tensor>();
  /** @internal */ _dirty = new Set<Tensor>();
  /** @internal */ _materializeGrads = true;
  /** @internal */ _nodeName = 'FunctionBackward';
  [key: string]: unknown;

  /** Keeps tensors for backward, with version checks (and saved-tensor hooks if active). */
  save_for_backward(...tensors: (Tensor | null)[]): void {
    this._saved = tensors.map((t) => (t ? new SavedTensor(t) : null));
  }

  /**
   * The tensors given to `save_for_backward`, in the same slots (a `null` given comes back as `null`,
   * as PyTorch's `None`); raises if they were modified in place or freed.
   */
  get saved_tensors(): Tensor[] {
    return this._saved.map((s, i) => (s ? s.unpack(this._nodeName, i) : (null as unknown as Tensor)));
  }

  /** Outputs that have no gradient (e.g. indices). */
  mark_non_differentiable(...tensors: Tensor[]): void {
    for (const t of tensors) this._nonDifferentiable.add(t);
  }

  /** Inputs that forward modified in place. */
  mark_dirty(...tensors: Tensor[]): void {
    for (const t of tensors) this._dirty.add(t);
  }

  /** With `false`, backward receives `null` (not zeros) for outputs that got no gradient. */
  set_materialize_grads(value: boolean): void {
    this._materializeGrads = value;
  }
}

/** Gradient(s) a custom backward may return: one per forward argument, null/undefined for none. */
export type BackwardResult = Tensor | null | undefined | (Tensor | null | undefined)[];

type ForwardArgs<F> = F extends { forward(ctx: FunctionCtx, ...args: infer A): unknown } ? A : never;
type ForwardResult<F> = F extends { forward(ctx: FunctionCtx, ...args: never[]): infer R } ? R : never;

/** The static side every custom Function has. */
export interface FunctionClass {
  /** The class name (used for the default grad_fn name). */
  name: string;
  /** grad_fn name; defaults to `<ClassName>Backward` (built-in layers set PyTorch's, e.g. `ConvolutionBackward0`). */
  backward_name?: string;
  /** Computes the outputs. */
  forward(ctx: FunctionCtx, ...args: never[]): Tensor | Tensor[];
  /** Computes the input gradients. */
  backward(ctx: FunctionCtx, ...grads: never[]): BackwardResult;
}

function backwardName(cls: FunctionClass): string {
  return cls.backward_name ?? `${cls.name}Backward`;
}

class CustomFunctionNode extends Node {
  constructor(
    private readonly cls: FunctionClass,
    private readonly ctx: FunctionCtx,
    edges: Edge[],
    inputMeta: (TensorMeta | null)[],
    outputMeta: TensorMeta[],
    /** For each forward argument, its edge index, or -1 for non-tensors. */
    private readonly argToEdge: number[],
  ) {
    super(edges, inputMeta, outputMeta);
  }

  name(): string {
    return backwardName(this.cls);
  }

  apply(gradOutputs: Grads): Grads {
    const grads = this.ctx._materializeGrads
      ? gradOutputs.map((g, i) => g ?? zerosOf(this.outputMeta[i]!))
      : gradOutputs;
    const raw = (this.cls.backward as (ctx: FunctionCtx, ...g: Grads) => BackwardResult)(this.ctx, ...grads);
    const list = Array.isArray(raw) ? raw : [raw];
    const nArgs = this.argToEdge.length;
    if (list.length < nArgs || list.slice(nArgs).some((g) => g)) {
      throw new Error(`function ${this.name()} returned an incorrect number of gradients (expected ${nArgs}, got ${list.length})`);
    }
    const out: Grads = this.nextEdges.map(() => null);
    this.argToEdge.forEach((e, argIndex) => {
      const g = list[argIndex];
      const meta = this.inputMeta[e];
      if (e < 0 || !g || !meta) return;
      if (!(g instanceof Tensor)) throw new TypeError(`function ${this.name()} returned a non-Tensor gradient at index ${argIndex}`);
      if (!sameShape(g.shape, meta.shape)) {
        const expandable = (() => {
          try {
            return sameShape(broadcastShapes(meta.shape, g.shape), g.shape);
          } catch {
            return false;
          }
        })();
        if (!expandable) {
          throw new Error(`Function ${this.name()} returned an invalid gradient at index ${argIndex} - got ${formatShape(g.shape)} but expected shape compatible with ${formatShape(meta.shape)}`);
        }
        out[e] = sumToShape(g, meta.shape);
      } else out[e] = g;
    });
    return out;
  }

  override release(): void {
    for (const s of this.ctx._saved) s?.release();
  }
}

/**
 * Base class of custom differentiable ops, as `torch.autograd.Function`: subclass it with static
 * `forward(ctx, ...args)` and `backward(ctx, ...grads)`, then call `MyFn.apply(...args)`.
 * Forward runs without recording; backward gets one gradient per output and returns one per argument.
 */
export abstract class Function {
  /** Override: computes the outputs (runs without recording); may save tensors on `ctx`. */
  static forward(_ctx: FunctionCtx, ..._args: never[]): Tensor | Tensor[] {
    throw new Error('You must implement the forward function for custom autograd.Function.');
  }

  /** Override: gets one gradient per output, returns one per forward argument (null for none). */
  static backward(_ctx: FunctionCtx, ..._grads: never[]): BackwardResult {
    throw new Error('You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.');
  }

  /** Runs forward and, when an input requires grad, records a `<Name>Backward` node. */
  static apply<F extends FunctionClass>(this: F, ...args: ForwardArgs<F>): ForwardResult<F> {
    const argList = args as unknown[];
    const ctx = new FunctionCtx();
    ctx._nodeName = backwardName(this);
    ctx.needs_input_grad = argList.map((a) => a instanceof Tensor && a.requires_grad);
    const record = is_grad_enabled() && ctx.needs_input_grad.some(Boolean);
    const result = no_grad(() => (this.forward as (ctx: FunctionCtx, ...a: unknown[]) => Tensor | Tensor[])(ctx, ...argList));
    const isArray = Array.isArray(result);
    const outputs = (isArray ? result : [result]).map((o) => {
      if (!(o instanceof Tensor)) throw new TypeError(`${this.name}.forward must return a Tensor or an array of Tensors`);
      // An input returned unchanged becomes a new alias, so that its own history stays intact. PyTorch
      // treats it as a view created inside a custom Function: modifying it in place is an error.
      if (!argList.includes(o) || ctx._dirty.has(o)) return o;
      const alias = o.detach();
      alias._customFnView = true;
      if (ctx._nonDifferentiable.has(o)) ctx._nonDifferentiable.add(alias);
      return alias;
    });
    for (const d of ctx._dirty) d._version.value++;
    if (record) {
      const edges: Edge[] = [];
      const inputMeta: (TensorMeta | null)[] = [];
      // A null argument is an absent optional tensor (e.g. conv bias): it keeps its slot, like PyTorch's
      // built-in nodes, so grad_inputs line up with the tensor arguments.
      const argToEdge = argList.map((a) => {
        if (a === null) {
          edges.push({ node: null, inputNr: 0 });
          inputMeta.push(null);
          return edges.length - 1;
        }
        if (!(a instanceof Tensor)) return -1;
        edges.push(a.requires_grad ? gradientEdge(a) : { node: null, inputNr: 0 });
        inputMeta.push(metaOf(a));
        return edges.length - 1;
      });
      const node = new CustomFunctionNode(this, ctx, edges, inputMeta, outputs.map(metaOf), argToEdge);
      outputs.forEach((o, i) => {
        if (ctx._nonDifferentiable.has(o) || !o.is_floating_point()) return;
        if (ctx._dirty.has(o) && o.is_leaf && o._requiresGrad) {
          throw new Error('a leaf Variable that requires grad has been used in an in-place operation.');
        }
        o._gradFn = node;
        o._outputNr = i;
      });
    }
    return (isArray ? outputs : outputs[0]) as ForwardResult<F>;
  }
}
