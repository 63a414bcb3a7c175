import * as torch from '@gradlens/core';
import { Tensor } from '@gradlens/core';
import { makePool2dParams, type AdaptivePool2dParams, type AvgPool2dOptions, type Pool2dParams } from '../kernels/types.ts';
import { checkDim, f32, kernels, make, pair, resolveBackend } from './_util.ts';
import { handle, residentOf, wrap } from './_resident.ts';
import type { GpujsResidentDevice } from '../kernels/gpujs/resident.ts';

type FunctionCtx = torch.autograd.FunctionCtx;
type IntOrPair = number | [number, number];

export interface MaxPool2dFnOptions {
  /** Defaults to kernel_size. */
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  ceil_mode?: boolean;
  /** Kernel backend to run on (the layer passes its module's, see `Module.to`); default: the global one. */
  backend?: string;
}

export interface AvgPool2dFnOptions {
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  ceil_mode?: boolean;
  count_include_pad?: boolean;
  divisor_override?: number | null;
  /** Kernel backend to run on (the layer passes its module's, see `Module.to`); default: the global one. */
  backend?: string;
}

function batched(x: Tensor, what: string): [Tensor, boolean] {
  checkDim(x, [3, 4], what);
  return x.dim() === 3 ? [x.unsqueeze(0), true] : [x, false];
}

function poolParams(x: Tensor, kernel: IntOrPair, o: { stride?: IntOrPair | null; padding?: IntOrPair; dilation?: IntOrPair; ceil_mode?: boolean }): Pool2dParams {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [KH, KW] = pair(kernel, 'kernel_size');
  const [sH, sW] = o.stride === undefined || o.stride === null ? [KH, KW] : pair(o.stride, 'stride');
  const [pH, pW] = pair(o.padding ?? 0, 'padding');
  const [dH, dW] = pair(o.dilation ?? 1, 'dilation');
  return makePool2dParams({ N, C, H, W, KH, KW, strideH: sH, strideW: sW, padH: pH, padW: pW, dilationH: dH, dilationW: dW, ceilMode: o.ceil_mode ?? false });
}

/** Max pooling with indices; grad_fn `MaxPool2DWithIndicesBackward0`. Returns [values, indices]. */
export class MaxPool2dFunction extends torch.autograd.Function {
  static backward_name = 'MaxPool2DWithIndicesBackward0';

  static override forward(ctx: FunctionCtx, x: Tensor, p: Pool2dParams, backend?: string): Tensor[] {
    ctx.p = p;
    const dev = residentOf('max_pool2d', x);
    if (dev !== null) {
      // the argmax stays on the device (as float32 flat indices) for the backward pass
      const r = dev.gpu.maxPool2d(p, handle(x));
      const argmax = wrap(dev, r.argmax);
      ctx.dev = dev;
      ctx.argmax = argmax;
      ctx.mark_non_differentiable(argmax);
      return [wrap(dev, r.out), argmax];
    }
    const n = p.N * p.C * p.OH * p.OW;
    const out = new Float32Array(n);
    const argmax = new Int32Array(n);
    ctx.backend = resolveBackend(backend);
    kernels(ctx.backend as string).maxPool2dForward(p, f32(x, 'max_pool2d'), out, argmax);
    ctx.argmax = argmax;
    const shape = [p.N, p.C, p.OH, p.OW];
    const idx = Tensor._make(Float64Array.from(argmax), shape, 'int64');
    ctx.mark_non_differentiable(idx);
    return [make(out, shape), idx];
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const p = ctx.p as Pool2dParams;
    if (ctx.dev) {
      const dev = ctx.dev as GpujsResidentDevice;
      return [wrap(dev, dev.gpu.maxPool2dBackward(p, handle(g), handle(ctx.argmax as Tensor))), null, null];
    }
    const gx = new Float32Array(p.N * p.C * p.H * p.W);
    kernels(ctx.backend as string).maxPool2dBackward(p, f32(g, 'max_pool2d backward'), ctx.argmax as Int32Array, gx);
    return [make(gx, [p.N, p.C, p.H, p.W]), null, null];
  }
}

/** `F.max_pool2d_with_indices`: values and flat indices (ih·W + iw within each plane). */
export function max_pool2d_with_indices(input: Tensor, kernel_size: IntOrPair, opts: MaxPool2dFnOptions = {}): [Tensor, Tensor] {
  const [x, unb] = batched(input, 'max_pool2d');
  if (x._dev !== null) throw new Error(`max_pool2d_with_indices: int64 indices are not implemented on device '${x.device}' (max_pool2d works)`);
  const [v, i] = MaxPool2dFunction.apply(x, poolParams(x, kernel_size, opts), resolveBackend(opts.backend)) as [Tensor, Tensor];
  return unb ? [v.squeeze(0), i.squeeze(0)] : [v, i];
}

/** `F.max_pool2d(input, kernel_size, {stride, padding, dilation, ceil_mode})`. */
export function max_pool2d(input: Tensor, kernel_size: IntOrPair, opts: MaxPool2dFnOptions = {}): Tensor {
  if (input._dev !== null) {
    const [x, unb] = batched(input, 'max_pool2d');
    const v = (MaxPool2dFunction.apply(x, poolParams(x, kernel_size, opts)) as Tensor[])[0]!;
    return unb ? v.squeeze(0) : v;
  }
  return max_pool2d_with_indices(input, kernel_size, opts)[0];
}

