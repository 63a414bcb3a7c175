import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import type { BatchNorm2dParams } from '../kernels/types.ts';
import { f32, kernels, make, resolveBackend } from './_util.ts';
import { handle, hostValues, residentOf, wrap } from './_resident.ts';
import type { GpujsResidentDevice } from '../kernels/gpujs/resident.ts';
import type { BatchNormStats } from '../kernels/gpujs/device.ts';

type FunctionCtx = torch.autograd.FunctionCtx;

/**
 * Batch norm over NCHW; grad_fn `NativeBatchNormBackward0` with grad_inputs (input, weight, bias).
 * In training mode it normalises with batch statistics and updates the running stats in place.
 */
export class BatchNormFunction extends torch.autograd.Function {
  static backward_name = 'NativeBatchNormBackward0';

  static override forward(
    ctx: FunctionCtx, x: Tensor, weight: Tensor | null, bias: Tensor | null,
    runningMean: Tensor | null, runningVar: Tensor | null, training: boolean, momentum: number, eps: number,
    backend?: string,
  ): Tensor {
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const p: BatchNorm2dParams = { N, C, H, W, eps };
    const dev = residentOf('batch_norm', x, weight, bias, runningMean, runningVar);
    if (dev !== null) {
      if (training) throw new Error(`batch_norm: training mode is not implemented on device '${dev.name}' (call model.eval(), or train on the cpu)`);
      if (!runningMean || !runningVar) throw new Error('batch_norm: running_mean and running_var must be defined in evaluation mode');
      // the per-channel fold (scale, shift) is computed on the host from the copies kept at upload
      const stats: BatchNormStats = {
        runningMean: hostValues(runningMean, 'batch_norm running_mean')!,
        runningVar: hostValues(runningVar, 'batch_norm running_var')!,
        weight: weight ? hostValues(weight, 'batch_norm weight') : null,
        bias: bias ? hostValues(bias, 'batch_norm bias') : null,
        eps,
      };
      ctx.dev = dev;
      ctx.stats = stats;
      ctx.p = p;
      ctx.save_for_backward(x, weight);
      return wrap(dev, dev.gpu.batchNorm2dEval(handle(x), stats));
    }
    ctx.backend = resolveBackend(backend);
    const K = kernels(ctx.backend as string);
    const xd = f32(x, 'batch_norm');
    const wd = weight ? f32(weight, 'batch_norm') : null;
    const bd = bias ? f32(bias, 'batch_norm') : null;
    const out = new Float32Array(x.numel());
    ctx.p = p;
    ctx.training = training;
    ctx.hasWeight = weight !== null;
    if (training) {
      const mean = new Float32Array(C);
      const invstd = new Float32Array(C);
      const uvar = runningVar ? new Float32Array(C) : null;
      if (N * H * W <= 1) throw new Error(`Expected more than 1 value per channel when training, got input size [${x.shape.join(', ')}]`);
      K.batchNorm2dForwardTrain(p, xd, wd, bd, out, mean, invstd, uvar);
      if (runningMean && runningVar && uvar) {
        const rm = runningMean._contiguousData() as Float32Array;
        const rv = runningVar._contiguousData() as Float32Array;
        if (!runningMean.is_contiguous() || !runningVar.is_contiguous()) throw new Error('batch_norm: running stats must be contiguous');
        for (let c = 0; c < C; c++) {
          rm[c] = (1 - momentum) * rm[c]! + momentum * mean[c]!;
          rv[c] = (1 - momentum) * rv[c]! + momentum * uvar[c]!;
        }
        runningMean._version.value++;
        runningVar._version.value++;
      }
      ctx.mean = mean;
      ctx.invstd = invstd;
      ctx.save_for_backward(x, weight);
    } else {
      if (!runningMean || !runningVar) throw new Error('batch_norm: running_mean and running_var must be defined in evaluation mode');
      const rm = Float32Array.from(f32(runningMean, 'batch_norm'));
      const rv = Float32Array.from(f32(runningVar, 'batch_norm'));
      K.batchNorm2dForwardEval(p, xd, rm, rv, wd, bd, out);
      ctx.rm = rm;
      ctx.rv = rv;
      ctx.save_for_backward(x, weight);
    }
    return make(out, x.shape);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const p = ctx.p as BatchNorm2dParams;
    const [x, weight] = ctx.saved_tensors as [Tensor, Tensor | undefined];
    const [nx, nw, nb] = ctx.needs_input_grad;
    if (ctx.dev) {
      const dev = ctx.dev as GpujsResidentDevice;
      const r = dev.gpu.batchNorm2dBackwardEval(handle(g), handle(x), ctx.stats as BatchNormStats, { weight: nw === true, bias: nb === true });
      const gxd = nx ? wrap(dev, r.gradX) : (r.gradX.dispose(), null);
      return [gxd, r.gradWeight ? wrap(dev, r.gradWeight) : null, r.gradBias ? wrap(dev, r.gradBias) : null, null, null, null, null, null, null];
    }
    const gx = nx ? new Float32Array(x.numel()) : null;
    const gw = nw ? new Float32Array(p.C) : null;
    const gb = nb ? new Float32Array(p.C) : null;
    const wd = ctx.hasWeight && weight ? f32(weight, 'batch_norm') : null;
    const go = f32(g, 'batch_norm backward');
    if (ctx.training) {
      kernels(ctx.backend as string).batchNorm2dBackwardTrain(p, go, f32(x, 'batch_norm'), ctx.mean as Float32Array, ctx.invstd as Float32Array, wd, gx, gw, gb);
    } else {
      kernels(ctx.backend as string).batchNorm2dBackwardEval(p, go, f32(x, 'batch_norm'), ctx.rm as Float32Array, ctx.rv as Float32Array, wd, gx, gw, gb);
    }
    return [gx ? make(gx, x.shape) : null, gw ? make(gw, [p.C]) : null, gb ? make(gb, [p.C]) : null, null, null, null, null, null, null];
  }
}

export interface BatchNormFnOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
  /** Kernel backend to run on (`nn.BatchNorm2d` passes its module's, see `Module.to`); default: the global one. */
  backend?: string;
}

/**
 * `F.batch_norm(input, running_mean, running_var, {weight, bias, training, momentum, eps})` on
 * NCHW (or NC / NCL, reshaped) input.
 */
export function batch_norm(input: Tensor, running_mean: Tensor | null, running_var: Tensor | null, opts: BatchNormFnOptions = {}): Tensor {
  const shape = input.shape;
  if (shape.length < 2) throw new Error(`batch_norm: expected at least 2-D input, got [${shape.join(', ')}]`);
  const x4 = shape.length === 4 ? input : input.reshape(shape[0]!, shape[1]!, -1, 1);
  const save = shape.length === 4 ? null : shape;
  const ctxFree = (x: Tensor): Tensor => (save ? x.reshape(save) : x);
  const y = BatchNormFunction.apply(
    x4, opts.weight ?? null, opts.bias ?? null, running_mean, running_var, opts.training ?? false, opts.momentum ?? 0.1, opts.eps ?? 1e-5,
    resolveBackend(opts.backend),
  );
  return ctxFree(y);
}

export { make };
