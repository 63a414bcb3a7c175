import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { makeConv2dParams, samePadding, type Conv2dParams } from '../kernels/types.ts';
import { checkDim, f32, kernels, make, pair, resolveBackend } from './_util.ts';
import { handle, residentOf, wrap } from './_resident.ts';
import type { GpujsResidentDevice } from '../kernels/gpujs/resident.ts';

type FunctionCtx = torch.autograd.FunctionCtx;

/**
 * Padding of a convolution: an int, `[padH, padW]`, `'valid'`, `'same'`, or — a gradlens
 * extension for TF-ported models — `[top, bottom, left, right]` (asymmetric, inside the conv).
 */
export type Conv2dPadding = number | [number, number] | [number, number, number, number] | 'same' | 'valid';

export interface Conv2dFnOptions {
  stride?: number | [number, number];
  padding?: Conv2dPadding;
  dilation?: number | [number, number];
  groups?: number;
  /** Kernel backend to run on (`nn.Conv2d` passes its module's, see `Module.to`); default: the global one (`set_backend`). */
  backend?: string;
}

/** [top, bottom, left, right] of a conv with PyTorch's 'same' rule (extra padding goes after). */
export function resolveConvPadding(padding: Conv2dPadding, kernel: [number, number], stride: [number, number], dilation: [number, number]): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new Error("padding='same' is not supported for strided convolutions");
    const th = dilation[0] * (kernel[0] - 1);
    const tw = dilation[1] * (kernel[1] - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]];
  if (padding.length === 4) return [padding[0], padding[1], padding[2], padding[3]];
  throw new Error(`conv2d: invalid padding [${(padding as number[]).join(', ')}]`);
}

export { samePadding };

/** The convolution as an autograd Function over the kernels; grad_fn `ConvolutionBackward0`. */
export class Conv2dFunction extends torch.autograd.Function {
  static backward_name = 'ConvolutionBackward0';

  static override forward(ctx: FunctionCtx, x: Tensor, w: Tensor, b: Tensor | null, p: Conv2dParams, backend?: string): Tensor {
    ctx.save_for_backward(x, w);
    ctx.p = p;
    const dev = residentOf('conv2d', x, w, b);
    if (dev !== null) {
      ctx.dev = dev;
      return wrap(dev, dev.gpu.conv2d(p, handle(x), handle(w), b ? handle(b) : null));
    }
    ctx.backend = resolveBackend(backend);
    const out = new Float32Array(p.N * p.OC * p.OH * p.OW);
    kernels(ctx.backend as string).conv2dForward(p, f32(x, 'conv2d'), f32(w, 'conv2d'), b ? f32(b, 'conv2d') : null, out);
    return make(out, [p.N, p.OC, p.OH, p.OW]);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const p = ctx.p as Conv2dParams;
    const [x, w] = ctx.saved_tensors as [Tensor, Tensor];
    const [nx, nw, nb] = ctx.needs_input_grad;
    if (ctx.dev) {
      const dev = ctx.dev as GpujsResidentDevice;
      const go = handle(g);
      return [
        nx ? wrap(dev, dev.gpu.conv2dBackwardInput(p, go, handle(w))) : null,
        nw ? wrap(dev, dev.gpu.conv2dBackwardWeight(p, handle(x), go)) : null,
        nb ? wrap(dev, dev.gpu.conv2dBackwardBias(p, go)) : null,
        null, null,
      ];
    }
    const go = f32(g, 'conv2d backward');
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (nx) {
      const d = new Float32Array(p.N * p.C * p.H * p.W);
      kernels(ctx.backend as string).conv2dBackwardInput(p, go, f32(w, 'conv2d'), d);
      gx = make(d, [p.N, p.C, p.H, p.W]);
    }
    if (nw || nb) {
      const dw = nw ? new Float32Array(w.numel()) : null;
      const db = nb ? new Float32Array(p.OC) : null;
      kernels(ctx.backend as string).conv2dBackwardWeight(p, f32(x, 'conv2d'), go, dw, db);
      if (dw) gw = make(dw, w.shape);
      if (db) gb = make(db, [p.OC]);
    }
    return [gx, gw, gb, null, null];
  }
}

/** `F.conv2d(input, weight, bias, {stride, padding, dilation, groups})` on NCHW (or CHW) float32 input. */
export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dFnOptions = {}): Tensor {
  checkDim(input, [3, 4], 'conv2d');
  const unbatched = input.dim() === 3;
  const x = unbatched ? input.unsqueeze(0) : input;
  if (weight.dim() !== 4) throw new Error(`conv2d: weight must be 4-D, got [${weight.shape.join(', ')}]`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [OC, Cg, KH, KW] = weight.shape as [number, number, number, number];
  const groups = opts.groups ?? 1;
  if (Cg * groups !== C) {
    throw new Error(
      `Given groups=${groups}, weight of size [${weight.shape.join(', ')}], expected input[${x.shape.join(', ')}] to have ${Cg * groups} channels, but got ${C} channels instead`,
    );
  }
  if (bias && (bias.dim() !== 1 || bias.shape[0] !== OC)) throw new Error(`conv2d: bias must have shape [${OC}], got [${bias.shape.join(', ')}]`);
  const stride = pair(opts.stride ?? 1, 'stride');
  const dilation = pair(opts.dilation ?? 1, 'dilation');
  const [pt, pb, pl, pr] = resolveConvPadding(opts.padding ?? 0, [KH, KW], stride, dilation);
  const p = makeConv2dParams({
    N, C, H, W, OC, KH, KW, strideH: stride[0], strideW: stride[1],
    padTop: pt, padBottom: pb, padLeft: pl, padRight: pr, dilationH: dilation[0], dilationW: dilation[1], groups,
  });
  if (p.OH <= 0 || p.OW <= 0) {
    throw new Error(`Calculated padded input size per channel: (${H + pt + pb} x ${W + pl + pr}). Kernel size: (${dilation[0] * (KH - 1) + 1} x ${dilation[1] * (KW - 1) + 1}). Kernel size can't be greater than actual input size`);
  }
  const out = Conv2dFunction.apply(x, weight, bias, p, resolveBackend(opts.backend));
  return unbatched ? out.squeeze(0) : out;
}
