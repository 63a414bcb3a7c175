import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { allocLike, floatData, make } from './_util.ts';
import { handle, residentOf, wrap } from './_resident.ts';
import type { GpujsResidentDevice } from '../kernels/gpujs/resident.ts';

type FunctionCtx = torch.autograd.FunctionCtx;

/** Constant padding of the last two dims; grad_fn `ConstantPadNdBackward0`. Negative pads crop. */
export class ConstantPad2dFunction extends torch.autograd.Function {
  static backward_name = 'ConstantPadNdBackward0';

  static override forward(ctx: FunctionCtx, x: Tensor, pad: [number, number, number, number], value: number): Tensor {
    const [l, r, t, b] = pad;
    const shape = x.shape;
    const H = shape[shape.length - 2]!;
    const W = shape[shape.length - 1]!;
    const OH = H + t + b;
    const OW = W + l + r;
    if (OH <= 0 || OW <= 0) throw new Error(`The input size ${H}x${W}, plus negative padding ${t},${b},${l},${r} resulted in a negative output size`);
    const planes = x.numel() / (H * W);
    ctx.geom = { planes, H, W, OH, OW, t, l, shape };
    const dev = residentOf('pad', x);
    if (dev !== null) {
      ctx.dev = dev;
      ctx.pad = pad;
      const y = dev.gpu.pad(handle(x, [1, planes, H, W]), pad, value);
      return wrap(dev, y, [...shape.slice(0, -2), OH, OW]);
    }
    const src = floatData(x);
    const out = allocLike(x, planes * OH * OW);
    if (value !== 0) out.fill(value);
    copyPlanes(src, out, planes, H, W, OH, OW, t, l, false);
    return make(out, [...shape.slice(0, -2), OH, OW]);
  }

  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const { planes, H, W, OH, OW, t, l, shape } = ctx.geom as { planes: number; H: number; W: number; OH: number; OW: number; t: number; l: number; shape: number[] };
    if (ctx.dev) {
      const dev = ctx.dev as GpujsResidentDevice;
      const gx = dev.gpu.padBackward(handle(g, [1, planes, OH, OW]), ctx.pad as [number, number, number, number]);
      return [wrap(dev, gx, shape), null, null];
    }
    const gs = floatData(g);
    const out = allocLike(g, planes * H * W);
    copyPlanes(gs, out, planes, H, W, OH, OW, t, l, true);
    return [make(out, shape), null, null];
  }
}

/** Copies the overlap of an H×W plane placed at (t, l) inside an OH×OW plane (forward) or back (reverse). */
function copyPlanes(src: Float32Array | Float64Array, dst: Float32Array | Float64Array, planes: number, H: number, W: number, OH: number, OW: number, t: number, l: number, reverse: boolean): void {
  const h0 = Math.max(0, -t);
  const h1 = Math.min(H, OH - t);
  const w0 = Math.max(0, -l);
  const w1 = Math.min(W, OW - l);
  for (let p = 0; p < planes; p++) {
    for (let h = h0; h < h1; h++) {
      const ib = p * H * W + h * W;
      const ob = p * OH * OW + (h + t) * OW + l;
      for (let w = w0; w < w1; w++) {
        if (reverse) dst[ib + w] = src[ob + w]!;
        else dst[ob + w] = src[ib + w]!;
      }
    }
  }
}

/**
 * `F.pad(x, pad, mode='constant', value=0)` for the last two dims: `pad` is PyTorch's
 * [left, right, top, bottom] (or [left, right] for the last dim only).
 */
export function pad(x: Tensor, padding: number[], mode: 'constant' = 'constant', value = 0): Tensor {
  if (mode !== 'constant') throw new Error(`pad: only mode='constant' is implemented, got '${mode}'`);
  if (padding.length !== 2 && padding.length !== 4) throw new Error('pad: padding length must be 2 or 4 in gradlens');
  if (x.dim() < 2) throw new Error('pad: input must have at least 2 dims');
  const [l, r, t, b] = [padding[0]!, padding[1]!, padding[2] ?? 0, padding[3] ?? 0];
  return ConstantPad2dFunction.apply(x, [l, r, t, b], value);
}
