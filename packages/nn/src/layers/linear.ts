import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { Module } from '../module.ts';
import { Parameter } from '../parameter.ts';
import * as init from '../init.ts';
import { linear } from '../functional/linear.ts';
import { pyBool } from './_repr.ts';

/**
 * `nn.Linear(in_features, out_features, {bias})`: y = x·Wᵀ + b, PyTorch's default init; grad_fn
 * `AddmmBackward0` (grad_inputs: bias, input, weight.t()) or `MmBackward0` without bias.
 */
export class Linear extends Module {
  in_features: number;
  out_features: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(in_features: number, out_features: number, opts: { bias?: boolean } = {}) {
    super();
    this.in_features = in_features;
    this.out_features = out_features;
    this.weight = new Parameter(torch.empty([out_features, in_features]));
    this.bias = null;
    if (opts.bias ?? true) this.bias = new Parameter(torch.empty([out_features]));
    else this.register_parameter('bias', null);
    this.reset_parameters();
  }

  reset_parameters(): void {
    init.kaiming_uniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init._calculate_fan_in_and_fan_out(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  forward(input: Tensor): Tensor {
    return linear(input, this.weight, this.bias, { backend: this._kernel_backend() });
  }

  override extra_repr(): string {
    return `in_features=${this.in_features}, out_features=${this.out_features}, bias=${pyBool(this.bias !== null)}`;
  }
}
