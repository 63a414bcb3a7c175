/**
 * Conv2d on the CPU: im2col + packed GEMM for all three passes, with direct
 * paths where GEMM is the wrong tool:
 * - 1×1, stride 1, no padding: the input plane already is the column
 *   matrix, so GEMM runs on x (forward, weight grad) or writes gradX directly.
 * - depthwise (C/groups == 1, incl. channel multiplier OC = k·C): direct
 *   loops over the kernel taps with precomputed valid ranges (no branches
 *   in the inner loop), accumulating in float64 scratch.
 */
import type { Conv2dParams } from '../types.ts';
import { cpuWorkspace } from '../workspace.ts';
import { sgemm, sgemmBackend } from './gemm.ts';
import { dw3x3Plane, dw3x3WeightPlane } from './depthwise3x3.ts';
import {
  convEngineEnabled, engineConv2dBackwardInput, engineConv2dBackwardWeight, engineConv2dForward,
} from './conv_engine.ts';

/** The conv engine (implicit-im2col wasm GEMM, 2 threads) serves every non-depthwise conv unless sgemm is forced to 'js'. */
function useEngine(): boolean {
  return convEngineEnabled() && sgemmBackend() !== 'js';
}

/** First output index o with 0 <= o·stride − pad + tap. */
function rangeStart(pad: number, tap: number, stride: number): number {
  const v = pad - tap;
  return v <= 0 ? 0 : Math.ceil(v / stride);
}

/** One past the last output index o with o·stride − pad + tap <= inSize − 1, clamped to outSize. */
function rangeEnd(inSize: number, pad: number, tap: number, stride: number, outSize: number): number {
  const v = inSize - 1 + pad - tap;
  if (v < 0) return 0;
  return Math.min(outSize, Math.floor(v / stride) + 1);
}

function isPointwise(p: Conv2dParams): boolean {
  return p.KH === 1 && p.KW === 1 && p.strideH === 1 && p.strideW === 1 &&
    p.padTop === 0 && p.padBottom === 0 && p.padLeft === 0 && p.padRight === 0;
}

function isDepthwise(p: Conv2dParams): boolean {
  return p.groups > 1 && p.C === p.groups;
}

function checkSizes(p: Conv2dParams, x: number | null, w: number | null, y: number | null): void {
  const Cg = p.C / p.groups;
  if (!Number.isInteger(Cg) || p.OC % p.groups !== 0) throw new RangeError('conv2d: channels not divisible by groups');
  if (x !== null && x < p.N * p.C * p.H * p.W) throw new RangeError('conv2d: input buffer too small');
  if (w !== null && w < p.OC * Cg * p.KH * p.KW) throw new RangeError('conv2d: weight buffer too small');
  if (y !== null && y < p.N * p.OC * p.OH * p.OW) throw new RangeError('conv2d: output buffer too small');
}

/**
 * col[(c·KH + kh)·KW + kw, oh·OW + ow] = x[xOff + c·H·W + ih·W + iw] (0 outside),
 * for c < Cg.
 */
export function im2col(p: Conv2dParams, x: Float32Array, xOff: number, Cg: number, col: Float32Array): void {
  const { H, W, KH, KW, OH, OW, strideH: sH, strideW: sW, padTop: pT, padLeft: pL, dilationH: dH, dilationW: dW } = p;
  const OHW = OH * OW;
  let row = 0;
  for (let c = 0; c < Cg; c++) {
    const xc = xOff + c * H * W;
    for (let kh = 0; kh < KH; kh++) {
      const tapH = kh * dH;
      const oh0 = Math.min(OH, rangeStart(pT, tapH, sH));
      const oh1 = Math.max(oh0, rangeEnd(H, pT, tapH, sH, OH));
      for (let kw = 0; kw < KW; kw++) {
        const tapW = kw * dW;
        const ow0 = Math.min(OW, rangeStart(pL, tapW, sW));
        const ow1 = Math.max(ow0, rangeEnd(W, pL, tapW, sW, OW));
        const base = row * OHW;
        col.fill(0, base, base + oh0 * OW);
        for (let oh = oh0; oh < oh1; oh++) {
          const d = base + oh * OW;
          col.fill(0, d, d + ow0);
          let s = xc + (oh * sH - pT + tapH) * W + ow0 * sW - pL + tapW;
          if (sW === 1) {
            for (let ow = ow0; ow < ow1; ow++) col[d + ow] = x[s++]!;
          } else {
            for (let ow = ow0; ow < ow1; ow++) {
              col[d + ow] = x[s]!;
              s += sW;
            }
          }
          col.fill(0, d + ow1, d + OW);
        }
        col.fill(0, base + oh1 * OW, base + OHW);
        row++;
      }
    }
  }
}

