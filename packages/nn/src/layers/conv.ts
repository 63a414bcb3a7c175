import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { Module } from '../module.ts';
import { Parameter } from '../parameter.ts';
import * as init from '../init.ts';
import { conv2d, type Conv2dPadding } from '../functional/conv.ts';
import { pyVal } from './_repr.ts';

export interface Conv2dOptions {
  stride?: number | [number, number];
  /**
   * An int, `[padH, padW]`, `'same'`, `'valid'`, or — a gradlens extension for TF-ported models —
   * `[top, bottom, left, right]` for asymmetric padding applied inside the convolution.
   */
  padding?: Conv2dPadding;
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  /** Only `'zeros'` is implemented. */
  padding_mode?: 'zeros';
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/**
 * 2-D convolution (`nn.Conv2d`) with PyTorch's default init (kaiming_uniform(a=√5) weight,
 * U(±1/√fan_in) bias); grad_fn `ConvolutionBackward0` with grad_inputs (input, weight, bias).
 */
export class Conv2d extends Module {
  in_channels: number;
  out_channels: number;
  kernel_size: [number, number];
  stride: [number, number];
  padding: [number, number] | [number, number, number, number] | 'same' | 'valid';
  dilation: [number, number];
  groups: number;
  padding_mode: 'zeros';
  weight: Parameter;
  bias: Parameter | null;

  constructor(in_channels: number, out_channels: number, kernel_size: number | [number, number], opts: Conv2dOptions = {}) {
    super();
    const groups = opts.groups ?? 1;
    if (groups <= 0) throw new Error('groups must be a positive integer');
    if (in_channels % groups !== 0) throw new Error('in_channels must be divisible by groups');
    if (out_channels % groups !== 0) throw new Error('out_channels must be divisible by groups');
    const padding = opts.padding ?? 0;
    if (typeof padding === 'string' && padding !== 'same' && padding !== 'valid') {
      throw new Error(`Invalid padding string '${padding}', should be one of ['valid', 'same']`);
    }
    if ((opts.padding_mode ?? 'zeros') !== 'zeros') throw new Error(`padding_mode '${String(opts.padding_mode)}' is not implemented in gradlens`);
    this.in_channels = in_channels;
    this.out_channels = out_channels;
    this.kernel_size = pair(kernel_size);
    this.stride = pair(opts.stride ?? 1);
    if (padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) throw new Error("padding='same' is not supported for strided convolutions");
    this.padding = typeof padding === 'number' ? [padding, padding] : typeof padding === 'string' ? padding : padding.length === 4 ? [padding[0], padding[1], padding[2], padding[3]] : [padding[0], padding[1]];
    this.dilation = pair(opts.dilation ?? 1);
    this.groups = groups;
    this.padding_mode = 'zeros';
    this.weight = new Parameter(torch.empty([out_channels, in_channels / groups, ...this.kernel_size]));
    this.bias = null;
    if (opts.bias ?? true) this.bias = new Parameter(torch.empty([out_channels]));
    else this.register_parameter('bias', null);
    this.reset_parameters();
  }

  reset_parameters(): void {
    init.kaiming_uniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init._calculate_fan_in_and_fan_out(this.weight);
      if (fanIn !== 0) {
        const bound = 1 / Math.sqrt(fanIn);
        init.uniform_(this.bias, -bound, bound);
      }
    }
  }

  forward(input: Tensor): Tensor {
    return conv2d(input, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups, backend: this._kernel_backend() });
  }

  override extra_repr(): string {
    let s = `${this.in_channels}, ${this.out_channels}, kernel_size=${pyVal(this.kernel_size)}, stride=${pyVal(this.stride)}`;
    const p = this.padding;
    if (typeof p === 'string') s += `, padding=${p}`;
    else if (p.some((v) => v !== 0)) s += `, padding=${pyVal(p)}`;
    if (this.dilation.some((v) => v !== 1)) s += `, dilation=${pyVal(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    return s;
  }
}
