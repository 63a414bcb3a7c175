import * as torch from '@gradlens/core';
import { warnOnce, type Tensor } from '@gradlens/core';
import { allocLike, floatData, make } from './_util.ts';

type FunctionCtx = torch.autograd.FunctionCtx;

/** `F.relu(x)` (grad_fn `ReluBackward0`); with `inplace` it is `relu_` on x. */
export function relu(x: Tensor, inplace = false): Tensor {
  return inplace ? torch.relu_(x) : torch.relu(x);
}

/** `F.relu_(x)`. */
export function relu_(x: Tensor): Tensor {
  return torch.relu_(x);
}

/** Leaky ReLU as a Function (dtype-generic loops); grad_fn `LeakyReluBackward0`. */
export class LeakyReluFunction extends torch.autograd.Function {
  static backward_name = 'LeakyReluBackward0';

  static override forward(ctx: FunctionCtx, x: Tensor, slope: number): Tensor {
    const src = floatData(x);
    const out = allocLike(x, src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      out[i] = v > 0 ? v : v * slope;
    }
    ctx.save_for_backward(x);
    ctx.slope = slope;
    return make(out, x.shape);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const [x] = ctx.saved_tensors as [Tensor];
    const slope = ctx.slope as number;
    const xs = floatData(x);
    const gs = floatData(g);
    const out = allocLike(x, xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = xs[i]! > 0 ? gs[i]! : gs[i]! * slope;
    return [make(out, x.shape), null];
  }
}

/** `F.leaky_relu(x, negative_slope = 0.01)` (always out of place in gradlens). */
export function leaky_relu(x: Tensor, negative_slope = 0.01): Tensor {
  return LeakyReluFunction.apply(x, negative_slope);
}

export function sigmoid(x: Tensor): Tensor {
  return torch.sigmoid(x);
}

export function tanh(x: Tensor): Tensor {
  return torch.tanh(x);
}

/** PyTorch's implicit-dim rule for softmax (deprecated there too): dim 0 for 0/1/3-D input, else 1. */
export function _get_softmax_dim(name: string, ndim: number): number {
  warnOnce(`implicit-dim-${name}`, `Implicit dimension choice for ${name} has been deprecated. Change the call to include dim=X as an argument.`);
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

/** `F.softmax(x, dim)`. */
export function softmax(x: Tensor, dim?: number | null): Tensor {
  return torch.softmax(x, dim ?? _get_softmax_dim('softmax', x.dim()));
}

/** `F.log_softmax(x, dim)`. */
export function log_softmax(x: Tensor, dim?: number | null): Tensor {
  return torch.log_softmax(x, dim ?? _get_softmax_dim('log_softmax', x.dim()));
}
