import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { getKernels, makePool2dParams, pool2dOutputSize } from '../../src/kernels/index.ts';
import type { AdaptivePool2dParams, AvgPool2dOptions, Pool2dParams } from '../../src/kernels/index.ts';
import { dot, randArr, refAdaptiveAvg, refAvgPool, refMaxPool, refPoolOut, relErr } from './refs.ts';

const k = getKernels('cpu');

const poolArb = (dilated: boolean): fc.Arbitrary<Pool2dParams> =>
  fc
    .record({
      N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 1, max: 11 }), W: fc.integer({ min: 1, max: 11 }),
      KH: fc.integer({ min: 1, max: 4 }), KW: fc.integer({ min: 1, max: 4 }),
      strideH: fc.integer({ min: 1, max: 3 }), strideW: fc.integer({ min: 1, max: 3 }),
      padH: fc.integer({ min: 0, max: 2 }), padW: fc.integer({ min: 0, max: 2 }),
      dilationH: dilated ? fc.integer({ min: 1, max: 3 }) : fc.constant(1),
      dilationW: dilated ? fc.integer({ min: 1, max: 3 }) : fc.constant(1),
      ceilMode: fc.boolean(),
    })
    .filter((r) => r.padH * 2 <= r.KH && r.padW * 2 <= r.KW)
    .filter((r) =>
      refPoolOut(r.H, r.KH, r.strideH, r.padH, r.dilationH, r.ceilMode) > 0 &&
      refPoolOut(r.W, r.KW, r.strideW, r.padW, r.dilationW, r.ceilMode) > 0)
    .map((r) => makePool2dParams(r));

describe('pool output size (PyTorch rule)', () => {
  it('matches known PyTorch shapes', () => {
    expect(pool2dOutputSize(5, 2, 2, 0, 1, true)).toBe(3);
    expect(pool2dOutputSize(5, 2, 2, 0, 1, false)).toBe(2);
    expect(pool2dOutputSize(4, 2, 2, 1, 1, true)).toBe(3);
    // the last window would start in the right padding: dropped
    expect(pool2dOutputSize(5, 2, 2, 1, 1, true)).toBe(3);
    expect(pool2dOutputSize(112, 3, 2, 1, 1, false)).toBe(56); // resnet maxpool
    expect(pool2dOutputSize(55, 3, 2, 0, 1, true)).toBe(27);
    expect(pool2dOutputSize(10, 3, 1, 1, 2, false)).toBe(8);
  });
  it('agrees with an independent formula', () => {
    fc.assert(fc.property(poolArb(true), (p) => {
      expect(p.OH).toBe(refPoolOut(p.H, p.KH, p.strideH, p.padH, p.dilationH, p.ceilMode));
      expect(p.OW).toBe(refPoolOut(p.W, p.KW, p.strideW, p.padW, p.dilationW, p.ceilMode));
    }), { numRuns: 300 });
  });
  it('rejects padding larger than half the kernel', () => {
    expect(() => makePool2dParams({ N: 1, C: 1, H: 5, W: 5, KH: 2, KW: 2, padH: 2 })).toThrow(RangeError);
  });
});

