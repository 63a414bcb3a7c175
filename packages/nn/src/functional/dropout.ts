import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';

/**
 * `F.dropout(x, p, training)`: in training, zeroes each element with probability p (mask drawn
 * from the seeded generator, `torch.manual_seed`) and scales the rest by 1/(1-p); identity otherwise.
 */
export function dropout(x: Tensor, p = 0.5, training = true, inplace = false): Tensor {
  if (p < 0 || p > 1) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return x;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = torch.rand(x.shape, { dtype: x.dtype });
  const m = mask._contiguousData();
  for (let i = 0; i < m.length; i++) m[i] = m[i]! >= p ? scale : 0;
  return inplace ? x.mul_(mask) : torch.mul(x, mask);
}
