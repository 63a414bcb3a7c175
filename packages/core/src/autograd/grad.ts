import { Tensor } from '../tensor.ts';
import { runBackward } from './engine.ts';
import { metaOf, zerosOf } from './op_node.ts';

/** Options of `autograd.grad`, as PyTorch's keyword arguments. */
export interface GradOptions {
  /** Weights of each output (the vector of the vector-Jacobian product); required for non-scalar outputs. */
  grad_outputs?: Tensor | (Tensor | null)[] | null;
  /** Keep saved tensors for another backward (defaults to create_graph). */
  retain_graph?: boolean;
  /** Record the backward pass so the results can be differentiated again. */
  create_graph?: boolean;
  /** Return null for inputs the outputs do not depend on, instead of raising. */
  allow_unused?: boolean;
  /** Return zeros instead of null for unused inputs (implies allow_unused). */
  materialize_grads?: boolean;
}

/** Options of `autograd.backward`. */
export interface AutogradBackwardOptions {
  /** Gradients of each tensor (required for non-scalars). */
  grad_tensors?: Tensor | (Tensor | null)[] | null;
  /** Keep saved tensors for another backward (defaults to create_graph). */
  retain_graph?: boolean;
  /** Record the backward pass for higher-order gradients. */
  create_graph?: boolean;
  /** Accumulate only into these tensors' `.grad`. */
  inputs?: Tensor | Tensor[];
}

function asList<T>(x: T | T[] | null | undefined): T[] {
  if (x === null || x === undefined) return [];
  return Array.isArray(x) ? x : [x];
}

/**
 * Gradients of `outputs` w.r.t. `inputs` without touching `.grad` (`torch.autograd.grad`).
 * With `create_graph: true` the results are differentiable again (higher-order gradients).
 */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  const outs = asList(outputs);
  const ins = asList(inputs);
  const gradOuts = asList(opts.grad_outputs ?? null);
  const createGraph = opts.create_graph ?? false;
  const results = runBackward(outs, outs.map((_, i) => gradOuts[i] ?? null), {
    retainGraph: opts.retain_graph ?? createGraph,
    createGraph,
    inputs: ins,
    accumulate: false,
    allowUnused: (opts.allow_unused ?? false) || (opts.materialize_grads ?? false),
  });
  if (opts.materialize_grads) return results.map((r, i) => r ?? zerosOf(metaOf(ins[i]!)));
  return results;
}

/** Accumulates gradients of several tensors into the leaves (`torch.autograd.backward`). */
export function backward(tensors: Tensor | Tensor[], opts: AutogradBackwardOptions = {}): void {
  const outs = asList(tensors);
  const grads = asList(opts.grad_tensors ?? null);
  const createGraph = opts.create_graph ?? false;
  runBackward(outs, outs.map((_, i) => grads[i] ?? null), {
    retainGraph: opts.retain_graph ?? createGraph,
    createGraph,
    inputs: opts.inputs === undefined ? undefined : asList(opts.inputs),
    accumulate: true,
  });
}