describe('max pool', () => {
  it('forward values/argmax and backward match the reference (dilation, padding, ceil_mode)', () => {
    fc.assert(fc.property(poolArb(true), fc.integer({ min: 1, max: 1e6 }), (p, seed) => {
      const nx = p.N * p.C * p.H * p.W, ny = p.N * p.C * p.OH * p.OW;
      const x = randArr(nx, seed);
      const y = new Float32Array(ny), idx = new Int32Array(ny);
      k.maxPool2dForward(p, x, y, idx);
      const ref = refMaxPool(p, x);
      expect(relErr(y, ref.y)).toBe(0);
      expect([...idx]).toEqual([...ref.idx]);
      const gy = randArr(ny, seed + 1), gx = new Float32Array(nx).fill(NaN);
      k.maxPool2dBackward(p, gy, idx, gx);
      const want = new Float64Array(nx);
      for (let i = 0; i < ny; i++) if (ref.idx[i]! >= 0) want[Math.floor(i / (p.OH * p.OW)) * p.H * p.W + ref.idx[i]!] += gy[i]!;
      expect(relErr(gx, want)).toBeLessThanOrEqual(1e-6);
    }), { numRuns: 300 });
  });
  it('propagates NaN like PyTorch', () => {
    const p = makePool2dParams({ N: 1, C: 1, H: 2, W: 2, KH: 2, KW: 2 });
    const y = new Float32Array(1), idx = new Int32Array(1);
    k.maxPool2dForward(p, new Float32Array([1, NaN, 5, 2]), y, idx);
    expect(Number.isNaN(y[0])).toBe(true);
    expect(idx[0]).toBe(1);
  });
});

describe('avg pool', () => {
  const optArb: fc.Arbitrary<AvgPool2dOptions> = fc.record({
    countIncludePad: fc.boolean(),
    divisorOverride: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 7 })),
  });
  it('forward matches the reference; backward is its adjoint', () => {
    fc.assert(fc.property(poolArb(false), optArb, fc.integer({ min: 1, max: 1e6 }), (p, o, seed) => {
      const nx = p.N * p.C * p.H * p.W, ny = p.N * p.C * p.OH * p.OW;
      const x = randArr(nx, seed), y = new Float32Array(ny);
      k.avgPool2dForward(p, o, x, y);
      expect(relErr(y, refAvgPool(p, o, x))).toBeLessThanOrEqual(1e-6);
      const gy = randArr(ny, seed + 1), gx = new Float32Array(nx).fill(NaN);
      k.avgPool2dBackward(p, o, gy, gx);
      expect(Math.abs(dot(y, gy) - dot(x, gx)) / Math.max(1, ny)).toBeLessThanOrEqual(1e-6);
    }), { numRuns: 300 });
  });
  it('ceil_mode windows that hang over the edge use the clipped divisor (PyTorch example)', () => {
    // torch.nn.AvgPool2d(2, 2, ceil_mode=True)(torch.arange(9.).view(1,1,3,3)) = [[2, 3.5], [6.5, 8]]
    const p = makePool2dParams({ N: 1, C: 1, H: 3, W: 3, KH: 2, KW: 2, ceilMode: true });
    const y = new Float32Array(4);
    k.avgPool2dForward(p, { countIncludePad: true, divisorOverride: null }, Float32Array.from({ length: 9 }, (_, i) => i), y);
    expect([...y]).toEqual([2, 3.5, 6.5, 8]);
  });
});

describe('adaptive avg pool', () => {
  it('forward matches the reference; backward is its adjoint', () => {
    fc.assert(fc.property(
      fc.record({
        N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 3 }),
        H: fc.integer({ min: 1, max: 12 }), W: fc.integer({ min: 1, max: 12 }),
        OH: fc.integer({ min: 1, max: 8 }), OW: fc.integer({ min: 1, max: 8 }),
      }),
      fc.integer({ min: 1, max: 1e6 }),
      (p: AdaptivePool2dParams, seed) => {
        const nx = p.N * p.C * p.H * p.W, ny = p.N * p.C * p.OH * p.OW;
        const x = randArr(nx, seed), y = new Float32Array(ny);
        k.adaptiveAvgPool2dForward(p, x, y);
        expect(relErr(y, refAdaptiveAvg(p, x))).toBeLessThanOrEqual(1e-6);
        const gy = randArr(ny, seed + 1), gx = new Float32Array(nx).fill(NaN);
        k.adaptiveAvgPool2dBackward(p, gy, gx);
        expect(Math.abs(dot(y, gy) - dot(x, gx)) / Math.max(1, ny)).toBeLessThanOrEqual(1e-6);
      },
    ), { numRuns: 300 });
  });
});
