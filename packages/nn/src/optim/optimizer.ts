import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';

/** A parameter group: its tensors and per-group hyperparameters (`lr`, `momentum`, ...). */
export interface ParamGroup<O> {
  params: Tensor[];
  options: O;
}

/** A group as passed to a constructor: tensors plus optional overrides. */
export type ParamGroupInput<O> = { params: Iterable<Tensor> } & Partial<O>;

/** Base class of optimizers (`torch.optim.Optimizer`). */
export abstract class Optimizer<O extends object> {
  readonly param_groups: ParamGroup<O>[];
  /** Per-parameter state (momentum buffers, Adam moments). */
  readonly state = new Map<Tensor, Record<string, Tensor | number>>();

  constructor(params: Iterable<Tensor> | ParamGroupInput<O>[], defaults: O) {
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    if (list.length === 0) throw new Error('optimizer got an empty parameter list');
    const groups: ParamGroupInput<O>[] = list[0] instanceof torch.Tensor
      ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>]
      : (list as ParamGroupInput<O>[]);
    const seen = new Set<Tensor>();
    this.param_groups = groups.map((g) => {
      const { params: ps, ...overrides } = g;
      const tensors = [...ps];
      for (const t of tensors) {
        if (!t.is_leaf) throw new Error("can't optimize a non-leaf Tensor");
        if (seen.has(t)) throw new Error('some parameters appear in more than one parameter group');
        seen.add(t);
      }
      return { params: tensors, options: { ...defaults, ...(overrides as Partial<O>) } };
    });
  }

  /** Resets gradients of all optimized tensors: to null (default) or zeros. */
  zero_grad(set_to_none = true): void {
    for (const g of this.param_groups) {
      for (const p of g.params) {
        if (p._grad === null) continue;
        if (set_to_none) p.grad = null;
        else torch.no_grad(() => p._grad!.zero_());
      }
    }
  }

  /** One optimisation step (optionally re-evaluating the loss with `closure`). */
  step(closure?: () => Tensor): Tensor | undefined {
    let loss: Tensor | undefined;
    if (closure) loss = torch.enable_grad(closure);
    torch.no_grad(() => {
      for (const g of this.param_groups) this._stepGroup(g);
    });
    return loss;
  }

  protected abstract _stepGroup(group: ParamGroup<O>): void;

  protected _state(p: Tensor): Record<string, Tensor | number> {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }
}

/** Float32/64 storage of a contiguous tensor, for in-place updates. */
export function storageOf(t: Tensor): Float32Array | Float64Array {
  if (!t.is_contiguous()) throw new Error('optimizer: parameters must be contiguous');
  return t._contiguousData() as Float32Array | Float64Array;
}
