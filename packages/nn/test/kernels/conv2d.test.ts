import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  availableSgemmBackends, conv2dOutputSize, getKernels, makeConv2dParams, samePadding, setSgemmBackend,
} from '../../src/kernels/index.ts';
import type { Conv2dParams } from '../../src/kernels/index.ts';
import { dot, randArr, refConvBackwardInput, refConvBackwardWeight, refConvForward, relErr } from './refs.ts';

const k = getKernels('cpu');

/** Random conv geometry: groups, channel multipliers, dilation, asymmetric padding, stride. */
const convArb = (depthwise: boolean): fc.Arbitrary<Conv2dParams> =>
  fc
    .record({
      N: fc.integer({ min: 1, max: 2 }),
      groups: depthwise ? fc.integer({ min: 2, max: 4 }) : fc.integer({ min: 1, max: 3 }),
      Cg: depthwise ? fc.constant(1) : fc.integer({ min: 1, max: 4 }),
      OCg: fc.integer({ min: 1, max: depthwise ? 3 : 5 }),
      H: fc.integer({ min: 1, max: 10 }),
      W: fc.integer({ min: 1, max: 10 }),
      KH: fc.integer({ min: 1, max: 4 }),
      KW: fc.integer({ min: 1, max: 4 }),
      strideH: fc.integer({ min: 1, max: 3 }),
      strideW: fc.integer({ min: 1, max: 3 }),
      padTop: fc.integer({ min: 0, max: 3 }),
      padBottom: fc.integer({ min: 0, max: 3 }),
      padLeft: fc.integer({ min: 0, max: 3 }),
      padRight: fc.integer({ min: 0, max: 3 }),
      dilationH: fc.integer({ min: 1, max: 2 }),
      dilationW: fc.integer({ min: 1, max: 2 }),
    })
    .filter((r) =>
      conv2dOutputSize(r.H, r.KH, r.strideH, r.padTop, r.padBottom, r.dilationH) > 0 &&
      conv2dOutputSize(r.W, r.KW, r.strideW, r.padLeft, r.padRight, r.dilationW) > 0)
    .map((r) => makeConv2dParams({ ...r, C: r.Cg * r.groups, OC: r.OCg * r.groups }));

function sizes(p: Conv2dParams): { nx: number; nw: number; ny: number } {
  return { nx: p.N * p.C * p.H * p.W, nw: p.OC * (p.C / p.groups) * p.KH * p.KW, ny: p.N * p.OC * p.OH * p.OW };
}

function checkAll(p: Conv2dParams, seed: number, withBias: boolean): void {
  const { nx, nw, ny } = sizes(p);
  const x = randArr(nx, seed), w = randArr(nw, seed + 1), b = withBias ? randArr(p.OC, seed + 2) : null;
  const gy = randArr(ny, seed + 3);
  const y = new Float32Array(ny).fill(NaN);
  k.conv2dForward(p, x, w, b, y);
  expect(relErr(y, refConvForward(p, x, w, b))).toBeLessThanOrEqual(1e-5);

  const gx = new Float32Array(nx).fill(NaN);
  k.conv2dBackwardInput(p, gy, w, gx);
  expect(relErr(gx, refConvBackwardInput(p, gy, w))).toBeLessThanOrEqual(1e-5);

  const gw = new Float32Array(nw).fill(NaN), gb = new Float32Array(p.OC).fill(NaN);
  k.conv2dBackwardWeight(p, x, gy, gw, gb);
  const ref = refConvBackwardWeight(p, x, gy);
  expect(relErr(gw, ref.gw)).toBeLessThanOrEqual(1e-5);
  expect(relErr(gb, ref.gb)).toBeLessThanOrEqual(1e-5);

  // adjointness: <conv(x), g> = <x, dX(g)> = <w, dW(x, g)> (bias-free forward)
  const y0 = new Float32Array(ny);
  k.conv2dForward(p, x, w, null, y0);
  const lhs = dot(y0, gy);
  const scale = Math.max(1, Math.sqrt(ny * nw));
  expect(Math.abs(lhs - dot(x, gx)) / scale).toBeLessThanOrEqual(1e-5);
  expect(Math.abs(lhs - dot(w, gw)) / scale).toBeLessThanOrEqual(1e-5);
}

for (const backend of availableSgemmBackends()) {
  describe(`conv2d kernels (sgemm ${backend})`, () => {
    beforeAll(async () => {
      setSgemmBackend(backend);
      // give the wasm-mt helper thread time to start so the split path is exercised
      if (backend === 'wasm-mt') await new Promise((r) => setTimeout(r, 600));
    });
    it('match the naive reference: groups, dilation, asymmetric padding, stride', () => {
      setSgemmBackend(backend);
      fc.assert(fc.property(convArb(false), fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (p, s, b) => checkAll(p, s, b)), {
        numRuns: 200,
      });
    });

    it('match the naive reference: depthwise incl. channel multiplier', () => {
      setSgemmBackend(backend);
      fc.assert(fc.property(convArb(true), fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (p, s, b) => checkAll(p, s, b)), {
        numRuns: 150,
      });
    });

    it('1x1 stride-1 pointwise fast path, grouped and not', () => {
      setSgemmBackend(backend);
      for (const groups of [1, 2]) {
        checkAll(makeConv2dParams({ N: 2, C: 6, H: 5, W: 7, OC: 4, KH: 1, KW: 1, groups }), 11 + groups, true);
      }
    });

    it('larger layers crossing GEMM blocks (K > 256, M > 96)', () => {
      setSgemmBackend(backend);
      checkAll(makeConv2dParams({ N: 1, C: 40, H: 9, W: 11, OC: 100, KH: 3, KW: 3, padTop: 1, padLeft: 1 }), 5, true);
      checkAll(makeConv2dParams({ N: 2, C: 3, H: 23, W: 19, OC: 8, KH: 7, KW: 7, strideH: 2, strideW: 2, padTop: 3, padLeft: 3 }), 6, false);
    });
  });
}

describe('conv2d geometry helpers', () => {
  it('TensorFlow same padding puts the extra row/column at bottom/right', () => {
    expect(samePadding(224, 7, 2)).toEqual([2, 3]);
    expect(samePadding(5, 3, 1)).toEqual([1, 1]);
    expect(samePadding(6, 1, 2)).toEqual([0, 0]);
    const [t, b] = samePadding(224, 3, 2);
    expect(conv2dOutputSize(224, 3, 2, t, b)).toBe(112);
  });

  it('rejects inconsistent params', () => {
    expect(() => makeConv2dParams({ N: 1, C: 3, H: 4, W: 4, OC: 4, KH: 3, KW: 3, groups: 2 })).toThrow(RangeError);
    const p = makeConv2dParams({ N: 1, C: 2, H: 4, W: 4, OC: 2, KH: 3, KW: 3 });
    expect(() => k.conv2dForward(p, new Float32Array(31), new Float32Array(36), null, new Float32Array(8))).toThrow(RangeError);
  });

  it('skips gradW when null but still computes gradBias', () => {
    const p = makeConv2dParams({ N: 2, C: 2, H: 4, W: 4, OC: 3, KH: 3, KW: 3 });
    const gy = randArr(2 * 3 * 4, 1), gb = new Float32Array(3);
    k.conv2dBackwardWeight(p, randArr(64, 2), gy, null, gb);
    expect(relErr(gb, refConvBackwardWeight(p, randArr(64, 2), gy).gb)).toBeLessThanOrEqual(1e-6);
  });
});
