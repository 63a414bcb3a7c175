import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { f32, kernels, make, resolveBackend } from './_util.ts';
import { handle, residentOf, wrap } from './_resident.ts';
import type { GpujsResidentDevice } from '../kernels/gpujs/resident.ts';
import type { DeviceTensor } from '../kernels/gpujs/device.ts';

type FunctionCtx = torch.autograd.FunctionCtx;

/** `weight.t()` as its own node, `TBackward0`, as in PyTorch's `F.linear` graph. */
export class TFunction extends torch.autograd.Function {
  static backward_name = 'TBackward0';
  static override forward(_ctx: FunctionCtx, w: Tensor): Tensor {
    const dev = residentOf('t', w);
    if (dev === null) return w.t();
    // device tensors are contiguous: the transpose is a copy, which remembers its source so the
    // linear kernels (which read the [OUT, K] weight) need not transpose it back
    const wT = wrap(dev, dev.gpu.transpose2d(handle(w)));
    transposeSource.set(wT, w);
    return wT;
  }
  static override backward(_ctx: FunctionCtx, g: Tensor): Tensor {
    const dev = residentOf('t', g);
    return dev === null ? g.t() : wrap(dev, dev.gpu.transpose2d(handle(g)));
  }
}

/** Device only: the [OUT, K] weight a transposed copy was made from (see TFunction). */
const transposeSource = new WeakMap<Tensor, Tensor>();

/** The [OUT, K] weight behind a device wT [K, OUT]: its source when known, else a transposed copy. */
function weightOf(dev: GpujsResidentDevice, wT: Tensor): DeviceTensor {
  const w = transposeSource.get(wT);
  return handle(w !== undefined && w._dev !== null ? w : wrap(dev, dev.gpu.transpose2d(handle(wT))));
}

/** The transpose of a temporary (which is freed once the transpose has run). */
function transposed(dev: GpujsResidentDevice, t: DeviceTensor): DeviceTensor {
  const r = dev.gpu.transpose2d(t);
  t.dispose();
  return r;
}

/**
 * `addmm(bias, x, wT)` = x·wT + bias with x [N, K], wT [K, OUT] (a transposed view of the [OUT, K]
 * weight, so the kernel reads the weight without a copy). grad_fn `AddmmBackward0`, or
 * `MmBackward0` without bias: grad_inputs are (bias, input, weight.t()) as in PyTorch.
 */
export class AddmmFunction extends torch.autograd.Function {
  static backward_name = 'AddmmBackward0';

  static override forward(ctx: FunctionCtx, bias: Tensor, x: Tensor, wT: Tensor, backend?: string): Tensor {
    return linearForward(ctx, x, wT, bias, backend);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const [gx, gwT, gb] = linearBackward(ctx, g, ctx.needs_input_grad[1]!, ctx.needs_input_grad[2]!, ctx.needs_input_grad[0]!);
    return [gb, gx, gwT, null];
  }
}

export class MmFunction extends torch.autograd.Function {
  static backward_name = 'MmBackward0';

  static override forward(ctx: FunctionCtx, x: Tensor, wT: Tensor, backend?: string): Tensor {
    return linearForward(ctx, x, wT, null, backend);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const [gx, gwT] = linearBackward(ctx, g, ctx.needs_input_grad[0]!, ctx.needs_input_grad[1]!, false);
    return [gx, gwT, null];
  }
}

function linearForward(ctx: FunctionCtx, x: Tensor, wT: Tensor, bias: Tensor | null, backend: string | undefined): Tensor {
  const [N, K] = x.shape as [number, number];
  const OUT = wT.shape[1]!;
  const p = { N, K, OUT };
  ctx.p = p;
  ctx.backend = resolveBackend(backend);
  ctx.save_for_backward(x, wT);
  const dev = residentOf('linear', x, wT, bias);
  if (dev !== null) {
    ctx.dev = dev;
    return wrap(dev, dev.gpu.linear(p, handle(x), weightOf(dev, wT), bias ? handle(bias) : null));
  }
  const out = new Float32Array(N * OUT);
  kernels(ctx.backend as string).linearForward(p, f32(x, 'linear'), f32(wT.t(), 'linear'), bias ? f32(bias, 'linear') : null, out);
  return make(out, [N, OUT]);
}

function linearBackward(ctx: FunctionCtx, g: Tensor, nx: boolean, nw: boolean, nb: boolean): [Tensor | null, Tensor | null, Tensor | null] {
  const p = ctx.p as { N: number; K: number; OUT: number };
  const [x, wT] = ctx.saved_tensors as [Tensor, Tensor];
  if (ctx.dev) {
    const dev = ctx.dev as GpujsResidentDevice;
    const go = handle(g);
    return [
      nx ? wrap(dev, dev.gpu.linearBackwardInput(p, go, weightOf(dev, wT))) : null,
      // the slot is wT's [K, OUT]; TBackward0 transposes it back for the weight
      nw ? wrap(dev, transposed(dev, dev.gpu.linearBackwardWeight(p, handle(x), go))) : null,
      nb ? wrap(dev, dev.gpu.linearBackwardBias(p, go)) : null,
    ];
  }
  const go = f32(g, 'linear backward');
  let gx: Tensor | null = null;
  let gwT: Tensor | null = null;
  let gb: Tensor | null = null;
  if (nx) {
    const d = new Float32Array(p.N * p.K);
    kernels(ctx.backend as string).linearBackwardInput(p, go, f32(wT.t(), 'linear'), d);
    gx = make(d, [p.N, p.K]);
  }
  if (nw || nb) {
    const dw = nw ? new Float32Array(p.OUT * p.K) : null;
    const db = nb ? new Float32Array(p.OUT) : null;
    kernels(ctx.backend as string).linearBackwardWeight(p, f32(x, 'linear'), go, dw, db);
    if (dw) gwT = make(dw, [p.OUT, p.K]).t();
    if (db) gb = make(db, [p.OUT]);
  }
  return [gx, gwT, gb];
}

/**
 * `F.linear(input, weight, bias)`: y = x·Wᵀ + b over the last dim of `input` (any leading dims).
 * `opts.backend`: kernel backend (`nn.Linear` passes its module's); default: the global one.
 */
export function linear(input: Tensor, weight: Tensor, bias: Tensor | null = null, opts: { backend?: string } = {}): Tensor {
  if (weight.dim() !== 2) throw new Error(`linear: weight must be 2-D, got [${weight.shape.join(', ')}]`);
  const [OUT, K] = weight.shape as [number, number];
  const inShape = input.shape;
  if (inShape.length === 0 || inShape[inShape.length - 1] !== K) {
    throw new Error(`mat1 and mat2 shapes cannot be multiplied (${inShape.length >= 2 ? inShape.slice(0, -1).reduce((a, b) => a * b, 1) : 1}x${inShape[inShape.length - 1] ?? 1} and ${K}x${OUT})`);
  }
  const x2 = inShape.length === 2 ? input : input.reshape(-1, K);
  const wT = TFunction.apply(weight);
  const backend = resolveBackend(opts.backend);
  const y = bias ? AddmmFunction.apply(bias, x2, wT, backend) : MmFunction.apply(x2, wT, backend);
  return inShape.length === 2 ? y : y.view([...inShape.slice(0, -1), OUT]);
}
