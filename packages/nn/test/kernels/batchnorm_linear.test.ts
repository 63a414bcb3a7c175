import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { getKernels, hasKernel, registerKernels, registeredBackends, unregisterKernels } from '../../src/kernels/index.ts';
import type { BatchNorm2dParams, LinearParams } from '../../src/kernels/index.ts';
import { dot, randArr, refBatchNorm, refSgemm, relErr, scaledErr } from './refs.ts';

const k = getKernels();

const bnArb = fc.record({
  N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 4 }),
  H: fc.integer({ min: 1, max: 5 }), W: fc.integer({ min: 1, max: 5 }),
  eps: fc.constantFrom(1e-5, 1e-3),
}).filter((p) => p.N * p.H * p.W >= 4);

/** Gradient of L(x) = <bn(x), g> by central differences in float64. */
function fdGrad(p: BatchNorm2dParams, x: Float64Array, w: Float32Array | null, g: Float32Array, stats: { mean: Float32Array; var: Float32Array } | null): Float64Array {
  const HW = p.H * p.W, out = new Float64Array(x.length), h = 1e-6;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    x[i] = xi + h;
    const lp = dot(refBatchNorm(p.N, p.C, HW, p.eps, x, w, null, stats).y, g);
    x[i] = xi - h;
    const lm = dot(refBatchNorm(p.N, p.C, HW, p.eps, x, w, null, stats).y, g);
    x[i] = xi;
    out[i] = (lp - lm) / (2 * h);
  }
  return out;
}

describe('batch norm 2d', () => {
  it('train forward + backward match float64 references and finite differences', () => {
    fc.assert(fc.property(bnArb, fc.boolean(), fc.integer({ min: 1, max: 1e6 }), (p, affine, seed) => {
      const HW = p.H * p.W, n = p.N * p.C * HW;
      const x = randArr(n, seed), w = affine ? randArr(p.C, seed + 1) : null, b = affine ? randArr(p.C, seed + 2) : null;
      const y = new Float32Array(n), mean = new Float32Array(p.C), inv = new Float32Array(p.C), varU = new Float32Array(p.C);
      k.batchNorm2dForwardTrain(p, x, w, b, y, mean, inv, varU);
      const ref = refBatchNorm(p.N, p.C, HW, p.eps, x, w, b, null);
      expect(relErr(y, ref.y)).toBeLessThanOrEqual(1e-5);
      expect(relErr(mean, ref.mean)).toBeLessThanOrEqual(1e-5);
      expect(relErr(varU, ref.varU)).toBeLessThanOrEqual(1e-5);
      expect(relErr(inv, ref.varB.map((v) => 1 / Math.sqrt(v + p.eps)))).toBeLessThanOrEqual(1e-5);

      const g = randArr(n, seed + 3);
      const gx = new Float32Array(n), gw = new Float32Array(p.C), gb = new Float32Array(p.C);
      k.batchNorm2dBackwardTrain(p, g, x, mean, inv, w, gx, gw, gb);
      const fd = fdGrad(p, Float64Array.from(x), w, g, null);
      expect(relErr(gx, fd)).toBeLessThanOrEqual(1e-4);
      // gradWeight = Σ g·x̂, gradBias = Σ g
      const xhat = refBatchNorm(p.N, p.C, HW, p.eps, x, null, null, null).y;
      for (let c = 0; c < p.C; c++) {
        let sw = 0, sb = 0;
        for (let nn = 0; nn < p.N; nn++) for (let i = 0; i < HW; i++) {
          const j = (nn * p.C + c) * HW + i;
          sw += g[j]! * xhat[j]!; sb += g[j]!;
        }
        expect(Math.abs(gw[c]! - sw)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(sw)) * HW);
        expect(Math.abs(gb[c]! - sb)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(sb)));
      }
    }), { numRuns: 100 });
  });

  it('eval forward + backward use the running statistics', () => {
    fc.assert(fc.property(bnArb, fc.integer({ min: 1, max: 1e6 }), (p, seed) => {
      const HW = p.H * p.W, n = p.N * p.C * HW;
      const x = randArr(n, seed), w = randArr(p.C, seed + 1), b = randArr(p.C, seed + 2);
      const rm = randArr(p.C, seed + 4), rv = randArr(p.C, seed + 5).map((v) => v + 1.5);
      const y = new Float32Array(n);
      k.batchNorm2dForwardEval(p, x, rm, rv, w, b, y);
      const stats = { mean: rm, var: rv };
      expect(relErr(y, refBatchNorm(p.N, p.C, HW, p.eps, x, w, b, stats).y)).toBeLessThanOrEqual(1e-5);
      const g = randArr(n, seed + 3), gx = new Float32Array(n), gw = new Float32Array(p.C), gb = new Float32Array(p.C);
      k.batchNorm2dBackwardEval(p, g, x, rm, rv, w, gx, gw, gb);
      expect(relErr(gx, fdGrad(p, Float64Array.from(x), w, g, stats))).toBeLessThanOrEqual(1e-4);
      const xhat = refBatchNorm(p.N, p.C, HW, p.eps, x, null, null, stats).y;
      const wantGw = new Float64Array(p.C);
      for (let j = 0; j < n; j++) wantGw[Math.floor(j / HW) % p.C] += g[j]! * xhat[j]!;
      expect(relErr(gw, wantGw)).toBeLessThanOrEqual(1e-5);
    }), { numRuns: 100 });
  });
});

