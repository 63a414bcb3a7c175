import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { availableSgemmBackends, setSgemmBackend, sgemm } from '../../src/kernels/index.ts';
import { randArr, refSgemm, relErr } from './refs.ts';

function run(
  tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number, beta: number,
  padA: number, padB: number, padC: number, off: number, seed: number,
): number {
  const lda = Math.max(1, tA ? M : K) + padA, ldb = Math.max(1, tB ? K : N) + padB, ldc = N + padC;
  const A = randArr(off + (tA ? K : M) * lda, seed);
  const B = randArr(off + (tB ? N : K) * ldb, seed + 1);
  const C = randArr(off + M * ldc, seed + 2);
  if (beta === 0) C.fill(NaN); // beta = 0 must not read C
  const want = refSgemm(tA, tB, M, N, K, alpha, A, off, lda, B, off, ldb, beta, C, off, ldc);
  // elements outside the M×N block must be untouched
  for (let i = 0; i < want.length; i++) {
    const r = i - off;
    const inside = r >= 0 && Math.floor(r / ldc) < M && r % ldc < N;
    if (!inside) want[i] = C[i]!;
  }
  sgemm(tA, tB, M, N, K, alpha, A, off, lda, B, off, ldb, beta, C, off, ldc);
  for (let i = 0; i < want.length; i++) {
    const r = i - off;
    const inside = r >= 0 && Math.floor(r / ldc) < M && r % ldc < N;
    if (!inside && !Object.is(C[i], want[i]) && !(Number.isNaN(C[i]) && Number.isNaN(want[i]))) return Infinity;
  }
  // error relative to the magnitude of the products involved
  const scale = Math.max(1, Math.sqrt(K));
  return relErr(C, want) / scale;
}

for (const backend of availableSgemmBackends()) {
  describe(`sgemm (${backend})`, () => {
    beforeAll(async () => {
      setSgemmBackend(backend);
      // give the wasm-mt helper thread time to start so the split path is exercised
      if (backend === 'wasm-mt') await new Promise((r) => setTimeout(r, 600));
    });
    it('matches the naive reference for all transpose combos, odd sizes, strides, alpha/beta', () => {
      setSgemmBackend(backend);
      fc.assert(
        fc.property(
          fc.boolean(), fc.boolean(),
          fc.integer({ min: 1, max: 37 }), fc.integer({ min: 1, max: 41 }), fc.integer({ min: 0, max: 45 }),
          fc.constantFrom(1, -0.5, 2), fc.constantFrom(0, 1, 0.25),
          fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 1e6 }),
          (tA, tB, M, N, K, alpha, beta, pa, pb, pc, off, seed) => {
            expect(run(tA, tB, M, N, K, alpha, beta, pa, pb, pc, off, seed)).toBeLessThanOrEqual(1e-5);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('crosses every blocking boundary (M > MC, K > KC, ragged edges)', () => {
      setSgemmBackend(backend);
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        for (const [M, N, K] of [[131, 67, 517], [97, 203, 257], [5, 1031, 33], [200, 9, 300]] as const) {
          expect(run(tA, tB, M, N, K, 1, 0.5, 1, 2, 3, 7, M * N + K)).toBeLessThanOrEqual(1e-5);
        }
      }
    });

    it('handles K = 0 and alpha = 0 by scaling C', () => {
      setSgemmBackend(backend);
      const C = new Float32Array([1, 2, 3, 4]);
      sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, 1, new Float32Array(0), 0, 2, 0.5, C, 0, 2);
      expect([...C]).toEqual([0.5, 1, 1.5, 2]);
      sgemm(false, false, 2, 2, 1, 0, new Float32Array(2), 0, 1, new Float32Array(2), 0, 2, 0, C, 0, 2);
      expect([...C]).toEqual([0, 0, 0, 0]);
    });

    it('rejects buffers that are too small', () => {
      setSgemmBackend(backend);
      expect(() => sgemm(false, false, 2, 2, 2, 1, new Float32Array(3), 0, 2, new Float32Array(4), 0, 2, 0, new Float32Array(4), 0, 2))
        .toThrow(RangeError);
    });
  });
}
