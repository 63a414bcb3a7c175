/** Pooling kernels with PyTorch's window, padding and divisor rules. */
import type { AdaptivePool2dParams, AvgPool2dOptions, Pool2dParams } from '../types.ts';
import { cpuWorkspace } from '../workspace.ts';

function checkPool(p: Pool2dParams, x: number, y: number): void {
  if (x < p.N * p.C * p.H * p.W) throw new RangeError('pool2d: input buffer too small');
  if (y < p.N * p.C * p.OH * p.OW) throw new RangeError('pool2d: output buffer too small');
}

export function maxPool2dForward(p: Pool2dParams, x: Float32Array, out: Float32Array, argmax: Int32Array): void {
  checkPool(p, x.length, Math.min(out.length, argmax.length));
  const { N, C, H, W, KH, KW, OH, OW, strideH: sH, strideW: sW, padH, padW, dilationH: dH, dilationW: dW } = p;
  const HW = H * W;
  for (let plane = 0; plane < N * C; plane++) {
    const xb = plane * HW;
    let o = plane * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      let hs = oh * sH - padH;
      const he = Math.min(hs + (KH - 1) * dH + 1, H);
      while (hs < 0) hs += dH;
      for (let ow = 0; ow < OW; ow++) {
        let ws = ow * sW - padW;
        const we = Math.min(ws + (KW - 1) * dW + 1, W);
        while (ws < 0) ws += dW;
        // an all-padding window (possible with dilation) yields -inf and index -1
        let best = -1;
        let bv = -Infinity;
        for (let ih = hs; ih < he; ih += dH) {
          for (let iw = ws; iw < we; iw += dW) {
            const idx = ih * W + iw;
            const v = x[xb + idx]!;
            if (v > bv || v !== v || best < 0) {
              bv = v;
              best = idx;
            }
          }
        }
        out[o] = bv;
        argmax[o] = best;
        o++;
      }
    }
  }
}

export function maxPool2dBackward(p: Pool2dParams, gradOut: Float32Array, argmax: Int32Array, gradX: Float32Array): void {
  checkPool(p, gradX.length, Math.min(gradOut.length, argmax.length));
  const { N, C, H, W, OH, OW } = p;
  const HW = H * W, OHW = OH * OW;
  gradX.fill(0, 0, N * C * HW);
  for (let plane = 0; plane < N * C; plane++) {
    const xb = plane * HW;
    const ob = plane * OHW;
    for (let i = 0; i < OHW; i++) {
      const a = argmax[ob + i]!;
      if (a < 0) continue;
      const t = xb + a;
      gradX[t] = gradX[t]! + gradOut[ob + i]!;
    }
  }
}

/** Visits every avg-pool window: (oh, ow, hs, he, ws, we, scale). */
function avgWindows(
  p: Pool2dParams, o: AvgPool2dOptions,
  visit: (oi: number, hs: number, he: number, ws: number, we: number, scale: number) => void,
): void {
  const { H, W, KH, KW, OH, OW, strideH: sH, strideW: sW, padH, padW } = p;
  if (p.dilationH !== 1 || p.dilationW !== 1) throw new RangeError('avg_pool2d: dilation must be 1');
  const div = o.divisorOverride;
  for (let oh = 0; oh < OH; oh++) {
    let hs = oh * sH - padH;
    let he = Math.min(hs + KH, H + padH);
    const ph = he - hs;
    hs = Math.max(hs, 0);
    he = Math.min(he, H);
    for (let ow = 0; ow < OW; ow++) {
      let ws = ow * sW - padW;
      let we = Math.min(ws + KW, W + padW);
      const poolSize = ph * (we - ws);
      ws = Math.max(ws, 0);
      we = Math.min(we, W);
      let scale = 0;
      if (hs < he && ws < we) {
        const d = div !== null && div !== 0 ? div : o.countIncludePad ? poolSize : (he - hs) * (we - ws);
        scale = 1 / d;
      }
      visit(oh * OW + ow, hs, he, ws, we, scale);
    }
  }
}

export function avgPool2dForward(p: Pool2dParams, o: AvgPool2dOptions, x: Float32Array, out: Float32Array): void {
  checkPool(p, x.length, out.length);
  const { N, C, H, W, OH, OW } = p;
  // window geometry is identical for every plane: precompute it once
  const OHW = OH * OW;
  const geo = cpuWorkspace.f64('pool.geo', OHW * 5);
  avgWindows(p, o, (oi, hs, he, ws, we, scale) => {
    geo[oi * 5] = hs; geo[oi * 5 + 1] = he; geo[oi * 5 + 2] = ws; geo[oi * 5 + 3] = we; geo[oi * 5 + 4] = scale;
  });
  for (let plane = 0; plane < N * C; plane++) {
    const xb = plane * H * W;
    const ob = plane * OHW;
    for (let oi = 0; oi < OHW; oi++) {
      const hs = geo[oi * 5]!, he = geo[oi * 5 + 1]!, ws = geo[oi * 5 + 2]!, we = geo[oi * 5 + 3]!, scale = geo[oi * 5 + 4]!;
      let s = 0;
      for (let ih = hs; ih < he; ih++) {
        const r = xb + ih * W;
        for (let iw = ws; iw < we; iw++) s += x[r + iw]!;
      }
      out[ob + oi] = s * scale;
    }
  }
}