describe('linear', () => {
  it('forward and both backward passes match sgemm references', () => {
    fc.assert(fc.property(
      fc.record({ N: fc.integer({ min: 1, max: 9 }), K: fc.integer({ min: 1, max: 300 }), OUT: fc.integer({ min: 1, max: 40 }) }),
      fc.boolean(), fc.integer({ min: 1, max: 1e6 }),
      (p: LinearParams, withBias, seed) => {
        const { N, K, OUT } = p;
        const x = randArr(N * K, seed), w = randArr(OUT * K, seed + 1), b = withBias ? randArr(OUT, seed + 2) : null;
        const y = new Float32Array(N * OUT).fill(NaN);
        k.linearForward(p, x, w, b, y);
        // float32 dot products are only accurate relative to Σ|a·b| (cancellation can make the result
        // itself tiny), so each pass is compared on that scale: the same product of |operands|.
        const abs = (a: Float32Array): Float32Array => a.map(Math.abs);
        const want = refSgemm(false, true, N, OUT, K, 1, x, 0, K, w, 0, K, 0, new Float32Array(N * OUT), 0, OUT);
        const scaleY = refSgemm(false, true, N, OUT, K, 1, abs(x), 0, K, abs(w), 0, K, 0, new Float32Array(N * OUT), 0, OUT);
        if (b) for (let i = 0; i < want.length; i++) {
          want[i] += b[i % OUT]!;
          scaleY[i] += Math.abs(b[i % OUT]!);
        }
        expect(scaledErr(y, want, scaleY)).toBeLessThanOrEqual(1e-5);
        const gy = randArr(N * OUT, seed + 3);
        const gx = new Float32Array(N * K).fill(NaN);
        k.linearBackwardInput(p, gy, w, gx);
        const wantGx = refSgemm(false, false, N, K, OUT, 1, gy, 0, OUT, w, 0, K, 0, new Float32Array(N * K), 0, K);
        const scaleGx = refSgemm(false, false, N, K, OUT, 1, abs(gy), 0, OUT, abs(w), 0, K, 0, new Float32Array(N * K), 0, K);
        expect(scaledErr(gx, wantGx, scaleGx)).toBeLessThanOrEqual(1e-5);
        const gw = new Float32Array(OUT * K).fill(NaN), gb = new Float32Array(OUT).fill(NaN);
        k.linearBackwardWeight(p, x, gy, gw, gb);
        const wantGw = refSgemm(true, false, OUT, K, N, 1, gy, 0, OUT, x, 0, K, 0, new Float32Array(OUT * K), 0, K);
        const scaleGw = refSgemm(true, false, OUT, K, N, 1, abs(gy), 0, OUT, abs(x), 0, K, 0, new Float32Array(OUT * K), 0, K);
        expect(scaledErr(gw, wantGw, scaleGw)).toBeLessThanOrEqual(1e-5);
        const wantB = new Float64Array(OUT);
        for (let i = 0; i < N * OUT; i++) wantB[i % OUT] += gy[i]!;
        expect(relErr(gb, wantB)).toBeLessThanOrEqual(1e-5);
      },
    ), { numRuns: 200 });
  });
});

describe('kernel registry', () => {
  it('has the cpu backend by default and falls back to it for missing ops', () => {
    expect(registeredBackends()).toContain('cpu');
    let called = 0;
    registerKernels('fake', { linearForward: () => { called++; } });
    const f = getKernels('fake');
    expect(hasKernel('fake', 'linearForward')).toBe(true);
    expect(hasKernel('fake', 'conv2dForward')).toBe(false);
    expect(f.conv2dForward).toBe(getKernels('cpu').conv2dForward);
    f.linearForward({ N: 1, K: 1, OUT: 1 }, new Float32Array(1), new Float32Array(1), null, new Float32Array(1));
    expect(called).toBe(1);
    expect(unregisterKernels('fake')).toBe(true);
    expect(() => getKernels('fake')).toThrow(/unknown backend/);
    expect(() => unregisterKernels('cpu')).toThrow();
  });
});