/** Adjoint of im2col: gx[gxOff + c·H·W + ih·W + iw] += col[...] (gx must be pre-zeroed). */
export function col2imAdd(p: Conv2dParams, col: Float32Array, Cg: number, gx: Float32Array, gxOff: number): void {
  const { H, W, KH, KW, OH, OW, strideH: sH, strideW: sW, padTop: pT, padLeft: pL, dilationH: dH, dilationW: dW } = p;
  const OHW = OH * OW;
  let row = 0;
  for (let c = 0; c < Cg; c++) {
    const xc = gxOff + c * H * W;
    for (let kh = 0; kh < KH; kh++) {
      const tapH = kh * dH;
      const oh0 = rangeStart(pT, tapH, sH);
      const oh1 = rangeEnd(H, pT, tapH, sH, OH);
      for (let kw = 0; kw < KW; kw++) {
        const tapW = kw * dW;
        const ow0 = rangeStart(pL, tapW, sW);
        const ow1 = rangeEnd(W, pL, tapW, sW, OW);
        const base = row * OHW;
        for (let oh = oh0; oh < oh1; oh++) {
          const d = base + oh * OW;
          let s = xc + (oh * sH - pT + tapH) * W + ow0 * sW - pL + tapW;
          for (let ow = ow0; ow < ow1; ow++) {
            gx[s] = gx[s]! + col[d + ow]!;
            s += sW;
          }
        }
        row++;
      }
    }
  }
}

export function conv2dForward(
  p: Conv2dParams, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array,
): void {
  checkSizes(p, x.length, w.length, out.length);
  if (bias !== null && bias.length < p.OC) throw new RangeError('conv2d: bias buffer too small');
  if (p.N === 0 || p.OC === 0 || p.OH === 0 || p.OW === 0) return;
  if (isDepthwise(p)) return depthwiseForward(p, x, w, bias, out);
  if (useEngine() && engineConv2dForward(p, x, w, bias, out)) return;
  const { N, C, H, W, OC, KH, KW, OH, OW, groups } = p;
  const Cg = C / groups, OCg = OC / groups;
  const CKK = Cg * KH * KW, OHW = OH * OW, HW = H * W;
  const pointwise = isPointwise(p);
  const col = pointwise ? null : cpuWorkspace.f32('conv.col', CKK * OHW);
  for (let n = 0; n < N; n++) {
    if (bias !== null) {
      for (let oc = 0; oc < OC; oc++) {
        const o = (n * OC + oc) * OHW;
        out.fill(bias[oc]!, o, o + OHW);
      }
    }
    const beta = bias !== null ? 1 : 0;
    for (let g = 0; g < groups; g++) {
      const xOff = (n * C + g * Cg) * HW;
      const yOff = (n * OC + g * OCg) * OHW;
      if (col === null) {
        sgemm(false, false, OCg, OHW, CKK, 1, w, g * OCg * CKK, CKK, x, xOff, HW, beta, out, yOff, OHW);
      } else {
        im2col(p, x, xOff, Cg, col);
        sgemm(false, false, OCg, OHW, CKK, 1, w, g * OCg * CKK, CKK, col, 0, OHW, beta, out, yOff, OHW);
      }
    }
  }
}

export function conv2dBackwardInput(p: Conv2dParams, gradOut: Float32Array, w: Float32Array, gradX: Float32Array): void {
  checkSizes(p, gradX.length, w.length, gradOut.length);
  const { N, C, H, W, OC, KH, KW, OH, OW, groups } = p;
  if (N === 0 || C === 0 || H === 0 || W === 0) return;
  if (OC === 0 || OH === 0 || OW === 0) {
    gradX.fill(0, 0, N * C * H * W);
    return;
  }
  if (isDepthwise(p)) return depthwiseBackwardInput(p, gradOut, w, gradX);
  if (useEngine() && engineConv2dBackwardInput(p, gradOut, w, gradX)) return;
  const Cg = C / groups, OCg = OC / groups;
  const CKK = Cg * KH * KW, OHW = OH * OW, HW = H * W;
  if (isPointwise(p)) {
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < groups; g++) {
        sgemm(true, false, Cg, HW, OCg, 1, w, g * OCg * CKK, CKK, gradOut, (n * OC + g * OCg) * OHW, OHW,
          0, gradX, (n * C + g * Cg) * HW, HW);
      }
    }
    return;
  }
  const col = cpuWorkspace.f32('conv.col', CKK * OHW);
  gradX.fill(0, 0, N * C * HW);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      sgemm(true, false, CKK, OHW, OCg, 1, w, g * OCg * CKK, CKK, gradOut, (n * OC + g * OCg) * OHW, OHW, 0, col, 0, OHW);
      col2imAdd(p, col, Cg, gradX, (n * C + g * Cg) * HW);
    }
  }
}

