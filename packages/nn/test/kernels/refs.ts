/** Naive float64 reference implementations for the kernel tests. */
import type { AdaptivePool2dParams, AvgPool2dOptions, Conv2dParams, Pool2dParams } from '../../src/kernels/types.ts';

export type Arr = ArrayLike<number>;

export function refSgemm(
  tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number,
  A: Arr, aOff: number, lda: number, B: Arr, bOff: number, ldb: number,
  beta: number, C: Arr, cOff: number, ldc: number,
): Float64Array {
  const out = Float64Array.from(C);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[aOff + k * lda + i]! : A[aOff + i * lda + k]!;
        const b = tB ? B[bOff + j * ldb + k]! : B[bOff + k * ldb + j]!;
        s += a * b;
      }
      const c = cOff + i * ldc + j;
      out[c] = alpha * s + (beta === 0 ? 0 : beta * C[c]!);
    }
  }
  return out;
}

/** Calls f(n, oc, oh, ow, c, kh, kw, xIndex, wIndex, yIndex) for every valid tap. */
function convTaps(p: Conv2dParams, f: (xi: number, wi: number, yi: number) => void): void {
  const Cg = p.C / p.groups, OCg = p.OC / p.groups;
  for (let n = 0; n < p.N; n++)
    for (let oc = 0; oc < p.OC; oc++) {
      const g = Math.floor(oc / OCg);
      for (let oh = 0; oh < p.OH; oh++)
        for (let ow = 0; ow < p.OW; ow++) {
          const yi = ((n * p.OC + oc) * p.OH + oh) * p.OW + ow;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < p.KH; kh++)
              for (let kw = 0; kw < p.KW; kw++) {
                const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
                const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                const xi = ((n * p.C + g * Cg + c) * p.H + ih) * p.W + iw;
                const wi = ((oc * Cg + c) * p.KH + kh) * p.KW + kw;
                f(xi, wi, yi);
              }
        }
    }
}

export function refConvForward(p: Conv2dParams, x: Arr, w: Arr, bias: Arr | null): Float64Array {
  const y = new Float64Array(p.N * p.OC * p.OH * p.OW);
  if (bias) for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / (p.OH * p.OW)) % p.OC]!;
  convTaps(p, (xi, wi, yi) => { y[yi] += x[xi]! * w[wi]!; });
  return y;
}

export function refConvBackwardInput(p: Conv2dParams, gy: Arr, w: Arr): Float64Array {
  const gx = new Float64Array(p.N * p.C * p.H * p.W);
  convTaps(p, (xi, wi, yi) => { gx[xi] += gy[yi]! * w[wi]!; });
  return gx;
}

export function refConvBackwardWeight(p: Conv2dParams, x: Arr, gy: Arr): { gw: Float64Array; gb: Float64Array } {
  const gw = new Float64Array(p.OC * (p.C / p.groups) * p.KH * p.KW);
  convTaps(p, (xi, wi, yi) => { gw[wi] += gy[yi]! * x[xi]!; });
  const gb = new Float64Array(p.OC);
  for (let i = 0; i < gy.length; i++) gb[Math.floor(i / (p.OH * p.OW)) % p.OC] += gy[i]!;
  return { gw, gb };
}

/** PyTorch's pooling output size, written independently of the kernel's helper. */
export function refPoolOut(inSize: number, k: number, s: number, pad: number, d: number, ceil: boolean): number {
  const eff = d * (k - 1) + 1;
  const exact = (inSize + 2 * pad - eff) / s;
  let out = (ceil ? Math.ceil(exact) : Math.floor(exact)) + 1;
  if (ceil && (out - 1) * s >= inSize + pad) out -= 1;
  return out;
}

export function refMaxPool(p: Pool2dParams, x: Arr): { y: Float64Array; idx: Int32Array } {
  const y = new Float64Array(p.N * p.C * p.OH * p.OW), idx = new Int32Array(y.length);
  let o = 0;
  for (let pl = 0; pl < p.N * p.C; pl++)
    for (let oh = 0; oh < p.OH; oh++)
      for (let ow = 0; ow < p.OW; ow++) {
        let best = -Infinity, bi = -1;
        for (let kh = 0; kh < p.KH; kh++)
          for (let kw = 0; kw < p.KW; kw++) {
            const ih = oh * p.strideH - p.padH + kh * p.dilationH, iw = ow * p.strideW - p.padW + kw * p.dilationW;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            const v = x[pl * p.H * p.W + ih * p.W + iw]!;
            if (bi < 0 || v > best) { best = v; bi = ih * p.W + iw; }
          }
        y[o] = best; idx[o] = bi; o++;
      }
  return { y, idx };
}

