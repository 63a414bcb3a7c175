/** BatchNorm2d kernels (statistics accumulated in float64). */
import type { BatchNorm2dParams } from '../types.ts';

function check(p: BatchNorm2dParams, ...lens: [number, number][]): void {
  for (const [len, need] of lens) if (len < need) throw new RangeError('batch_norm2d: buffer too small');
  if (!(p.eps >= 0)) throw new RangeError('batch_norm2d: eps must be >= 0');
}

export function batchNorm2dForwardTrain(
  p: BatchNorm2dParams, x: Float32Array, weight: Float32Array | null, bias: Float32Array | null,
  out: Float32Array, saveMean: Float32Array, saveInvstd: Float32Array, unbiasedVar: Float32Array | null,
): void {
  const { N, C, H, W, eps } = p;
  const HW = H * W, M = N * HW, size = N * C * HW;
  check(p, [x.length, size], [out.length, size], [saveMean.length, C], [saveInvstd.length, C]);
  if (M === 0) throw new RangeError('batch_norm2d: training needs at least one value per channel');
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = b; i < b + HW; i++) s += x[i]!;
    }
    const mean = s / M;
    let ss = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = b; i < b + HW; i++) {
        const d = x[i]! - mean;
        ss += d * d;
      }
    }
    const varB = ss / M;
    const invstd = 1 / Math.sqrt(varB + eps);
    saveMean[c] = mean;
    saveInvstd[c] = invstd;
    if (unbiasedVar !== null) unbiasedVar[c] = M > 1 ? ss / (M - 1) : NaN;
    const scale = (weight === null ? 1 : weight[c]!) * invstd;
    const shift = (bias === null ? 0 : bias[c]!) - mean * scale;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = b; i < b + HW; i++) out[i] = x[i]! * scale + shift;
    }
  }
}

export function batchNorm2dForwardEval(
  p: BatchNorm2dParams, x: Float32Array, runningMean: Float32Array, runningVar: Float32Array,
  weight: Float32Array | null, bias: Float32Array | null, out: Float32Array,
): void {
  const { N, C, H, W, eps } = p;
  const HW = H * W, size = N * C * HW;
  check(p, [x.length, size], [out.length, size], [runningMean.length, C], [runningVar.length, C]);
  for (let c = 0; c < C; c++) {
    const invstd = 1 / Math.sqrt(runningVar[c]! + eps);
    const scale = (weight === null ? 1 : weight[c]!) * invstd;
    const shift = (bias === null ? 0 : bias[c]!) - runningMean[c]! * scale;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = b; i < b + HW; i++) out[i] = x[i]! * scale + shift;
    }
  }
}

/** Shared backward: mean/invstd per channel, `train` decides whether they depend on x. */
function backward(
  p: BatchNorm2dParams, gradOut: Float32Array, x: Float32Array, meanOf: (c: number) => number,
  invstdOf: (c: number) => number, train: boolean, weight: Float32Array | null,
  gradX: Float32Array | null, gradWeight: Float32Array | null, gradBias: Float32Array | null,
): void {
  const { N, C, H, W } = p;
  const HW = H * W, M = N * HW, size = N * C * HW;
  check(p, [x.length, size], [gradOut.length, size]);
  if (gradX !== null) check(p, [gradX.length, size]);
  for (let c = 0; c < C; c++) {
    const mean = meanOf(c), invstd = invstdOf(c);
    let sumG = 0, dot = 0;
    if (!train && gradX !== null) {
      // Eval: dx = g·w·invstd does not depend on the sums, so one pass does both (same sums,
      // same order, same values as the two-pass form below).
      const wi = (weight === null ? 1 : weight[c]!) * invstd;
      if (gradBias === null && gradWeight === null) {
        for (let n = 0; n < N; n++) {
          const b = (n * C + c) * HW;
          for (let i = b; i < b + HW; i++) gradX[i] = gradOut[i]! * wi;
        }
        continue;
      }
      for (let n = 0; n < N; n++) {
        const b = (n * C + c) * HW;
        for (let i = b; i < b + HW; i++) {
          const g = gradOut[i]!;
          sumG += g;
          dot += g * (x[i]! - mean);
          gradX[i] = g * wi;
        }
      }
      if (gradBias !== null) gradBias[c] = sumG;
      if (gradWeight !== null) gradWeight[c] = dot * invstd;
      continue;
    }
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = b; i < b + HW; i++) {
        const g = gradOut[i]!;
        sumG += g;
        dot += g * (x[i]! - mean);
      }
    }
    if (gradBias !== null) gradBias[c] = sumG;
    if (gradWeight !== null) gradWeight[c] = dot * invstd;
    if (gradX === null) continue;
    const w = weight === null ? 1 : weight[c]!;
    if (train) {
      // dx = (g − mean(g) − (x−μ)·invstd²·Σg(x−μ)/M) · invstd · w
      const k = (dot / M) * invstd * invstd;
      const gMean = sumG / M;
      const wi = w * invstd;
      for (let n = 0; n < N; n++) {
        const b = (n * C + c) * HW;
        for (let i = b; i < b + HW; i++) gradX[i] = (gradOut[i]! - gMean - (x[i]! - mean) * k) * wi;
      }
    } else {
      const wi = w * invstd;
      for (let n = 0; n < N; n++) {
        const b = (n * C + c) * HW;
        for (let i = b; i < b + HW; i++) gradX[i] = gradOut[i]! * wi;
      }
    }
  }
}

export function batchNorm2dBackwardTrain(
  p: BatchNorm2dParams, gradOut: Float32Array, x: Float32Array, saveMean: Float32Array, saveInvstd: Float32Array,
  weight: Float32Array | null, gradX: Float32Array | null, gradWeight: Float32Array | null, gradBias: Float32Array | null,
): void {
  check(p, [saveMean.length, p.C], [saveInvstd.length, p.C]);
  backward(p, gradOut, x, (c) => saveMean[c]!, (c) => saveInvstd[c]!, true, weight, gradX, gradWeight, gradBias);
}

export function batchNorm2dBackwardEval(
  p: BatchNorm2dParams, gradOut: Float32Array, x: Float32Array, runningMean: Float32Array, runningVar: Float32Array,
  weight: Float32Array | null, gradX: Float32Array | null, gradWeight: Float32Array | null, gradBias: Float32Array | null,
): void {
  check(p, [runningMean.length, p.C], [runningVar.length, p.C]);
  const eps = p.eps;
  backward(p, gradOut, x, (c) => runningMean[c]!, (c) => 1 / Math.sqrt(runningVar[c]! + eps), false, weight, gradX, gradWeight, gradBias);
}
