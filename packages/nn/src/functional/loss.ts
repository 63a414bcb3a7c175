import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { allocLike, floatData, make } from './_util.ts';

type FunctionCtx = torch.autograd.FunctionCtx;

export type Reduction = 'mean' | 'sum' | 'none';

function checkReduction(r: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new Error(`${r} is not a valid value for reduction`);
  return r;
}

interface NllGeom {
  N: number;
  C: number;
  /** Spatial size (product of dims after C), 1 for [N, C] input. */
  S: number;
  outShape: number[];
}

/** Negative log-likelihood over class dim 1; grad_fn `NllLossBackward0` (dtype-generic). */
export class NllLossFunction extends torch.autograd.Function {
  static backward_name = 'NllLossBackward0';

  static override forward(ctx: FunctionCtx, input: Tensor, target: Tensor, weight: Tensor | null, reduction: Reduction, ignore_index: number): Tensor {
    const shape = input.shape;
    const batched = shape.length >= 2;
    const N = batched ? shape[0]! : 1;
    const C = batched ? shape[1]! : shape[0]!;
    const S = batched ? shape.slice(2).reduce((a, b) => a * b, 1) : 1;
    const outShape = batched ? [N, ...shape.slice(2)] : [];
    const x = floatData(input);
    const tg = target._contiguousData();
    if (tg.length !== N * S) throw new Error(`Expected target size [${outShape.join(', ')}], got [${target.shape.join(', ')}]`);
    const w = weight ? floatData(weight) : null;
    const per = allocLike(input, N * S);
    const wt = new Float64Array(N * S);
    let total = 0;
    let wsum = 0;
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const i = n * S + s;
        const t = tg[i]!;
        if (t === ignore_index) continue;
        if (!Number.isInteger(t) || t < 0 || t >= C) throw new Error(`Target ${t} is out of bounds.`);
        const wi = w ? w[t]! : 1;
        wt[i] = wi;
        const v = -x[(n * C + t) * S + s]! * wi;
        per[i] = v;
        total += v;
        wsum += wi;
      }
    }
    ctx.geom = { N, C, S, outShape } satisfies NllGeom;
    ctx.target = tg.slice();
    ctx.wt = wt;
    ctx.wsum = wsum;
    ctx.reduction = reduction;
    ctx.inShape = shape;
    ctx.ignore = ignore_index;
    const out = allocLike(input, 1);
    if (reduction === 'none') return make(per, outShape);
    out[0] = reduction === 'sum' ? total : total / wsum;
    return make(out, []);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const { N, C, S } = ctx.geom as NllGeom;
    const tg = ctx.target as Float64Array;
    const wt = ctx.wt as Float64Array;
    const reduction = ctx.reduction as Reduction;
    const gd = floatData(g);
    const out = allocLike(g, N * C * S);
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const i = n * S + s;
        const t = tg[i]!;
        if (t === ctx.ignore) continue;
        const scale = reduction === 'none' ? gd[i]! : reduction === 'sum' ? gd[0]! : gd[0]! / (ctx.wsum as number);
        out[(n * C + t) * S + s] = -wt[i]! * scale;
      }
    }
    return [make(out, ctx.inShape as number[]), null, null, null, null];
  }
}

export interface NllOptions {
  weight?: Tensor | null;
  ignore_index?: number;
  reduction?: Reduction;
}

/** `F.nll_loss(log_probs, target, {weight, ignore_index, reduction})`; target holds class indices. */
export function nll_loss(input: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  return NllLossFunction.apply(input, target, opts.weight ?? null, checkReduction(opts.reduction ?? 'mean'), opts.ignore_index ?? -100);
}

/** `F.cross_entropy(logits, target, opts)` = nll_loss(log_softmax(logits, 1), target). */
export function cross_entropy(input: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  return nll_loss(torch.log_softmax(input, input.dim() === 1 ? 0 : 1), target, opts);
}

/** Mean squared error; grad_fn `MseLossBackward0` (dtype-generic, broadcasting not supported). */
export class MseLossFunction extends torch.autograd.Function {
  static backward_name = 'MseLossBackward0';

  static override forward(ctx: FunctionCtx, input: Tensor, target: Tensor, reduction: Reduction): Tensor {
    const a = floatData(input);
    const b = floatData(target);
    const diff = allocLike(input, a.length);
    let total = 0;
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!;
      diff[i] = d;
      total += d * d;
    }
    ctx.diff = diff;
    ctx.shape = input.shape;
    ctx.reduction = reduction;
    if (reduction === 'none') {
      const out = allocLike(input, a.length);
      for (let i = 0; i < a.length; i++) out[i] = diff[i]! * diff[i]!;
      return make(out, input.shape);
    }
    const out = allocLike(input, 1);
    out[0] = reduction === 'sum' ? total : total / Math.max(1, a.length);
    return make(out, []);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const diff = ctx.diff as Float32Array | Float64Array;
    const reduction = ctx.reduction as Reduction;
    const gd = floatData(g);
    const n = diff.length;
    const ga = new (diff.constructor as Float64ArrayConstructor)(n);
    for (let i = 0; i < n; i++) {
      const s = reduction === 'none' ? gd[i]! : reduction === 'sum' ? gd[0]! : gd[0]! / n;
      ga[i] = 2 * diff[i]! * s;
    }
    const needT = ctx.needs_input_grad[1];
    let gt: Tensor | null = null;
    if (needT) {
      const gb = new (diff.constructor as Float64ArrayConstructor)(n);
      for (let i = 0; i < n; i++) gb[i] = -ga[i]!;
      gt = make(gb, ctx.shape as number[]);
    }
    return [make(ga, ctx.shape as number[]), gt, null];
  }
}

/** `F.mse_loss(input, target, {reduction})`. */
export function mse_loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const a = input.shape;
  const b = target.shape;
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
    throw new Error(`mse_loss: target size [${b.join(', ')}] must match input size [${a.join(', ')}] (broadcasting is not supported)`);
  }
  return MseLossFunction.apply(input, target, checkReduction(opts.reduction ?? 'mean'));
}