export function avgPool2dBackward(p: Pool2dParams, o: AvgPool2dOptions, gradOut: Float32Array, gradX: Float32Array): void {
  checkPool(p, gradX.length, gradOut.length);
  const { N, C, H, W, OH, OW } = p;
  const OHW = OH * OW, HW = H * W;
  const geo = cpuWorkspace.f64('pool.geo', OHW * 5);
  avgWindows(p, o, (oi, hs, he, ws, we, scale) => {
    geo[oi * 5] = hs; geo[oi * 5 + 1] = he; geo[oi * 5 + 2] = ws; geo[oi * 5 + 3] = we; geo[oi * 5 + 4] = scale;
  });
  const acc = cpuWorkspace.f64('pool.acc', HW);
  for (let plane = 0; plane < N * C; plane++) {
    const ob = plane * OHW;
    acc.fill(0, 0, HW);
    for (let oi = 0; oi < OHW; oi++) {
      const hs = geo[oi * 5]!, he = geo[oi * 5 + 1]!, ws = geo[oi * 5 + 2]!, we = geo[oi * 5 + 3]!;
      const g = gradOut[ob + oi]! * geo[oi * 5 + 4]!;
      for (let ih = hs; ih < he; ih++) {
        const r = ih * W;
        for (let iw = ws; iw < we; iw++) acc[r + iw] = acc[r + iw]! + g;
      }
    }
    const xb = plane * HW;
    for (let i = 0; i < HW; i++) gradX[xb + i] = acc[i]!;
  }
}

function checkAdaptive(p: AdaptivePool2dParams, x: number, y: number): void {
  if (p.OH <= 0 || p.OW <= 0) throw new RangeError('adaptive_avg_pool2d: output size must be positive');
  if (x < p.N * p.C * p.H * p.W) throw new RangeError('adaptive_avg_pool2d: input buffer too small');
  if (y < p.N * p.C * p.OH * p.OW) throw new RangeError('adaptive_avg_pool2d: output buffer too small');
}

/** PyTorch's adaptive window: [floor(i·in/out), ceil((i+1)·in/out)). */
function adaptiveStart(i: number, inSize: number, outSize: number): number {
  return Math.floor((i * inSize) / outSize);
}
function adaptiveEnd(i: number, inSize: number, outSize: number): number {
  return Math.ceil(((i + 1) * inSize) / outSize);
}

export function adaptiveAvgPool2dForward(p: AdaptivePool2dParams, x: Float32Array, out: Float32Array): void {
  checkAdaptive(p, x.length, out.length);
  const { N, C, H, W, OH, OW } = p;
  for (let plane = 0; plane < N * C; plane++) {
    const xb = plane * H * W;
    let o = plane * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const hs = adaptiveStart(oh, H, OH), he = adaptiveEnd(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const ws = adaptiveStart(ow, W, OW), we = adaptiveEnd(ow, W, OW);
        let s = 0;
        for (let ih = hs; ih < he; ih++) {
          const r = xb + ih * W;
          for (let iw = ws; iw < we; iw++) s += x[r + iw]!;
        }
        out[o++] = s / ((he - hs) * (we - ws));
      }
    }
  }
}

export function adaptiveAvgPool2dBackward(p: AdaptivePool2dParams, gradOut: Float32Array, gradX: Float32Array): void {
  checkAdaptive(p, gradX.length, gradOut.length);
  const { N, C, H, W, OH, OW } = p;
  const HW = H * W;
  const acc = cpuWorkspace.f64('pool.acc', HW);
  for (let plane = 0; plane < N * C; plane++) {
    acc.fill(0, 0, HW);
    let o = plane * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const hs = adaptiveStart(oh, H, OH), he = adaptiveEnd(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const ws = adaptiveStart(ow, W, OW), we = adaptiveEnd(ow, W, OW);
        const g = gradOut[o++]! / ((he - hs) * (we - ws));
        for (let ih = hs; ih < he; ih++) {
          const r = ih * W;
          for (let iw = ws; iw < we; iw++) acc[r + iw] = acc[r + iw]! + g;
        }
      }
    }
    const xb = plane * HW;
    for (let i = 0; i < HW; i++) gradX[xb + i] = acc[i]!;
  }
}
