import { accumulatorOf, type Tensor } from '../tensor.ts';
import type { Edge } from './node.ts';

/** Where a gradient for `t` must be sent: its grad_fn slot, or its AccumulateGrad node for a leaf. */
export function gradientEdge(t: Tensor): Edge {
  if (t._gradFn) return { node: t._gradFn, inputNr: t._outputNr };
  if (t._requiresGrad) return { node: accumulatorOf(t), inputNr: 0 };
  return { node: null, inputNr: 0 };
}
