import { describe, expect, it } from 'vitest';
import { simdAdd, simdClamp, simdMask, simdRelu } from '../src/ops/simd.ts';

/** Random float32 values with the awkward ones mixed in: ±0, NaN, ±Infinity, tiny, bound-equal. */
function awkward(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40, 0.5, -0.5, 1, -1];
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rnd() < 0.2 ? special[Math.floor(rnd() * special.length)]! : (rnd() - 0.5) * 4;
  return a;
}

function bits(a: Float32Array): Uint32Array {
  // NaN payloads may differ between wasm and JS: compare NaNs as one canonical pattern.
  const u = new Uint32Array(a.length);
  const v = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < a.length; i++) u[i] = Number.isNaN(a[i]) ? 0x7fc00000 : v[i]!;
  return u;
}

// Odd lengths: tails, one chunk, several chunks (16384 floats per chunk).
const SIZES = [257, 1000, 16384, 16385, 50001];

describe('wasm SIMD elementwise loops give the scalar loops\' exact bits', () => {
  it('clamp (min, max, both)', () => {
    for (const n of SIZES) {
      const x = awkward(n, n);
      for (const [lo, hi] of [[0, null], [null, 0], [-0.5, 0.5], [-Infinity, 1], [0.5, 0.5]] as [number | null, number | null][]) {
        const want = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          let r = x[i]!;
          if (lo !== null && r < lo) r = lo;
          if (hi !== null && r > hi) r = hi;
          want[i] = r;
        }
        const got = new Float32Array(n);
        expect(simdClamp(x, lo, hi, got)).toBe(true);
        expect(bits(got)).toEqual(bits(want));
      }
    }
  });

  it('declines bounds that are not exactly float32', () => {
    expect(simdClamp(new Float32Array(1000), 0.1, null, new Float32Array(1000))).toBe(false);
    expect(simdMask(new Float32Array(1000), new Float32Array(1000), 0.1, Infinity, false, new Float32Array(1000))).toBe(false);
  });

  it('relu and its masks', () => {
    for (const n of SIZES) {
      const x = awkward(n, 7 * n), g = awkward(n, 11 * n);
      const relu = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        relu[i] = v > 0 ? v : v !== v ? v : 0;
      }
      const got = new Float32Array(n);
      expect(simdRelu(x, got)).toBe(true);
      expect(bits(got)).toEqual(bits(relu));
      const inPlace = x.slice();
      expect(simdRelu(inPlace, inPlace)).toBe(true);
      expect(bits(inPlace)).toEqual(bits(relu));

      const gt = new Float32Array(n);
      for (let i = 0; i < n; i++) if (x[i]! > 0) gt[i] = g[i]!;
      const m1 = new Float32Array(n);
      expect(simdMask(x, g, 0, Infinity, false, m1)).toBe(true);
      expect(bits(m1)).toEqual(bits(gt));

      const inr = new Float32Array(n);
      for (let i = 0; i < n; i++) if (x[i]! >= -0.5 && x[i]! <= 1) inr[i] = g[i]!;
      const m2 = new Float32Array(n);
      expect(simdMask(x, g, -0.5, 1, true, m2)).toBe(true);
      expect(bits(m2)).toEqual(bits(inr));
    }
  });

  it('add (also in place), and leaves shifted overlaps to the scalar loop', () => {
    for (const n of SIZES) {
      const x = awkward(n, 3 * n), y = awkward(n, 5 * n);
      const want = new Float32Array(n);
      for (let i = 0; i < n; i++) want[i] = x[i]! + y[i]!;
      const got = new Float32Array(n);
      expect(simdAdd(x, y, got)).toBe(true);
      expect(bits(got)).toEqual(bits(want));
      const acc = x.slice();
      expect(simdAdd(acc, y, acc)).toBe(true);
      expect(bits(acc)).toEqual(bits(want));
    }
    const buf = new Float32Array(2000);
    expect(simdAdd(buf.subarray(1, 1001), buf.subarray(0, 1000), buf.subarray(0, 1000))).toBe(false);
  });
});
