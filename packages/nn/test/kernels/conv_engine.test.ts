import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  conv2dOutputSize, convEngineReady, convEngineWarm, getKernels, makeConv2dParams, setConvEngine, setConvThreads,
  setSgemmBackend,
} from '../../src/kernels/index.ts';
import type { Conv2dParams } from '../../src/kernels/index.ts';
import { buildEngineModule, setConvMtMinFlops } from '../../src/kernels/cpu/conv_engine.ts';
import { dot, randArr, refConvBackwardInput, refConvBackwardWeight, refConvForward, relErr } from './refs.ts';

const k = getKernels('cpu');

const convArb: fc.Arbitrary<Conv2dParams> = fc
  .record({
    N: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    Cg: fc.integer({ min: 1, max: 6 }),
    OCg: fc.integer({ min: 1, max: 11 }),
    H: fc.integer({ min: 1, max: 14 }),
    W: fc.integer({ min: 1, max: 14 }),
    KH: fc.integer({ min: 1, max: 4 }),
    KW: fc.integer({ min: 1, max: 4 }),
    strideH: fc.integer({ min: 1, max: 3 }),
    strideW: fc.integer({ min: 1, max: 3 }),
    padTop: fc.integer({ min: 0, max: 4 }),
    padBottom: fc.integer({ min: 0, max: 4 }),
    padLeft: fc.integer({ min: 0, max: 4 }),
    padRight: fc.integer({ min: 0, max: 4 }),
    dilationH: fc.integer({ min: 1, max: 3 }),
    dilationW: fc.integer({ min: 1, max: 3 }),
  })
  .filter((r) =>
    conv2dOutputSize(r.H, r.KH, r.strideH, r.padTop, r.padBottom, r.dilationH) > 0 &&
    conv2dOutputSize(r.W, r.KW, r.strideW, r.padLeft, r.padRight, r.dilationW) > 0)
  .map((r) => makeConv2dParams({ ...r, C: r.Cg * r.groups, OC: r.OCg * r.groups }));

interface Res { y: Float32Array; gx: Float32Array; gw: Float32Array; gb: Float32Array }

function runAll(p: Conv2dParams, seed: number, withBias: boolean): Res & { x: Float32Array; w: Float32Array; gy: Float32Array; b: Float32Array | null } {
  const nx = p.N * p.C * p.H * p.W, nw = p.OC * (p.C / p.groups) * p.KH * p.KW, ny = p.N * p.OC * p.OH * p.OW;
  const x = randArr(nx, seed), w = randArr(nw, seed + 1), b = withBias ? randArr(p.OC, seed + 2) : null, gy = randArr(ny, seed + 3);
  const y = new Float32Array(ny).fill(NaN), gx = new Float32Array(nx).fill(NaN);
  const gw = new Float32Array(nw).fill(NaN), gb = new Float32Array(p.OC).fill(NaN);
  k.conv2dForward(p, x, w, b, y);
  k.conv2dBackwardInput(p, gy, w, gx);
  k.conv2dBackwardWeight(p, x, gy, gw, gb);
  return { x, w, gy, b, y, gx, gw, gb };
}

