import { sameShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { sum } from './reduction.ts';
import { reshape } from './view.ts';

/** Sums a broadcast gradient back down to `shape` (the adjoint of broadcasting). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.dim() - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.dim(); i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const reduced = dims.length ? sum(g, dims, { keepdim: true }) : g;
  return reshape(reduced, [...shape]);
}
