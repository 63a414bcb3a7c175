import type { Tensor } from '@gradlens/core';
import { Module } from '../module.ts';
import { adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_pool2d_with_indices } from '../functional/pooling.ts';
import { pyBool, pyVal } from './_repr.ts';

type IntOrPair = number | [number, number];

export interface MaxPool2dOptions {
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  return_indices?: boolean;
  ceil_mode?: boolean;
}

/** `nn.MaxPool2d(kernel_size, {stride, padding, dilation, ceil_mode})`; grad_fn `MaxPool2DWithIndicesBackward0`. */
export class MaxPool2d extends Module<[Tensor], Tensor> {
  kernel_size: IntOrPair;
  stride: IntOrPair;
  padding: IntOrPair;
  dilation: IntOrPair;
  return_indices: boolean;
  ceil_mode: boolean;
  constructor(kernel_size: IntOrPair, opts: MaxPool2dOptions = {}) {
    super();
    this.kernel_size = kernel_size;
    this.stride = opts.stride ?? kernel_size;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.return_indices = opts.return_indices ?? false;
    this.ceil_mode = opts.ceil_mode ?? false;
  }
  /** The pooled values (use `F.max_pool2d_with_indices` or `forward_with_indices` for the indices). */
  forward(input: Tensor): Tensor {
    return max_pool2d(input, this.kernel_size, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceil_mode: this.ceil_mode, backend: this._kernel_backend() });
  }
  forward_with_indices(input: Tensor): [Tensor, Tensor] {
    return max_pool2d_with_indices(input, this.kernel_size, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceil_mode: this.ceil_mode, backend: this._kernel_backend() });
  }
  override extra_repr(): string {
    return `kernel_size=${pyVal(this.kernel_size)}, stride=${pyVal(this.stride)}, padding=${pyVal(this.padding)}, dilation=${pyVal(this.dilation)}, ceil_mode=${pyBool(this.ceil_mode)}`;
  }
}

export interface AvgPool2dOptions {
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  ceil_mode?: boolean;
  count_include_pad?: boolean;
  divisor_override?: number | null;
}

/** `nn.AvgPool2d(kernel_size, opts)`; grad_fn `AvgPool2DBackward0`. */
export class AvgPool2d extends Module {
  kernel_size: IntOrPair;
  stride: IntOrPair;
  padding: IntOrPair;
  ceil_mode: boolean;
  count_include_pad: boolean;
  divisor_override: number | null;
  constructor(kernel_size: IntOrPair, opts: AvgPool2dOptions = {}) {
    super();
    this.kernel_size = kernel_size;
    this.stride = opts.stride ?? kernel_size;
    this.padding = opts.padding ?? 0;
    this.ceil_mode = opts.ceil_mode ?? false;
    this.count_include_pad = opts.count_include_pad ?? true;
    this.divisor_override = opts.divisor_override ?? null;
  }
  forward(input: Tensor): Tensor {
    return avg_pool2d(input, this.kernel_size, {
      stride: this.stride, padding: this.padding, ceil_mode: this.ceil_mode,
      count_include_pad: this.count_include_pad, divisor_override: this.divisor_override, backend: this._kernel_backend(),
    });
  }
  override extra_repr(): string {
    return `kernel_size=${pyVal(this.kernel_size)}, stride=${pyVal(this.stride)}, padding=${pyVal(this.padding)}`;
  }
}

/** `nn.AdaptiveAvgPool2d(output_size)`; 1×1 output is a mean (`MeanBackward1`), else `AdaptiveAvgPool2DBackward0`. */
export class AdaptiveAvgPool2d extends Module {
  output_size: number | [number | null, number | null];
  constructor(output_size: number | [number | null, number | null]) {
    super();
    this.output_size = output_size;
  }
  forward(input: Tensor): Tensor {
    return adaptive_avg_pool2d(input, this.output_size, { backend: this._kernel_backend() });
  }
  override extra_repr(): string {
    return `output_size=${pyVal(this.output_size)}`;
  }
}