export function conv2dBackwardWeight(
  p: Conv2dParams, x: Float32Array, gradOut: Float32Array, gradW: Float32Array | null, gradBias: Float32Array | null,
): void {
  checkSizes(p, x.length, gradW === null ? null : gradW.length, gradOut.length);
  const { N, C, H, W, OC, KH, KW, OH, OW, groups } = p;
  const Cg = C / groups, OCg = OC / groups;
  const CKK = Cg * KH * KW, OHW = OH * OW, HW = H * W;
  if (gradBias !== null) {
    if (gradBias.length < OC) throw new RangeError('conv2d: gradBias buffer too small');
    for (let oc = 0; oc < OC; oc++) {
      let s = 0;
      for (let n = 0; n < N; n++) {
        const o = (n * OC + oc) * OHW;
        for (let i = o; i < o + OHW; i++) s += gradOut[i]!;
      }
      gradBias[oc] = s;
    }
  }
  if (gradW === null) return;
  if (N === 0 || OHW === 0 || CKK === 0) {
    gradW.fill(0, 0, OC * CKK);
    return;
  }
  if (isDepthwise(p)) return depthwiseBackwardWeight(p, x, gradOut, gradW);
  if (useEngine() && engineConv2dBackwardWeight(p, x, gradOut, gradW)) return;
  const pointwise = isPointwise(p);
  const col = pointwise ? null : cpuWorkspace.f32('conv.col', CKK * OHW);
  for (let n = 0; n < N; n++) {
    const beta = n === 0 ? 0 : 1;
    for (let g = 0; g < groups; g++) {
      const xOff = (n * C + g * Cg) * HW;
      const gyOff = (n * OC + g * OCg) * OHW;
      if (col === null) {
        sgemm(false, true, OCg, CKK, OHW, 1, gradOut, gyOff, OHW, x, xOff, HW, beta, gradW, g * OCg * CKK, CKK);
      } else {
        im2col(p, x, xOff, Cg, col);
        sgemm(false, true, OCg, CKK, OHW, 1, gradOut, gyOff, OHW, col, 0, OHW, beta, gradW, g * OCg * CKK, CKK);
      }
    }
  }
}

// ---------------------------------------------------------------- depthwise

function depthwiseForward(p: Conv2dParams, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array): void {
  const { N, C, H, W, OC, KH, KW, OH, OW, strideH: sH, strideW: sW, padTop: pT, padLeft: pL, dilationH: dH, dilationW: dW } = p;
  const mult = OC / C, OHW = OH * OW, HW = H * W, KK = KH * KW;
  if (KH === 3 && KW === 3) {
    for (let n = 0; n < N; n++) {
      for (let oc = 0; oc < OC; oc++) {
        dw3x3Plane(x, (n * C + ((oc / mult) | 0)) * HW, H, W, w, oc * 9, false, out, (n * OC + oc) * OHW, OH, OW,
          sH, sW, pT, pL, dH, dW, bias === null ? 0 : bias[oc]!, false);
      }
    }
    return;
  }
  const acc = cpuWorkspace.f64('conv.dw', OHW);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < OC; oc++) {
      const c = (oc / mult) | 0;
      const xc = (n * C + c) * HW;
      acc.fill(bias === null ? 0 : bias[oc]!, 0, OHW);
      for (let kh = 0; kh < KH; kh++) {
        const tapH = kh * dH;
        const oh0 = rangeStart(pT, tapH, sH), oh1 = rangeEnd(H, pT, tapH, sH, OH);
        for (let kw = 0; kw < KW; kw++) {
          const tapW = kw * dW;
          const ow0 = rangeStart(pL, tapW, sW), ow1 = rangeEnd(W, pL, tapW, sW, OW);
          if (ow1 <= ow0) continue;
          const wv = w[oc * KK + kh * KW + kw]!;
          for (let oh = oh0; oh < oh1; oh++) {
            let s = xc + (oh * sH - pT + tapH) * W + ow0 * sW - pL + tapW;
            const d = oh * OW;
            for (let ow = d + ow0, end = d + ow1; ow < end; ow++) {
              acc[ow] = acc[ow]! + wv * x[s]!;
              s += sW;
            }
          }
        }
      }
      const o = (n * OC + oc) * OHW;
      for (let i = 0; i < OHW; i++) out[o + i] = acc[i]!;
    }
  }
}

