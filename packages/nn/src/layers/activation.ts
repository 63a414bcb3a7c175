import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { Module } from '../module.ts';
import { _get_softmax_dim, leaky_relu } from '../functional/activation.ts';
import { pyBool, pyFloat, pyVal } from './_repr.ts';

/**
 * `nn.ReLU({inplace})`: `torch.relu` (grad_fn `ReluBackward0`, grad_inputs `(g,)`), so a legacy
 * backward hook on it sees exactly PyTorch's grad_input; `inplace` uses `relu_`.
 */
export class ReLU extends Module {
  inplace: boolean;
  constructor(opts: { inplace?: boolean } | boolean = {}) {
    super();
    this.inplace = typeof opts === 'boolean' ? opts : opts.inplace ?? false;
  }
  forward(input: Tensor): Tensor {
    return this.inplace ? torch.relu_(input) : torch.relu(input);
  }
  override extra_repr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

/** `nn.LeakyReLU(negative_slope = 0.01)`; grad_fn `LeakyReluBackward0`. */
export class LeakyReLU extends Module {
  negative_slope: number;
  inplace: boolean;
  constructor(negative_slope = 0.01, opts: { inplace?: boolean } = {}) {
    super();
    this.negative_slope = negative_slope;
    this.inplace = opts.inplace ?? false;
  }
  forward(input: Tensor): Tensor {
    return leaky_relu(input, this.negative_slope);
  }
  override extra_repr(): string {
    return `negative_slope=${pyFloat(this.negative_slope)}${this.inplace ? ', inplace=True' : ''}`;
  }
}

/** `nn.Sigmoid()`. */
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return torch.sigmoid(input);
  }
}

/** `nn.Tanh()`. */
export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return torch.tanh(input);
  }
}

/** `nn.Softmax(dim)`; without dim, PyTorch's deprecated implicit choice (with its warning). */
export class Softmax extends Module {
  dim: number | null;
  constructor(dim: number | null = null) {
    super();
    this.dim = dim;
  }
  forward(input: Tensor): Tensor {
    return torch.softmax(input, this.dim ?? _get_softmax_dim('softmax', input.dim()));
  }
  override extra_repr(): string {
    return `dim=${pyVal(this.dim)}`;
  }
}

/** `nn.LogSoftmax(dim)`. */
export class LogSoftmax extends Module {
  dim: number | null;
  constructor(dim: number | null = null) {
    super();
    this.dim = dim;
  }
  forward(input: Tensor): Tensor {
    return torch.log_softmax(input, this.dim ?? _get_softmax_dim('log_softmax', input.dim()));
  }
  override extra_repr(): string {
    return `dim=${pyVal(this.dim)}`;
  }
}

export { pyBool };
