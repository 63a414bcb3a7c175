/**
 * gpu.js WebAssembly backend vs the CPU kernels: the synchronous host
 * KernelSet ('gpujs-webasm'), the device API on webasm (single-threaded and
 * on gpu.js's worker pool), random layers and a small whole network.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cpuKernels } from '../../src/kernels/cpu/index.ts';
import { getKernels, hasKernel } from '../../src/kernels/registry.ts';
import { GpuDevice } from '../../src/kernels/gpujs/device.ts';
import '../../src/kernels/gpujs/host.ts';
import {
  adaptiveArb, convArb, cpuConv, cpuNet, deviceLayerParity, deviceNet, expectClose, linearArb, poolArb, reportWorst, rnd,
} from './_parity.ts';

afterAll(() => reportWorst('webasm'));

describe('gpujs-webasm host KernelSet (synchronous)', () => {
  const G = getKernels('gpujs-webasm');

  it('is registered and provides the conv/linear/pool/bn-eval ops itself', () => {
    for (const op of ['conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardWeight', 'linearForward', 'maxPool2dForward',
      'avgPool2dBackward', 'adaptiveAvgPool2dForward', 'batchNorm2dForwardEval', 'batchNorm2dBackwardEval'] as const) {
      expect(hasKernel('gpujs-webasm', op)).toBe(true);
    }
    expect(hasKernel('gpujs-webasm', 'batchNorm2dForwardTrain')).toBe(false); // CPU fallback
  });

  it('a linear layer beyond gpu.js\'s 2^24-value index limit runs on the CPU kernels instead of failing', () => {
    const p = { N: 2, K: 4096, OUT: 4097 }; // weight: 16,781,312 values ≥ 2^24
    const x = rnd(p.N * p.K), w = rnd(p.OUT * p.K), b = rnd(p.OUT), gy = rnd(p.N * p.OUT);
    const run = (k: typeof G): Float32Array[] => {
      const y = new Float32Array(p.N * p.OUT), gx = new Float32Array(p.N * p.K), gw = new Float32Array(p.OUT * p.K), gb = new Float32Array(p.OUT);
      k.linearForward(p, x, w, b, y);
      k.linearBackwardInput(p, gy, w, gx);
      k.linearBackwardWeight(p, x, gy, gw, gb);
      return [y, gx, gw, gb];
    };
    const [got, ref] = [run(G), run(cpuKernels)];
    // the very CPU kernels: bit-identical (counted in a loop: deep equality on 16M values exhausts the heap)
    got.forEach((g, i) => {
      const r = ref[i]!;
      let differ = 0;
      for (let j = 0; j < r.length; j++) if (!Object.is(g[j], r[j])) differ++;
      expect(g.length).toBe(r.length);
      expect(differ).toBe(0);
    });
  });

  it('conv2d forward / grad input / grad weight / grad bias match the CPU kernels on random layers', () => {
    fc.assert(
      fc.property(convArb, ({ p, bias }) => {
        const x = rnd(p.N * p.C * p.H * p.W), w = rnd(p.OC * (p.C / p.groups) * p.KH * p.KW);
        const b = bias ? rnd(p.OC) : null, gy = rnd(p.N * p.OC * p.OH * p.OW);
        const ref = cpuConv(p, x, w, b, gy);
        const y = new Float32Array(ref.y.length).fill(NaN), gx = new Float32Array(x.length).fill(NaN);
        const gw = new Float32Array(w.length).fill(NaN), gb = new Float32Array(p.OC).fill(NaN);
        G.conv2dForward(p, x, w, b, y);
        G.conv2dBackwardInput(p, gy, w, gx);
        G.conv2dBackwardWeight(p, x, gy, gw, gb);
        expectClose('host conv2d forward', y, ref.y);
        expectClose('host conv2d grad input', gx, ref.gx);
        expectClose('host conv2d grad weight', gw, ref.gw);
        expectClose('host conv2d grad bias', gb, ref.gb);
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  it('linear, pooling and batch-norm (eval) match the CPU kernels on random layers', () => {
    fc.assert(fc.property(linearArb, ({ N, K, OUT, bias }) => {
      const p = { N, K, OUT };
      const x = rnd(N * K), w = rnd(OUT * K), b = bias ? rnd(OUT) : null, gy = rnd(N * OUT);
      const r = [new Float32Array(N * OUT), new Float32Array(N * K), new Float32Array(OUT * K), new Float32Array(OUT)];
      const g = r.map((a) => new Float32Array(a.length));
      for (const [K2, o] of [[cpuKernels, r], [G, g]] as const) {
        K2.linearForward(p, x, w, b, o[0]!);
        K2.linearBackwardInput(p, gy, w, o[1]!);
        K2.linearBackwardWeight(p, x, gy, o[2]!, o[3]!);
      }
      ['fwd', 'grad input', 'grad weight', 'grad bias'].forEach((n, i) => expectClose(`host linear ${n}`, g[i]!, r[i]!));
    }), { numRuns: 30, seed: 8 });
    fc.assert(fc.property(poolArb, ({ p, avgP, o }) => {
      const x = rnd(p.N * p.C * p.H * p.W), gy = rnd(p.N * p.C * p.OH * p.OW);
      const out = new Float32Array(gy.length), am = new Int32Array(gy.length), gx = new Float32Array(x.length);
      const out2 = out.slice(), am2 = am.slice(), gx2 = gx.slice();
      cpuKernels.maxPool2dForward(p, x, out, am);
      G.maxPool2dForward(p, x, out2, am2);
      expect([...am2]).toEqual([...am]);
      expect(out2.every((v, i) => v === out[i])).toBe(true);
      cpuKernels.maxPool2dBackward(p, gy, am, gx);
      G.maxPool2dBackward(p, gy, am, gx2);
      expectClose('host max_pool2d backward', gx2, gx);
      if (avgP !== null) {
        const ay = new Float32Array(avgP.N * avgP.C * avgP.OH * avgP.OW), ay2 = ay.slice();
        cpuKernels.avgPool2dForward(avgP, o, x, ay);
        G.avgPool2dForward(avgP, o, x, ay2);
        expectClose('host avg_pool2d forward', ay2, ay);
        const agy = rnd(ay.length), agx = new Float32Array(x.length), agx2 = agx.slice();
        cpuKernels.avgPool2dBackward(avgP, o, agy, agx);
        G.avgPool2dBackward(avgP, o, agy, agx2);
        expectClose('host avg_pool2d backward', agx2, agx);
      }
    }), { numRuns: 40, seed: 9 });
    fc.assert(fc.property(adaptiveArb, (p) => {
      const x = rnd(p.N * p.C * p.H * p.W), gy = rnd(p.N * p.C * p.OH * p.OW);
      const y = new Float32Array(gy.length), y2 = y.slice(), gx = new Float32Array(x.length), gx2 = gx.slice();
      cpuKernels.adaptiveAvgPool2dForward(p, x, y);
      G.adaptiveAvgPool2dForward(p, x, y2);
      cpuKernels.adaptiveAvgPool2dBackward(p, gy, gx);
      G.adaptiveAvgPool2dBackward(p, gy, gx2);
      expectClose('host adaptive_avg_pool2d fwd', y2, y);
      expectClose('host adaptive_avg_pool2d bwd', gx2, gx);
    }), { numRuns: 30, seed: 10 });
    const bp = { N: 2, C: 4, H: 3, W: 5, eps: 1e-5 };
    const n = 2 * 4 * 15;
    const x = rnd(n), gy = rnd(n), mean = rnd(4), vr = rnd(4).map((v) => v * v + 0.3), wt = rnd(4), bs = rnd(4);
    const r = [new Float32Array(n), new Float32Array(n), new Float32Array(4), new Float32Array(4)];
    const g = r.map((a) => new Float32Array(a.length));
    for (const [K2, o] of [[cpuKernels, r], [G, g]] as const) {
      K2.batchNorm2dForwardEval(bp, x, mean, vr, wt, bs, o[0]!);
      K2.batchNorm2dBackwardEval(bp, gy, x, mean, vr, wt, o[1]!, o[2]!, o[3]!);
    }
    ['fwd', 'grad x', 'grad w', 'grad b'].forEach((nm, i) => expectClose(`host batch_norm eval ${nm}`, g[i]!, r[i]!));
  });

  it('a small whole network through getKernels("gpujs-webasm") matches the CPU forward+backward', () => {
    // the host interface behind the same cpuNet composition
    const ref = cpuNet();
    const saved = { ...cpuKernels };
    try {
      Object.assign(cpuKernels, {
        conv2dForward: G.conv2dForward, conv2dBackwardInput: G.conv2dBackwardInput, conv2dBackwardWeight: G.conv2dBackwardWeight,
        linearForward: G.linearForward, linearBackwardInput: G.linearBackwardInput, linearBackwardWeight: G.linearBackwardWeight,
        maxPool2dForward: G.maxPool2dForward, maxPool2dBackward: G.maxPool2dBackward,
        adaptiveAvgPool2dForward: G.adaptiveAvgPool2dForward, adaptiveAvgPool2dBackward: G.adaptiveAvgPool2dBackward,
        batchNorm2dForwardEval: G.batchNorm2dForwardEval, batchNorm2dBackwardEval: G.batchNorm2dBackwardEval,
      });
      const got = cpuNet();
      for (const k of Object.keys(ref) as (keyof typeof ref)[]) expectClose(`host network ${k}`, got[k], ref[k]);
    } finally {
      Object.assign(cpuKernels, saved);
    }
  });
});

for (const threads of [false, true]) {
  describe(`GpuDevice webasm (${threads ? "gpu.js worker pool" : 'single-threaded'})`, () => {
    let d: GpuDevice;
    afterAll(() => d?.destroy());

    it('random layers match the CPU kernels', async () => {
      d = await GpuDevice.create({ mode: 'webasm', threads });
      expect(d.mode).toBe('webasm');
      await deviceLayerParity(d, `webasm${threads ? '-threads' : ''}`, threads ? 8 : 25);
    });

    it('a small whole network, forward + guided backward on device handles, matches the CPU', async () => {
      d ??= await GpuDevice.create({ mode: 'webasm', threads });
      const ref = cpuNet();
      const got = await deviceNet(d);
      for (const k of Object.keys(ref) as (keyof typeof ref)[]) expectClose(`webasm network ${k}`, got[k], ref[k]);
    });
  });
}