export function refAvgPool(p: Pool2dParams, opt: AvgPool2dOptions, x: Arr): Float64Array {
  const y = new Float64Array(p.N * p.C * p.OH * p.OW);
  let o = 0;
  for (let pl = 0; pl < p.N * p.C; pl++)
    for (let oh = 0; oh < p.OH; oh++)
      for (let ow = 0; ow < p.OW; ow++) {
        const h0 = oh * p.strideH - p.padH, w0 = ow * p.strideW - p.padW;
        // window clipped to the padded input, then to the input
        const padCount = (Math.min(h0 + p.KH, p.H + p.padH) - h0) * (Math.min(w0 + p.KW, p.W + p.padW) - w0);
        let s = 0, cnt = 0;
        for (let ih = h0; ih < h0 + p.KH; ih++)
          for (let iw = w0; iw < w0 + p.KW; iw++) {
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            s += x[pl * p.H * p.W + ih * p.W + iw]!; cnt++;
          }
        const div = opt.divisorOverride ? opt.divisorOverride : opt.countIncludePad ? padCount : cnt;
        y[o++] = cnt === 0 ? 0 : s / div;
      }
  return y;
}

export function refAdaptiveAvg(p: AdaptivePool2dParams, x: Arr): Float64Array {
  const y = new Float64Array(p.N * p.C * p.OH * p.OW);
  let o = 0;
  for (let pl = 0; pl < p.N * p.C; pl++)
    for (let oh = 0; oh < p.OH; oh++)
      for (let ow = 0; ow < p.OW; ow++) {
        const hs = Math.floor((oh * p.H) / p.OH), he = Math.ceil(((oh + 1) * p.H) / p.OH);
        const ws = Math.floor((ow * p.W) / p.OW), we = Math.ceil(((ow + 1) * p.W) / p.OW);
        let s = 0;
        for (let ih = hs; ih < he; ih++) for (let iw = ws; iw < we; iw++) s += x[pl * p.H * p.W + ih * p.W + iw]!;
        y[o++] = s / ((he - hs) * (we - ws));
      }
  return y;
}

/** Float64 batch norm forward (train or eval) as a plain function of x, for finite differences. */
export function refBatchNorm(
  N: number, C: number, HW: number, eps: number, x: Arr, w: Arr | null, b: Arr | null,
  stats: { mean: Arr; var: Arr } | null,
): { y: Float64Array; mean: Float64Array; varB: Float64Array; varU: Float64Array } {
  const y = new Float64Array(N * C * HW), mean = new Float64Array(C), varB = new Float64Array(C), varU = new Float64Array(C);
  const M = N * HW;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += x[(n * C + c) * HW + i]!;
    const m = s / M;
    let ss = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) ss += (x[(n * C + c) * HW + i]! - m) ** 2;
    mean[c] = m; varB[c] = ss / M; varU[c] = ss / (M - 1);
    const mu = stats ? stats.mean[c]! : m, v = stats ? stats.var[c]! : ss / M;
    for (let n = 0; n < N; n++)
      for (let i = 0; i < HW; i++) {
        const k = (n * C + c) * HW + i;
        y[k] = ((x[k]! - mu) / Math.sqrt(v + eps)) * (w ? w[c]! : 1) + (b ? b[c]! : 0);
      }
  }
  return { y, mean, varB, varU };
}

// ------------------------------------------------------------------ helpers

/** max |a − b| / max(max |b|, floor). */
export function relErr(a: Arr, b: Arr, floor = 1e-6): number {
  if (a.length < b.length) return Infinity;
  let d = 0, m = floor;
  for (let i = 0; i < b.length; i++) {
    const ai = a[i]!, bi = b[i]!;
    if (Number.isNaN(ai) !== Number.isNaN(bi)) return Infinity;
    if (Number.isNaN(bi)) continue;
    if (ai === bi) {
      if (Number.isFinite(bi)) m = Math.max(m, Math.abs(bi));
      continue;
    }
    d = Math.max(d, Math.abs(ai - bi));
    m = Math.max(m, Math.abs(bi));
  }
  return d / m;
}

export function dot(a: Arr, b: Arr): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Deterministic pseudo-random float32 array in [-1, 1). */
export function randArr(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = (seed >>> 0) || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

/** max |a − b| / max(scale): error measured against the magnitude that bounds float rounding (e.g. Σ|x·w| for dot products). */
export function scaledErr(a: Arr, b: Arr, scale: Arr): number {
  if (a.length < b.length) return Infinity;
  let d = 0, m = 1e-30;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(a[i]!) || Number.isNaN(b[i]!)) return Infinity;
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(scale[i]!));
  }
  return d / m;
}
