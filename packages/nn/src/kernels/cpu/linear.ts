/** Linear layer kernels on top of the packed sgemm. */
import type { LinearParams } from '../types.ts';
import { sgemm } from './gemm.ts';

function check(p: LinearParams, x: number | null, w: number | null, y: number | null): void {
  if (x !== null && x < p.N * p.K) throw new RangeError('linear: input buffer too small');
  if (w !== null && w < p.OUT * p.K) throw new RangeError('linear: weight buffer too small');
  if (y !== null && y < p.N * p.OUT) throw new RangeError('linear: output buffer too small');
}

export function linearForward(p: LinearParams, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array): void {
  check(p, x.length, w.length, out.length);
  const { N, K, OUT } = p;
  if (bias !== null) {
    if (bias.length < OUT) throw new RangeError('linear: bias buffer too small');
    for (let n = 0; n < N; n++) out.set(bias.subarray(0, OUT), n * OUT);
  }
  sgemm(false, true, N, OUT, K, 1, x, 0, Math.max(1, K), w, 0, Math.max(1, K), bias !== null ? 1 : 0, out, 0, Math.max(1, OUT));
}

export function linearBackwardInput(p: LinearParams, gradOut: Float32Array, w: Float32Array, gradX: Float32Array): void {
  check(p, gradX.length, w.length, gradOut.length);
  const { N, K, OUT } = p;
  sgemm(false, false, N, K, OUT, 1, gradOut, 0, Math.max(1, OUT), w, 0, Math.max(1, K), 0, gradX, 0, Math.max(1, K));
}

export function linearBackwardWeight(
  p: LinearParams, x: Float32Array, gradOut: Float32Array, gradW: Float32Array | null, gradBias: Float32Array | null,
): void {
  check(p, x.length, gradW === null ? null : gradW.length, gradOut.length);
  const { N, K, OUT } = p;
  if (gradW !== null) {
    sgemm(true, false, OUT, K, N, 1, gradOut, 0, Math.max(1, OUT), x, 0, Math.max(1, K), 0, gradW, 0, Math.max(1, K));
  }
  if (gradBias !== null) {
    if (gradBias.length < OUT) throw new RangeError('linear: gradBias buffer too small');
    for (let o = 0; o < OUT; o++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += gradOut[n * OUT + o]!;
      gradBias[o] = s;
    }
  }
}
