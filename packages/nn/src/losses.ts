/** Loss modules: CrossEntropyLoss, NLLLoss, MSELoss. */
import type { Tensor } from '@gradlens/core';
import { Module } from './module.ts';
import { cross_entropy, mse_loss, nll_loss, type Reduction } from './functional/loss.ts';

export interface WeightedLossOptions {
  weight?: Tensor | null;
  ignore_index?: number;
  reduction?: Reduction;
}

/** State shared by the class-weighted losses (PyTorch's `_WeightedLoss`): `weight` buffer, `ignore_index`, `reduction`. */
abstract class WeightedLoss extends Module<[Tensor, Tensor]> {
  weight: Tensor | null;
  ignore_index: number;
  reduction: Reduction;
  constructor(opts: WeightedLossOptions = {}) {
    super();
    this.weight = null;
    this.register_buffer('weight', opts.weight ?? null);
    this.ignore_index = opts.ignore_index ?? -100;
    this.reduction = opts.reduction ?? 'mean';
  }
}

/** `nn.CrossEntropyLoss({weight, ignore_index, reduction})`: log_softmax over dim 1, then NLL with class-index targets. */
export class CrossEntropyLoss extends WeightedLoss {
  forward(input: Tensor, target: Tensor): Tensor {
    return cross_entropy(input, target, { weight: this.weight, ignore_index: this.ignore_index, reduction: this.reduction });
  }
}

/** `nn.NLLLoss({weight, ignore_index, reduction})` on log-probabilities. */
export class NLLLoss extends WeightedLoss {
  forward(input: Tensor, target: Tensor): Tensor {
    return nll_loss(input, target, { weight: this.weight, ignore_index: this.ignore_index, reduction: this.reduction });
  }
}

/** `nn.MSELoss({reduction})`. */
export class MSELoss extends Module<[Tensor, Tensor]> {
  reduction: Reduction;
  constructor(opts: { reduction?: Reduction } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return mse_loss(input, target, { reduction: this.reduction });
  }
}