/** Average pooling; grad_fn `AvgPool2DBackward0`. */
export class AvgPool2dFunction extends torch.autograd.Function {
  static backward_name = 'AvgPool2DBackward0';

  static override forward(ctx: FunctionCtx, x: Tensor, p: Pool2dParams, o: AvgPool2dOptions, backend?: string): Tensor {
    ctx.p = p;
    ctx.o = o;
    const dev = residentOf('avg_pool2d', x);
    if (dev !== null) {
      ctx.dev = dev;
      return wrap(dev, dev.gpu.avgPool2d(p, o, handle(x)));
    }
    const out = new Float32Array(p.N * p.C * p.OH * p.OW);
    ctx.backend = resolveBackend(backend);
    kernels(ctx.backend as string).avgPool2dForward(p, o, f32(x, 'avg_pool2d'), out);
    return make(out, [p.N, p.C, p.OH, p.OW]);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const p = ctx.p as Pool2dParams;
    if (ctx.dev) {
      const dev = ctx.dev as GpujsResidentDevice;
      return [wrap(dev, dev.gpu.avgPool2dBackward(p, ctx.o as AvgPool2dOptions, handle(g))), null, null, null];
    }
    const gx = new Float32Array(p.N * p.C * p.H * p.W);
    kernels(ctx.backend as string).avgPool2dBackward(p, ctx.o as AvgPool2dOptions, f32(g, 'avg_pool2d backward'), gx);
    return [make(gx, [p.N, p.C, p.H, p.W]), null, null, null];
  }
}

/** `F.avg_pool2d(input, kernel_size, {stride, padding, ceil_mode, count_include_pad, divisor_override})`. */
export function avg_pool2d(input: Tensor, kernel_size: IntOrPair, opts: AvgPool2dFnOptions = {}): Tensor {
  const [x, unb] = batched(input, 'avg_pool2d');
  const p = poolParams(x, kernel_size, opts);
  const o: AvgPool2dOptions = { countIncludePad: opts.count_include_pad ?? true, divisorOverride: opts.divisor_override ?? null };
  if (o.divisorOverride !== null && o.divisorOverride <= 0) throw new Error('divisor must be not zero');
  const y = AvgPool2dFunction.apply(x, p, o, resolveBackend(opts.backend));
  return unb ? y.squeeze(0) : y;
}

/** Adaptive average pooling; grad_fn `AdaptiveAvgPool2DBackward0`. */
export class AdaptiveAvgPool2dFunction extends torch.autograd.Function {
  static backward_name = 'AdaptiveAvgPool2DBackward0';

  static override forward(ctx: FunctionCtx, x: Tensor, p: AdaptivePool2dParams, backend?: string): Tensor {
    ctx.p = p;
    const dev = residentOf('adaptive_avg_pool2d', x);
    if (dev !== null) {
      ctx.dev = dev;
      return wrap(dev, dev.gpu.adaptiveAvgPool2d(p, handle(x)));
    }
    const out = new Float32Array(p.N * p.C * p.OH * p.OW);
    ctx.backend = resolveBackend(backend);
    kernels(ctx.backend as string).adaptiveAvgPool2dForward(p, f32(x, 'adaptive_avg_pool2d'), out);
    return make(out, [p.N, p.C, p.OH, p.OW]);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const p = ctx.p as AdaptivePool2dParams;
    if (ctx.dev) {
      const dev = ctx.dev as GpujsResidentDevice;
      return [wrap(dev, dev.gpu.adaptiveAvgPool2dBackward(p, handle(g))), null, null];
    }
    const gx = new Float32Array(p.N * p.C * p.H * p.W);
    kernels(ctx.backend as string).adaptiveAvgPool2dBackward(p, f32(g, 'adaptive_avg_pool2d backward'), gx);
    return [make(gx, [p.N, p.C, p.H, p.W]), null, null];
  }
}

/** On a device, the 1×1 case as the adaptive kernel under PyTorch's node name for the mean it is there. */
class DeviceMeanHWFunction extends AdaptiveAvgPool2dFunction {
  static override backward_name = 'MeanBackward1';
}

/**
 * `F.adaptive_avg_pool2d(input, output_size)`; `null` in output_size keeps that input size. An
 * output of 1×1 is a mean over H, W (grad_fn `MeanBackward1`), as in PyTorch.
 */
export function adaptive_avg_pool2d(input: Tensor, output_size: number | [number | null, number | null], opts: { backend?: string } = {}): Tensor {
  const [x, unb] = batched(input, 'adaptive_avg_pool2d');
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [oh, ow] = typeof output_size === 'number' ? [output_size, output_size] : output_size;
  const OH = oh ?? H;
  const OW = ow ?? W;
  let y: Tensor;
  if (OH === 1 && OW === 1 && x._dev !== null) y = DeviceMeanHWFunction.apply(x, { N, C, H, W, OH, OW });
  else if (OH === 1 && OW === 1) y = x.mean([-1, -2], { keepdim: true });
  else y = AdaptiveAvgPool2dFunction.apply(x, { N, C, H, W, OH, OW }, resolveBackend(opts.backend));
  return unb ? y.squeeze(0) : y;
}