function depthwiseBackwardInput(p: Conv2dParams, gradOut: Float32Array, w: Float32Array, gradX: Float32Array): void {
  const { N, C, H, W, OC, KH, KW, OH, OW, strideH: sH, strideW: sW, padTop: pT, padLeft: pL, dilationH: dH, dilationW: dW } = p;
  const mult = OC / C, OHW = OH * OW, HW = H * W, KK = KH * KW;
  if (KH === 3 && KW === 3 && sH === 1 && sW === 1) {
    // stride 1: a depthwise conv of gradOut with the flipped kernel
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let m = 0; m < mult; m++) {
          const oc = c * mult + m;
          dw3x3Plane(gradOut, (n * OC + oc) * OHW, OH, OW, w, oc * 9, true, gradX, (n * C + c) * HW, H, W,
            1, 1, 2 * dH - pT, 2 * dW - pL, dH, dW, 0, m > 0);
        }
      }
    }
    return;
  }
  const acc = cpuWorkspace.f64('conv.dw', HW);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      acc.fill(0, 0, HW);
      for (let oc = c * mult; oc < (c + 1) * mult; oc++) {
        const go = (n * OC + oc) * OHW;
        for (let kh = 0; kh < KH; kh++) {
          const tapH = kh * dH;
          const oh0 = rangeStart(pT, tapH, sH), oh1 = rangeEnd(H, pT, tapH, sH, OH);
          for (let kw = 0; kw < KW; kw++) {
            const tapW = kw * dW;
            const ow0 = rangeStart(pL, tapW, sW), ow1 = rangeEnd(W, pL, tapW, sW, OW);
            if (ow1 <= ow0) continue;
            const wv = w[oc * KK + kh * KW + kw]!;
            for (let oh = oh0; oh < oh1; oh++) {
              let s = (oh * sH - pT + tapH) * W + ow0 * sW - pL + tapW;
              const d = go + oh * OW;
              for (let ow = d + ow0, end = d + ow1; ow < end; ow++) {
                acc[s] = acc[s]! + wv * gradOut[ow]!;
                s += sW;
              }
            }
          }
        }
      }
      const o = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) gradX[o + i] = acc[i]!;
    }
  }
}

function depthwiseBackwardWeight(p: Conv2dParams, x: Float32Array, gradOut: Float32Array, gradW: Float32Array): void {
  const { N, C, H, W, OC, KH, KW, OH, OW, strideH: sH, strideW: sW, padTop: pT, padLeft: pL, dilationH: dH, dilationW: dW } = p;
  const mult = OC / C, OHW = OH * OW, HW = H * W, KK = KH * KW;
  if (KH === 3 && KW === 3) {
    const sums = cpuWorkspace.f64('conv.dw9', 9);
    for (let oc = 0; oc < OC; oc++) {
      const c = (oc / mult) | 0;
      sums.fill(0, 0, 9);
      for (let n = 0; n < N; n++) {
        dw3x3WeightPlane(x, (n * C + c) * HW, H, W, gradOut, (n * OC + oc) * OHW, OH, OW, sH, sW, pT, pL, dH, dW, sums);
      }
      for (let t = 0; t < 9; t++) gradW[oc * 9 + t] = sums[t]!;
    }
    return;
  }
  for (let oc = 0; oc < OC; oc++) {
    const c = (oc / mult) | 0;
    for (let kh = 0; kh < KH; kh++) {
      const tapH = kh * dH;
      const oh0 = rangeStart(pT, tapH, sH), oh1 = rangeEnd(H, pT, tapH, sH, OH);
      for (let kw = 0; kw < KW; kw++) {
        const tapW = kw * dW;
        const ow0 = rangeStart(pL, tapW, sW), ow1 = rangeEnd(W, pL, tapW, sW, OW);
        let sum = 0;
        if (ow1 > ow0) {
          for (let n = 0; n < N; n++) {
            const xc = (n * C + c) * HW;
            const go = (n * OC + oc) * OHW;
            for (let oh = oh0; oh < oh1; oh++) {
              let s = xc + (oh * sH - pT + tapH) * W + ow0 * sW - pL + tapW;
              const d = go + oh * OW;
              for (let ow = d + ow0, end = d + ow1; ow < end; ow++) {
                sum += gradOut[ow]! * x[s]!;
                s += sW;
              }
            }
          }
        }
        gradW[oc * KK + kh * KW + kw] = sum;
      }
    }
  }
}
