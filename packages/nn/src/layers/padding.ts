import type { Tensor } from '@gradlens/core';
import { Module } from '../module.ts';
import { pad } from '../functional/padding.ts';
import { pyFloat, pyVal } from './_repr.ts';

/** `nn.ZeroPad2d(padding)`: an int or PyTorch's [left, right, top, bottom]; grad_fn `ConstantPadNdBackward0`. */
export class ZeroPad2d extends Module {
  padding: [number, number, number, number];
  value = 0;
  constructor(padding: number | [number, number, number, number]) {
    super();
    this.padding = typeof padding === 'number' ? [padding, padding, padding, padding] : [...padding];
  }
  forward(input: Tensor): Tensor {
    return pad(input, this.padding, 'constant', this.value);
  }
  override extra_repr(): string {
    return `padding=${pyVal(this.padding)}, value=${pyFloat(this.value)}`;
  }
}
