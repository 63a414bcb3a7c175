import type { Tensor } from '@gradlens/core';
import { Module } from '../module.ts';

/** `nn.Flatten(start_dim = 1, end_dim = -1)`. */
export class Flatten extends Module {
  start_dim: number;
  end_dim: number;
  constructor(start_dim = 1, end_dim = -1) {
    super();
    this.start_dim = start_dim;
    this.end_dim = end_dim;
  }
  forward(input: Tensor): Tensor {
    return input.flatten(this.start_dim, this.end_dim);
  }
  override extra_repr(): string {
    return `start_dim=${this.start_dim}, end_dim=${this.end_dim}`;
  }
}

/** `nn.Identity()`: returns its input (no grad_fn of its own, as in PyTorch). */
export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}
