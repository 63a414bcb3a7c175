import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { Optimizer, storageOf, type ParamGroup, type ParamGroupInput } from './optimizer.ts';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weight_decay: number;
  nesterov: boolean;
  maximize: boolean;
}

/** `torch.optim.SGD` with momentum, dampening, Nesterov and weight decay (PyTorch's update rule). */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Iterable<Tensor> | ParamGroupInput<SGDOptions>[], opts: Partial<SGDOptions> & { lr?: number } = {}) {
    const defaults: SGDOptions = {
      lr: opts.lr ?? 1e-3, momentum: opts.momentum ?? 0, dampening: opts.dampening ?? 0,
      weight_decay: opts.weight_decay ?? 0, nesterov: opts.nesterov ?? false, maximize: opts.maximize ?? false,
    };
    if (defaults.lr < 0) throw new Error(`Invalid learning rate: ${defaults.lr}`);
    if (defaults.momentum < 0) throw new Error(`Invalid momentum value: ${defaults.momentum}`);
    if (defaults.weight_decay < 0) throw new Error(`Invalid weight_decay value: ${defaults.weight_decay}`);
    if (defaults.nesterov && (defaults.momentum <= 0 || defaults.dampening !== 0)) {
      throw new Error('Nesterov momentum requires a momentum and zero dampening');
    }
    super(params, defaults);
  }

  protected _stepGroup(group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weight_decay: wd, nesterov, maximize } = group.options;
    for (const p of group.params) {
      if (p._grad === null) continue;
      const x = storageOf(p);
      const g = p._grad._contiguousData() as Float32Array | Float64Array;
      const st = this._state(p);
      let buf: Float32Array | Float64Array | null = null;
      let fresh = false;
      if (momentum !== 0) {
        let bt = st.momentum_buffer as Tensor | undefined;
        if (!bt) {
          bt = torch.zeros(p.shape, { dtype: p.dtype });
          st.momentum_buffer = bt;
          fresh = true;
        }
        buf = storageOf(bt);
      }
      for (let i = 0; i < x.length; i++) {
        let d = maximize ? -g[i]! : g[i]!;
        if (wd !== 0) d += wd * x[i]!;
        if (buf) {
          buf[i] = fresh ? d : momentum * buf[i]! + (1 - dampening) * d;
          d = nesterov ? d + momentum * buf[i]! : buf[i]!;
        }
        x[i] = x[i]! - lr * d;
      }
      p._version.value++;
    }
  }
}
