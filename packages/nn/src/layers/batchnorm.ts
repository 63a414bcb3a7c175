import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { Module } from '../module.ts';
import { Parameter } from '../parameter.ts';
import * as init from '../init.ts';
import { batch_norm } from '../functional/batchnorm.ts';
import { pyBool, pyFloat } from './_repr.ts';

export interface BatchNormOptions {
  eps?: number;
  /** null: cumulative moving average (1/num_batches_tracked). */
  momentum?: number | null;
  affine?: boolean;
  track_running_stats?: boolean;
}

/**
 * `nn.BatchNorm2d(num_features, {eps, momentum, affine, track_running_stats})`: batch statistics
 * in training (updating running_mean / running_var / num_batches_tracked), running statistics in
 * eval; grad_fn `NativeBatchNormBackward0`.
 */
export class BatchNorm2d extends Module {
  num_features: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  track_running_stats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  running_mean: Tensor | null;
  running_var: Tensor | null;
  num_batches_tracked: Tensor | null;

  constructor(num_features: number, opts: BatchNormOptions = {}) {
    super();
    this.num_features = num_features;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.track_running_stats = opts.track_running_stats ?? true;
    this.weight = null;
    this.bias = null;
    this.running_mean = null;
    this.running_var = null;
    this.num_batches_tracked = null;
    if (this.affine) {
      this.weight = new Parameter(torch.empty([num_features]));
      this.bias = new Parameter(torch.empty([num_features]));
    } else {
      this.register_parameter('weight', null);
      this.register_parameter('bias', null);
    }
    if (this.track_running_stats) {
      this.register_buffer('running_mean', torch.zeros([num_features]));
      this.register_buffer('running_var', torch.ones([num_features]));
      this.register_buffer('num_batches_tracked', torch.tensor(0, { dtype: 'int64' }));
    } else {
      this.register_buffer('running_mean', null);
      this.register_buffer('running_var', null);
      this.register_buffer('num_batches_tracked', null);
    }
    this.reset_parameters();
  }

  reset_running_stats(): void {
    if (!this.track_running_stats) return;
    torch.no_grad(() => {
      this.running_mean!.zero_();
      this.running_var!.fill_(1);
      this.num_batches_tracked!.zero_();
    });
  }

  reset_parameters(): void {
    this.reset_running_stats();
    if (this.affine) {
      init.ones_(this.weight!);
      init.zeros_(this.bias!);
    }
  }

  protected _check_input_dim(input: Tensor): void {
    if (input.dim() !== 4) throw new Error(`expected 4D input (got ${input.dim()}D input)`);
  }

  forward(input: Tensor): Tensor {
    this._check_input_dim(input);
    let factor = this.momentum ?? 0;
    if (this.training && this.track_running_stats && this.num_batches_tracked !== null) {
      torch.no_grad(() => this.num_batches_tracked!.add_(1));
      factor = this.momentum === null ? 1 / this.num_batches_tracked.item() : this.momentum;
    }
    const bnTraining = this.training ? true : this.running_mean === null && this.running_var === null;
    const useStats = !this.training || this.track_running_stats;
    return batch_norm(input, useStats ? this.running_mean : null, useStats ? this.running_var : null, {
      weight: this.weight, bias: this.bias, training: bnTraining, momentum: factor, eps: this.eps, backend: this._kernel_backend(),
    });
  }

  override extra_repr(): string {
    return `${this.num_features}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.track_running_stats)}`;
  }
}
