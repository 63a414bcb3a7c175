import { Tensor } from '@gradlens/core';
import * as torch from '@gradlens/core';

/**
 * A tensor that is a module parameter (`torch.nn.Parameter`): assigning one to a Module field
 * registers it. It shares storage with `data` and requires grad by default.
 */
export class Parameter extends Tensor {
  constructor(data?: Tensor | null, requires_grad = true) {
    const src = data ?? torch.empty(0);
    super(src._nd, src.dtype);
    if (requires_grad) this.requires_grad_(true);
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}

/** `nn.Buffer`-style marker is not needed: buffers are plain tensors registered with `register_buffer`. */
export function isParameter(x: unknown): x is Parameter {
  return x instanceof Parameter;
}