function checkRef(p: Conv2dParams, seed: number, withBias: boolean): Res {
  const r = runAll(p, seed, withBias);
  expect(relErr(r.y, refConvForward(p, r.x, r.w, r.b))).toBeLessThanOrEqual(1e-5);
  expect(relErr(r.gx, refConvBackwardInput(p, r.gy, r.w))).toBeLessThanOrEqual(1e-5);
  const ref = refConvBackwardWeight(p, r.x, r.gy);
  expect(relErr(r.gw, ref.gw)).toBeLessThanOrEqual(1e-5);
  expect(relErr(r.gb, ref.gb)).toBeLessThanOrEqual(1e-5);
  // adjointness: <conv(x), g> = <x, dX(g)> = <w, dW(x, g)>
  const y0 = new Float32Array(r.y.length);
  k.conv2dForward(p, r.x, r.w, null, y0);
  const lhs = dot(y0, r.gy), scale = Math.max(1, Math.sqrt(r.y.length * r.w.length));
  expect(Math.abs(lhs - dot(r.x, r.gx)) / scale).toBeLessThanOrEqual(1e-5);
  expect(Math.abs(lhs - dot(r.w, r.gw)) / scale).toBeLessThanOrEqual(1e-5);
  return r;
}

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe('conv engine (implicit im2col, wasm GEMM, worker split)', () => {
  let prevMin = 0;
  beforeAll(async () => {
    setSgemmBackend('wasm');
    setConvEngine(true);
    await convEngineWarm();
    prevMin = setConvMtMinFlops(0); // split even tiny convs so the threaded path is exercised
  });
  afterAll(() => {
    setConvMtMinFlops(prevMin);
    setConvThreads(2);
  });

  it('the module validates and the helper thread comes up', () => {
    expect(WebAssembly.validate(buildEngineModule(1))).toBe(true);
    expect(WebAssembly.validate(buildEngineModule(2))).toBe(true);
    expect(convEngineReady(false)).toBe(true);
    expect(convEngineReady(true)).toBe(true);
  });

  for (const threads of [1, 2]) {
    it(`matches the reference and is adjoint (${threads} thread${threads > 1 ? 's' : ''}): groups, dilation, asymmetric padding, stride`, () => {
      setConvThreads(threads);
      fc.assert(fc.property(convArb, fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (p, s, b) => { checkRef(p, s, b); }), { numRuns: 150 });
    });
  }

  it('threaded results are bit-identical to single-threaded ones', () => {
    fc.assert(fc.property(convArb, fc.integer({ min: 1, max: 1e6 }), (p, s) => {
      setConvThreads(1);
      const a = runAll(p, s, true);
      setConvThreads(2);
      const b = runAll(p, s, true);
      expect(sameBits(a.y, b.y) && sameBits(a.gx, b.gx) && sameBits(a.gw, b.gw)).toBe(true);
    }), { numRuns: 60 });
  });

  it('layers crossing every block (K > KC, N > NC, M > MC), both backward-input paths, 1 and 2 threads', () => {
    const shapes = [
      { N: 1, C: 40, H: 37, W: 35, OC: 136, KH: 3, KW: 3, padTop: 1, padLeft: 1 },
      { N: 2, C: 30, H: 33, W: 31, OC: 20, KH: 3, KW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 },
      { N: 1, C: 3, H: 45, W: 47, OC: 12, KH: 7, KW: 7, strideH: 2, strideW: 2, padTop: 3, padLeft: 3 },
      { N: 1, C: 300, H: 6, W: 5, OC: 140, KH: 1, KW: 1 },
      { N: 1, C: 64, H: 13, W: 14, OC: 260, KH: 1, KW: 1, strideH: 2, strideW: 2 },
      { N: 1, C: 6, H: 12, W: 11, OC: 8, KH: 3, KW: 2, padTop: 4, padBottom: 0, padLeft: 0, padRight: 3, dilationH: 2 },
    ];
    shapes.forEach((o, i) => {
      const p = makeConv2dParams(o);
      setConvThreads(2);
      const a = checkRef(p, 100 + i, i % 2 === 0);
      setConvThreads(1);
      const b = runAll(p, 100 + i, i % 2 === 0);
      expect(sameBits(a.y, b.y) && sameBits(a.gx, b.gx) && sameBits(a.gw, b.gw)).toBe(true);
    });
  });

  it('agrees with the legacy im2col + sgemm path', () => {
    const p = makeConv2dParams({ N: 2, C: 12, H: 17, W: 19, OC: 18, KH: 3, KW: 3, padTop: 1, padLeft: 2, padRight: 0, groups: 3 });
    setConvThreads(2);
    const a = runAll(p, 7, true);
    setConvEngine(false);
    try {
      const b = runAll(p, 7, true);
      expect(relErr(a.y, b.y)).toBeLessThanOrEqual(1e-6);
      expect(relErr(a.gx, b.gx)).toBeLessThanOrEqual(1e-6);
      expect(relErr(a.gw, b.gw)).toBeLessThanOrEqual(1e-6);
    } finally {
      setConvEngine(true);
    }
  });

  it('the helper thread never keeps a process alive', () => {
    const idx = fileURLToPath(new URL('../../src/kernels/index.ts', import.meta.url));
    const src = `import { getKernels, makeConv2dParams, convEngineWarm } from ${JSON.stringify(idx)};
      await convEngineWarm();
      const p = makeConv2dParams({ N: 1, C: 32, H: 40, W: 40, OC: 64, KH: 3, KW: 3, padTop: 1, padLeft: 1 });
      const y = new Float32Array(64 * 1600);
      getKernels('cpu').conv2dForward(p, new Float32Array(32 * 1600).fill(1), new Float32Array(64 * 288).fill(1), null, y);
      console.log('done', y[41 * 1 + 1]);`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('done 288');
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});

describe('depthwise 3×3 fast path', () => {
  const dwArb = fc
    .record({
      N: fc.integer({ min: 1, max: 2 }),
      C: fc.integer({ min: 1, max: 4 }),
      mult: fc.integer({ min: 1, max: 2 }),
      H: fc.integer({ min: 1, max: 19 }),
      W: fc.integer({ min: 1, max: 19 }),
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
      conv2dOutputSize(r.H, 3, r.strideH, r.padTop, r.padBottom, r.dilationH) > 0 &&
      conv2dOutputSize(r.W, 3, r.strideW, r.padLeft, r.padRight, r.dilationW) > 0)
    .map((r) => makeConv2dParams({ ...r, OC: r.C * r.mult, KH: 3, KW: 3, groups: r.C }));

  it('matches the reference and is adjoint (stride, dilation, asymmetric padding, channel multiplier)', () => {
    fc.assert(fc.property(dwArb, fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (p, s, b) => { checkRef(p, s, b); }), { numRuns: 200 });
  });

  it('MobileNet-like planes (large interior)', () => {
    checkRef(makeConv2dParams({ N: 1, C: 8, H: 56, W: 57, OC: 8, KH: 3, KW: 3, padTop: 1, padLeft: 1, groups: 8 }), 3, true);
    checkRef(makeConv2dParams({ N: 1, C: 8, H: 56, W: 56, OC: 8, KH: 3, KW: 3, strideH: 2, strideW: 2, padTop: 0, padBottom: 1, padLeft: 0, padRight: 1, groups: 8 }), 4, false);
  });
});
