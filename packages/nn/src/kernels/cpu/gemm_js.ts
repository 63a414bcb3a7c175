/**
 * Blocked, packed single-precision GEMM in plain TypeScript (row-major).
 *
 * Goto/BLIS structure: for each NC-wide column block of op(B) and each
 * KC-deep slice, op(B) is packed into NR-wide panels (k-major, zero padded);
 * for each MC-tall row block, alpha·op(A) is packed into MR-tall panels; a
 * register-blocked MR×NR micro-kernel then accumulates in 16 local doubles.
 *
 * Measured on the 2-core AMD EPYC dev box (V8 12, Node 20): 4×4 with Float64Array
 * packs and KC=256 beat 4×8, 8×4, 6×4, 6×8, 2×8, 3×8, 4×12 and Float32Array
 * packs (the f32→f64 conversion per load costs more than the extra cache
 * footprint): ~3.8 GFLOP/s vs 2.7–3.7 for the others at n=1024.
 * Accumulation is in float64, so results are at least as accurate as a
 * float32 BLAS.
 */
import { cpuWorkspace } from '../workspace.ts';

export const MR = 4;
export const NR = 4;
export const KC = 256;
export const MC = 96;
export const NC = 2048;

function micro4x4(kc: number, ap: Float64Array, pa: number, bp: Float64Array, pb: number, t: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < kc; k++) {
    const a0 = ap[pa + 0];
    const a1 = ap[pa + 1];
    const a2 = ap[pa + 2];
    const a3 = ap[pa + 3];
    const b0 = bp[pb + 0];
    const b1 = bp[pb + 1];
    const b2 = bp[pb + 2];
    const b3 = bp[pb + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    pa += 4;
    pb += 4;
  }
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
}

/** Packs alpha·op(A)[ic..ic+mc, pc..pc+kc] into MR-row panels (k-major), zero padded. */
function packA(
  transA: boolean, A: Float32Array, aOff: number, lda: number,
  ic: number, pc: number, mc: number, kc: number, alpha: number, ap: Float64Array,
): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const base = ir * kc;
    const mr = Math.min(MR, mc - ir);
    if (!transA) {
      for (let i = 0; i < MR; i++) {
        let d = base + i;
        if (i < mr) {
          let s = aOff + (ic + ir + i) * lda + pc;
          for (let k = 0; k < kc; k++) {
            ap[d] = alpha * A[s++]!;
            d += MR;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            ap[d] = 0;
            d += MR;
          }
        }
      }
    } else {
      let d = base;
      let s = aOff + pc * lda + ic + ir;
      if (mr === MR) {
        for (let k = 0; k < kc; k++) {
          ap[d] = alpha * A[s]!;
          ap[d + 1] = alpha * A[s + 1]!;
          ap[d + 2] = alpha * A[s + 2]!;
          ap[d + 3] = alpha * A[s + 3]!;
          d += MR;
          s += lda;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let i = 0; i < MR; i++) ap[d + i] = i < mr ? alpha * A[s + i]! : 0;
          d += MR;
          s += lda;
        }
      }
    }
  }
}

/** Packs op(B)[pc..pc+kc, jc..jc+nc] into NR-column panels (k-major), zero padded. */
function packB(
  transB: boolean, B: Float32Array, bOff: number, ldb: number,
  pc: number, jc: number, kc: number, nc: number, bp: Float64Array,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const base = jr * kc;
    const nr = Math.min(NR, nc - jr);
    if (!transB) {
      let d = base;
      let s = bOff + pc * ldb + jc + jr;
      if (nr === NR) {
        for (let k = 0; k < kc; k++) {
          bp[d] = B[s]!;
          bp[d + 1] = B[s + 1]!;
          bp[d + 2] = B[s + 2]!;
          bp[d + 3] = B[s + 3]!;
          d += NR;
          s += ldb;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let j = 0; j < NR; j++) bp[d + j] = j < nr ? B[s + j]! : 0;
          d += NR;
          s += ldb;
        }
      }
    } else {
      for (let j = 0; j < NR; j++) {
        let d = base + j;
        if (j < nr) {
          let s = bOff + (jc + jr + j) * ldb + pc;
          for (let k = 0; k < kc; k++) {
            bp[d] = B[s++]!;
            d += NR;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            bp[d] = 0;
            d += NR;
          }
        }
      }
    }
  }
}

/** C[i, j] *= beta over an M×N block (beta = 0 writes zeros without reading C). */
export function scaleC(M: number, N: number, beta: number, C: Float32Array, cOff: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < M; i++) {
    const row = cOff + i * ldc;
    if (beta === 0) C.fill(0, row, row + N);
    else for (let j = row; j < row + N; j++) C[j] = beta * C[j]!;
  }
}

export function checkGemmArgs(
  name: string, transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
): void {
  const rowsA = transA ? K : M, colsA = transA ? M : K;
  const rowsB = transB ? N : K, colsB = transB ? K : N;
  if (lda < Math.max(1, colsA) || ldb < Math.max(1, colsB) || ldc < Math.max(1, N)) {
    throw new RangeError(`${name}: leading dimension too small (lda=${lda}, ldb=${ldb}, ldc=${ldc})`);
  }
  if (rowsA > 0 && colsA > 0 && aOff + (rowsA - 1) * lda + colsA > A.length) throw new RangeError(`${name}: A too small`);
  if (rowsB > 0 && colsB > 0 && bOff + (rowsB - 1) * ldb + colsB > B.length) throw new RangeError(`${name}: B too small`);
  if (M > 0 && N > 0 && cOff + (M - 1) * ldc + N > C.length) throw new RangeError(`${name}: C too small`);
}

/** The plain-TypeScript sgemm (see {@link SgemmFn} for the contract). */
export function sgemmJs(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number,
): void {
  checkGemmArgs('sgemm', transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc);
  if (M === 0 || N === 0) return;
  if (K === 0 || alpha === 0) {
    scaleC(M, N, beta, C, cOff, ldc);
    return;
  }
  const ncMax = Math.min(NC, N);
  const kcMax = Math.min(KC, K);
  const mcMax = Math.min(MC, M);
  const bp = cpuWorkspace.f64('gemm.B', (Math.ceil(ncMax / NR) * NR) * kcMax);
  const ap = cpuWorkspace.f64('gemm.A', (Math.ceil(mcMax / MR) * MR) * kcMax);
  const t = cpuWorkspace.f64('gemm.T', MR * NR);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const b = pc === 0 ? beta : 1;
      packB(transB, B, bOff, ldb, pc, jc, kc, nc, bp);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packA(transA, A, aOff, lda, ic, pc, mc, kc, alpha, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            micro4x4(kc, ap, ir * kc, bp, jr * kc, t);
            let c = cOff + (ic + ir) * ldc + jc + jr;
            if (b === 0) {
              for (let i = 0; i < mr; i++) {
                for (let j = 0; j < nr; j++) C[c + j] = t[i * NR + j]!;
                c += ldc;
              }
            } else if (b === 1) {
              for (let i = 0; i < mr; i++) {
                for (let j = 0; j < nr; j++) C[c + j] = C[c + j]! + t[i * NR + j]!;
                c += ldc;
              }
            } else {
              for (let i = 0; i < mr; i++) {
                for (let j = 0; j < nr; j++) C[c + j] = b * C[c + j]! + t[i * NR + j]!;
                c += ldc;
              }
            }
          }
        }
      }
    }
  }
}
