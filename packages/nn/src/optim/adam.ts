import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { Optimizer, storageOf, type ParamGroup, type ParamGroupInput } from './optimizer.ts';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/** `torch.optim.Adam` (L2 weight decay added to the gradient, optional AMSGrad), PyTorch's update rule. */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[], opts: Partial<AdamOptions> = {}) {
    const defaults: AdamOptions = {
      lr: opts.lr ?? 1e-3, betas: opts.betas ?? [0.9, 0.999], eps: opts.eps ?? 1e-8,
      weight_decay: opts.weight_decay ?? 0, amsgrad: opts.amsgrad ?? false, maximize: opts.maximize ?? false,
    };
    if (defaults.lr < 0) throw new Error(`Invalid learning rate: ${defaults.lr}`);
    if (defaults.eps < 0) throw new Error(`Invalid epsilon value: ${defaults.eps}`);
    if (!(defaults.betas[0] >= 0 && defaults.betas[0] < 1)) throw new Error(`Invalid beta parameter at index 0: ${defaults.betas[0]}`);
    if (!(defaults.betas[1] >= 0 && defaults.betas[1] < 1)) throw new Error(`Invalid beta parameter at index 1: ${defaults.betas[1]}`);
    super(params, defaults);
  }

  protected _stepGroup(group: ParamGroup<AdamOptions>): void {
    const { lr, betas: [b1, b2], eps, weight_decay: wd, amsgrad, maximize } = group.options;
    for (const p of group.params) {
      if (p._grad === null) continue;
      const x = storageOf(p);
      const g = p._grad._contiguousData() as Float32Array | Float64Array;
      const st = this._state(p);
      if (st.step === undefined) {
        st.step = 0;
        st.exp_avg = torch.zeros(p.shape, { dtype: p.dtype });
        st.exp_avg_sq = torch.zeros(p.shape, { dtype: p.dtype });
        if (amsgrad) st.max_exp_avg_sq = torch.zeros(p.shape, { dtype: p.dtype });
      }
      const step = (st.step as number) + 1;
      st.step = step;
      const m = storageOf(st.exp_avg as Tensor);
      const v = storageOf(st.exp_avg_sq as Tensor);
      const vmax = amsgrad ? storageOf(st.max_exp_avg_sq as Tensor) : null;
      const bc1 = 1 - b1 ** step;
      const bc2 = 1 - b2 ** step;
      const stepSize = lr / bc1;
      const bc2Sqrt = Math.sqrt(bc2);
      for (let i = 0; i < x.length; i++) {
        let d = maximize ? -g[i]! : g[i]!;
        if (wd !== 0) d += wd * x[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * d;
        v[i] = b2 * v[i]! + (1 - b2) * d * d;
        let vv = v[i]!;
        if (vmax) {
          vmax[i] = Math.max(vmax[i]!, vv);
          vv = vmax[i]!;
        }
        const denom = Math.sqrt(vv) / bc2Sqrt + eps;
        x[i] = x[i]! - stepSize * (m[i]! / denom);
      }
      p._version.value++;
    }
  }
}
