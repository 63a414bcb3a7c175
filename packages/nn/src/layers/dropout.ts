import type { Tensor } from '@gradlens/core';
import { Module } from '../module.ts';
import { dropout } from '../functional/dropout.ts';
import { pyBool, pyFloat } from './_repr.ts';

/** `nn.Dropout(p = 0.5)`: identity in eval; in training a seeded Bernoulli mask scaled by 1/(1-p). */
export class Dropout extends Module {
  p: number;
  inplace: boolean;
  constructor(p = 0.5, opts: { inplace?: boolean } = {}) {
    super();
    if (p < 0 || p > 1) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
    this.p = p;
    this.inplace = opts.inplace ?? false;
  }
  forward(input: Tensor): Tensor {
    return dropout(input, this.p, this.training, this.inplace);
  }
  override extra_repr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(this.inplace)}`;
  }
}
