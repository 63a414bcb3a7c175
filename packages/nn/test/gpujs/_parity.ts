/**
 * Shared parity checks of the gpu.js kernels against the CPU kernels.
 *
 * Error metric (reported and bounded by 1e-4): for each output tensor,
 * max_i |got_i − ref_i| / max_i |ref_i| — the maximum error relative to the
 * tensor's scale (an element-wise ratio is meaningless where a sum cancels
 * to ~0).
 */
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { cpuKernels } from '../../src/kernels/cpu/index.ts';
import {
  makeConv2dParams, makePool2dParams,
} from '../../src/kernels/types.ts';
import type {
  AdaptivePool2dParams, AvgPool2dOptions, Conv2dParams, LinearParams, Pool2dParams,
} from '../../src/kernels/types.ts';
import { GpuDevice } from '../../src/kernels/gpujs/device.ts';
import type { BatchNormStats, DeviceTensor } from '../../src/kernels/gpujs/device.ts';
import { SWIFTSHADER_ICD, probeWebGPUAdapter } from '../../src/kernels/gpujs/runtime.ts';

export const TOL = 1e-4;

/** Largest error seen per op name (printed at the end of each file). */
export const worst = new Map<string, number>();

export function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) return Infinity;
  let m = 0, s = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    if (!(d <= m)) m = d; // NaN-propagating max
    s = Math.max(s, Math.abs(ref[i]!));
  }
  return s === 0 ? m : m / s;
}

export function expectClose(name: string, got: ArrayLike<number>, ref: ArrayLike<number>): void {
  const e = relErr(got, ref);
  worst.set(name, Math.max(worst.get(name) ?? 0, e));
  if (!(e <= TOL)) throw new Error(`${name}: max relative error ${e} > ${TOL} (n=${ref.length})`);
}

export function reportWorst(label: string): void {
  const lines = [...worst.entries()].map(([k, v]) => `  ${k.padEnd(28)} ${v.toExponential(2)}`);
  console.log(`[gpujs parity ${label}] max relative error per op:\n${lines.join('\n')}`);
}

let seed = 1234567;
export function rnd(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = (seed / 2 ** 32) * 2 - 1;
  }
  return a;
}

// ---- arbitraries -------------------------------------------------------------

export const convArb = fc
  .record({
    N: fc.integer({ min: 1, max: 2 }),
    groupsKind: fc.constantFrom('one', 'two', 'depthwise'),
    cg: fc.integer({ min: 1, max: 3 }),
    ocg: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 1, max: 9 }),
    W: fc.integer({ min: 1, max: 9 }),
    KH: fc.integer({ min: 1, max: 3 }),
    KW: fc.integer({ min: 1, max: 3 }),
    strideH: fc.integer({ min: 1, max: 3 }),
    strideW: fc.integer({ min: 1, max: 3 }),
    padTop: fc.integer({ min: 0, max: 2 }),
    padBottom: fc.integer({ min: 0, max: 2 }),
    padLeft: fc.integer({ min: 0, max: 2 }),
    padRight: fc.integer({ min: 0, max: 2 }),
    dilationH: fc.integer({ min: 1, max: 2 }),
    dilationW: fc.integer({ min: 1, max: 2 }),
    bias: fc.boolean(),
  })
  .map((r) => {
    const groups = r.groupsKind === 'one' ? 1 : r.groupsKind === 'two' ? 2 : 3;
    const cg = r.groupsKind === 'depthwise' ? 1 : r.cg;
    const o = {
      N: r.N, C: groups * cg, H: r.H, W: r.W, OC: groups * r.ocg, KH: r.KH, KW: r.KW,
      strideH: r.strideH, strideW: r.strideW, padTop: r.padTop, padBottom: r.padBottom, padLeft: r.padLeft,
      padRight: r.padRight, dilationH: r.dilationH, dilationW: r.dilationW, groups,
    };
    return { o, bias: r.bias };
  })
  .filter(({ o }) => {
    const p = makeConv2dParams(o);
    return p.OH > 0 && p.OW > 0;
  })
  .map(({ o, bias }) => ({ p: makeConv2dParams(o), bias }));

export const poolArb = fc
  .record({
    N: fc.integer({ min: 1, max: 2 }),
    C: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 2, max: 9 }),
    W: fc.integer({ min: 2, max: 9 }),
    KH: fc.integer({ min: 1, max: 3 }),
    KW: fc.integer({ min: 1, max: 3 }),
    strideH: fc.integer({ min: 1, max: 3 }),
    strideW: fc.integer({ min: 1, max: 3 }),
    padH: fc.integer({ min: 0, max: 1 }),
    padW: fc.integer({ min: 0, max: 1 }),
    dilationH: fc.integer({ min: 1, max: 2 }),
    dilationW: fc.integer({ min: 1, max: 2 }),
    ceilMode: fc.boolean(),
    countIncludePad: fc.boolean(),
    divisor: fc.constantFrom(0, 0, 3),
  })
  .filter((r) => r.padH * 2 <= r.KH && r.padW * 2 <= r.KW)
  .filter((r) => {
    try {
      makePool2dParams(r);
      return true;
    } catch {
      return false;
    }
  })
  .map((r) => ({
    p: makePool2dParams(r),
    avgP: (() => {
      try {
        return makePool2dParams({ ...r, dilationH: 1, dilationW: 1 });
      } catch {
        return null;
      }
    })(),
    o: { countIncludePad: r.countIncludePad, divisorOverride: r.divisor === 0 ? null : r.divisor } as AvgPool2dOptions,
  }));

export const linearArb = fc.record({
  N: fc.integer({ min: 1, max: 3 }),
  K: fc.integer({ min: 1, max: 40 }),
  OUT: fc.integer({ min: 1, max: 12 }),
  bias: fc.boolean(),
});

export const adaptiveArb = fc.record({
  N: fc.integer({ min: 1, max: 2 }),
  C: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 1, max: 9 }),
  W: fc.integer({ min: 1, max: 9 }),
  OH: fc.integer({ min: 1, max: 4 }),
  OW: fc.integer({ min: 1, max: 4 }),
});

// ---- the CPU reference (what the gpu.js kernels must reproduce) ---------------

export function cpuConv(p: Conv2dParams, x: Float32Array, w: Float32Array, b: Float32Array | null, gy: Float32Array) {
  const y = new Float32Array(p.N * p.OC * p.OH * p.OW);
  cpuKernels.conv2dForward(p, x, w, b, y);
  const gx = new Float32Array(x.length);
  cpuKernels.conv2dBackwardInput(p, gy, w, gx);
  const gw = new Float32Array(w.length), gb = new Float32Array(p.OC);
  cpuKernels.conv2dBackwardWeight(p, x, gy, gw, gb);
  return { y, gx, gw, gb };
}

// ---- device-API parity (webasm or webgpu) ---------------------------------------

/** Runs every random-layer property against a GpuDevice. */
export async function deviceLayerParity(d: GpuDevice, label: string, numRuns: number): Promise<void> {
  const up = (a: Float32Array, shape: number[]): DeviceTensor => d.upload(a, shape);

  await fc.assert(
    fc.asyncProperty(convArb, async ({ p, bias }) => {
      const x = rnd(p.N * p.C * p.H * p.W), w = rnd(p.OC * (p.C / p.groups) * p.KH * p.KW);
      const b = bias ? rnd(p.OC) : null, gy = rnd(p.N * p.OC * p.OH * p.OW);
      const ref = cpuConv(p, x, w, b, gy);
      const X = up(x, [p.N, p.C, p.H, p.W]), Wt = up(w, [p.OC, p.C / p.groups, p.KH, p.KW]);
      const B = b === null ? null : up(b, [p.OC]), GY = up(gy, [p.N, p.OC, p.OH, p.OW]);
      const y = d.conv2d(p, X, Wt, B), gx = d.conv2dBackwardInput(p, GY, Wt);
      const gw = d.conv2dBackwardWeight(p, X, GY), gb = d.conv2dBackwardBias(p, GY);
      expectClose(`${label} conv2d forward`, await d.read(y), ref.y);
      expectClose(`${label} conv2d grad input`, await d.read(gx), ref.gx);
      expectClose(`${label} conv2d grad weight`, await d.read(gw), ref.gw);
      expectClose(`${label} conv2d grad bias`, await d.read(gb), ref.gb);
      for (const t of [X, Wt, GY, y, gx, gw, gb]) t.dispose();
      B?.dispose();
    }),
    { numRuns, seed: 42 },
  );

  await fc.assert(
    fc.asyncProperty(linearArb, async ({ N, K, OUT, bias }) => {
      const p: LinearParams = { N, K, OUT };
      const x = rnd(N * K), w = rnd(OUT * K), b = bias ? rnd(OUT) : null, gy = rnd(N * OUT);
      const y = new Float32Array(N * OUT), gx = new Float32Array(N * K), gw = new Float32Array(OUT * K), gb = new Float32Array(OUT);
      cpuKernels.linearForward(p, x, w, b, y);
      cpuKernels.linearBackwardInput(p, gy, w, gx);
      cpuKernels.linearBackwardWeight(p, x, gy, gw, gb);
      const X = up(x, [N, K]), Wt = up(w, [OUT, K]), GY = up(gy, [N, OUT]);
      const B = b === null ? null : up(b, [OUT]);
      expectClose(`${label} linear forward`, await d.read(d.linear(p, X, Wt, B)), y);
      expectClose(`${label} linear grad input`, await d.read(d.linearBackwardInput(p, GY, Wt)), gx);
      expectClose(`${label} linear grad weight`, await d.read(d.linearBackwardWeight(p, X, GY)), gw);
      expectClose(`${label} linear grad bias`, await d.read(d.linearBackwardBias(p, GY)), gb);
    }),
    { numRuns, seed: 43 },
  );

  await fc.assert(
    fc.asyncProperty(poolArb, async ({ p, avgP, o }) => {
      const x = rnd(p.N * p.C * p.H * p.W), gy = rnd(p.N * p.C * p.OH * p.OW);
      const out = new Float32Array(gy.length), am = new Int32Array(gy.length), gx = new Float32Array(x.length);
      cpuKernels.maxPool2dForward(p, x, out, am);
      cpuKernels.maxPool2dBackward(p, gy, am, gx);
      const X = up(x, [p.N, p.C, p.H, p.W]), GY = up(gy, [p.N, p.C, p.OH, p.OW]);
      const r = d.maxPool2d(p, X);
      const gotAm = await d.read(r.argmax);
      const gotOut = await d.read(r.out);
      // all-padding windows: the device writes -FLT_MAX where the CPU writes -Infinity
      for (let i = 0; i < am.length; i++) if (am[i]! < 0) gotOut[i] = -Infinity, out[i] = -Infinity;
      if (!am.every((v, i) => v === gotAm[i])) throw new Error(`${label} max_pool2d argmax differs`);
      const finite = (a: Float32Array): Float32Array => a.map((v) => (Number.isFinite(v) ? v : 0));
      expectClose(`${label} max_pool2d forward`, finite(gotOut), finite(out));
      expectClose(`${label} max_pool2d backward`, await d.read(d.maxPool2dBackward(p, GY, r.argmax)), gx);
      if (avgP !== null) {
        const ay = new Float32Array(avgP.N * avgP.C * avgP.OH * avgP.OW), agy = rnd(ay.length), agx = new Float32Array(x.length);
        cpuKernels.avgPool2dForward(avgP, o, x, ay);
        cpuKernels.avgPool2dBackward(avgP, o, agy, agx);
        expectClose(`${label} avg_pool2d forward`, await d.read(d.avgPool2d(avgP, o, X)), ay);
        const AGY = up(agy, [avgP.N, avgP.C, avgP.OH, avgP.OW]);
        expectClose(`${label} avg_pool2d backward`, await d.read(d.avgPool2dBackward(avgP, o, AGY)), agx);
      }
    }),
    { numRuns, seed: 44 },
  );

  await fc.assert(
    fc.asyncProperty(adaptiveArb, async (a) => {
      const p: AdaptivePool2dParams = a;
      const x = rnd(p.N * p.C * p.H * p.W), gy = rnd(p.N * p.C * p.OH * p.OW);
      const y = new Float32Array(gy.length), gx = new Float32Array(x.length);
      cpuKernels.adaptiveAvgPool2dForward(p, x, y);
      cpuKernels.adaptiveAvgPool2dBackward(p, gy, gx);
      const X = up(x, [p.N, p.C, p.H, p.W]), GY = up(gy, [p.N, p.C, p.OH, p.OW]);
      expectClose(`${label} adaptive_avg_pool2d fwd`, await d.read(d.adaptiveAvgPool2d(p, X)), y);
      expectClose(`${label} adaptive_avg_pool2d bwd`, await d.read(d.adaptiveAvgPool2dBackward(p, GY)), gx);
    }),
    { numRuns, seed: 45 },
  );

  // batch norm (eval), relu (+ guided), add, pad on a few fixed shapes
  for (const [N, C, H, W] of [[1, 3, 4, 5], [2, 5, 3, 3], [2, 2, 7, 1]] as const) {
    const n = N * C * H * W;
    const x = rnd(n), gy = rnd(n), x2 = rnd(n);
    const stats: BatchNormStats = {
      runningMean: rnd(C), runningVar: rnd(C).map((v) => v * v + 0.5), weight: rnd(C), bias: rnd(C), eps: 1e-5,
    };
    const bp = { N, C, H, W, eps: stats.eps };
    const y = new Float32Array(n), gx = new Float32Array(n), gw = new Float32Array(C), gb = new Float32Array(C);
    cpuKernels.batchNorm2dForwardEval(bp, x, stats.runningMean, stats.runningVar, stats.weight, stats.bias, y);
    cpuKernels.batchNorm2dBackwardEval(bp, gy, x, stats.runningMean, stats.runningVar, stats.weight, gx, gw, gb);
    const X = up(x, [N, C, H, W]), GY = up(gy, [N, C, H, W]);
    expectClose(`${label} batch_norm eval fwd`, await d.read(d.batchNorm2dEval(X, stats)), y);
    const bb = d.batchNorm2dBackwardEval(GY, X, stats, { weight: true, bias: true });
    expectClose(`${label} batch_norm eval grad x`, await d.read(bb.gradX), gx);
    expectClose(`${label} batch_norm eval grad w`, await d.read(bb.gradWeight!), gw);
    expectClose(`${label} batch_norm eval grad b`, await d.read(bb.gradBias!), gb);

    expectClose(`${label} relu`, await d.read(d.relu(X)), x.map((v) => (v > 0 ? v : 0)));
    expectClose(`${label} relu backward`, await d.read(d.reluBackward(X, GY)), gy.map((g, i) => (x[i]! > 0 ? g : 0)));
    expectClose(`${label} relu backward guided`, await d.read(d.reluBackward(X, GY, { guided: true })),
      gy.map((g, i) => (x[i]! > 0 && g > 0 ? g : 0)));
    expectClose(`${label} add`, await d.read(d.add(X, up(x2, [N, C, H, W]))), x.map((v, i) => v + x2[i]!));
    const pad = [1, 0, 2, -1] as const;
    const padded = d.pad(X, pad, 0.25);
    const ref = cpuPad(x, N * C, H, W, pad, 0.25);
    expectClose(`${label} pad`, await d.read(padded), ref);
    expectClose(`${label} pad backward`, await d.read(d.padBackward(padded, pad)), cpuPad(ref, N * C, H + 1, W + 1, [-1, 0, -2, 1], 0));
  }
}

export function cpuPad(x: Float32Array, planes: number, H: number, W: number, pad: readonly [number, number, number, number], value: number): Float32Array {
  const [l, r, t, b] = pad;
  const OH = H + t + b, OW = W + l + r;
  const out = new Float32Array(planes * OH * OW).fill(value);
  for (let pl = 0; pl < planes; pl++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const ih = oh - t, iw = ow - l;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W) out[(pl * OH + oh) * OW + ow] = x[(pl * H + ih) * W + iw]!;
      }
    }
  }
  return out;
}

// ---- a small whole network, forward + guided backward -----------------------------

/**
 * conv(3→8, 3×3, pad 1, bias) → BN(eval) → ReLU → maxpool 2 → depthwise conv(3×3, pad 1)
 * → ReLU → + residual → pad [0,1,0,1] → conv(8→6, 2×2, stride 2, dilation 1, groups 2)
 * → ReLU → adaptive avg pool 1×1 → linear(6→5); backward from a random gradient with the
 * guided ReLU rule; outputs: logits, grad input, conv weight/bias grads, linear grads.
 */
export const NET = (() => {
  const N = 2;
  const c1 = makeConv2dParams({ N, C: 3, H: 12, W: 12, OC: 8, KH: 3, KW: 3, padTop: 1, padLeft: 1 });
  const mp = makePool2dParams({ N, C: 8, H: 12, W: 12, KH: 2, KW: 2 });
  const c2 = makeConv2dParams({ N, C: 8, H: 6, W: 6, OC: 8, KH: 3, KW: 3, padTop: 1, padLeft: 1, groups: 8 });
  const pad = [0, 1, 0, 1] as [number, number, number, number];
  const c3 = makeConv2dParams({ N, C: 8, H: 7, W: 7, OC: 6, KH: 2, KW: 2, strideH: 2, strideW: 2, groups: 2 });
  const ap: AdaptivePool2dParams = { N, C: 6, H: c3.OH, W: c3.OW, OH: 1, OW: 1 };
  const lin: LinearParams = { N, K: 6, OUT: 5 };
  const seedData = {
    x: rnd(N * 3 * 12 * 12), w1: rnd(8 * 3 * 9), b1: rnd(8), w2: rnd(8 * 9), b2: rnd(8), w3: rnd(6 * 4 * 4), b3: rnd(6),
    wl: rnd(5 * 6), bl: rnd(5), gy: rnd(N * 5),
    bn: { runningMean: rnd(8), runningVar: rnd(8).map((v) => v * v + 0.5), weight: rnd(8), bias: rnd(8), eps: 1e-5 } as BatchNormStats,
  };
  return { N, c1, mp, c2, pad, c3, ap, lin, data: seedData };
})();

export type NetOutputs = Record<'logits' | 'gx' | 'gw1' | 'gb1' | 'gw2' | 'gw3' | 'gb3' | 'gwl' | 'gbl', Float32Array>;

export function cpuNet(): NetOutputs {
  const K = cpuKernels, { c1, mp, c2, pad, c3, ap, lin, data: D } = NET;
  const bn = D.bn;
  const conv = (p: Conv2dParams, x: Float32Array, w: Float32Array, b: Float32Array | null): Float32Array => {
    const y = new Float32Array(p.N * p.OC * p.OH * p.OW);
    K.conv2dForward(p, x, w, b, y);
    return y;
  };
  const relu = (x: Float32Array): Float32Array => x.map((v) => (v > 0 ? v : 0));
  const guided = (x: Float32Array, g: Float32Array): Float32Array => g.map((v, i) => (x[i]! > 0 && v > 0 ? v : 0));
  const y1 = conv(c1, D.x, D.w1, D.b1);
  const bp = { N: c1.N, C: 8, H: 12, W: 12, eps: bn.eps };
  const z1 = new Float32Array(y1.length);
  K.batchNorm2dForwardEval(bp, y1, bn.runningMean, bn.runningVar, bn.weight, bn.bias, z1);
  const r1 = relu(z1);
  const p1 = new Float32Array(c1.N * 8 * 36), am = new Int32Array(p1.length);
  K.maxPool2dForward(mp, r1, p1, am);
  const y2 = conv(c2, p1, D.w2, D.b2);
  const r2 = relu(y2);
  const s = r2.map((v, i) => v + p1[i]!);
  const sp = cpuPad(s, c1.N * 8, 6, 6, pad, 0);
  const y3 = conv(c3, sp, D.w3, D.b3);
  const r3 = relu(y3);
  const g = new Float32Array(c1.N * 6);
  K.adaptiveAvgPool2dForward(ap, r3, g);
  const logits = new Float32Array(c1.N * 5);
  K.linearForward(lin, g, D.wl, D.bl, logits);
  // backward
  const gg = new Float32Array(g.length), gwl = new Float32Array(30), gbl = new Float32Array(5);
  K.linearBackwardInput(lin, D.gy, D.wl, gg);
  K.linearBackwardWeight(lin, g, D.gy, gwl, gbl);
  const gr3 = new Float32Array(r3.length);
  K.adaptiveAvgPool2dBackward(ap, gg, gr3);
  const gy3 = guided(y3, gr3);
  const gsp = new Float32Array(sp.length), gw3 = new Float32Array(D.w3.length), gb3 = new Float32Array(6);
  K.conv2dBackwardInput(c3, gy3, D.w3, gsp);
  K.conv2dBackwardWeight(c3, sp, gy3, gw3, gb3);
  const gs = cpuPad(gsp, c1.N * 8, 7, 7, [0, -1, 0, -1], 0);
  const gy2 = guided(y2, gs);
  const gp1 = new Float32Array(p1.length), gw2 = new Float32Array(D.w2.length);
  K.conv2dBackwardInput(c2, gy2, D.w2, gp1);
  K.conv2dBackwardWeight(c2, p1, gy2, gw2, null);
  for (let i = 0; i < gp1.length; i++) gp1[i] = gp1[i]! + gs[i]!;
  const gr1 = new Float32Array(r1.length);
  K.maxPool2dBackward(mp, gp1, am, gr1);
  const gz1 = guided(z1, gr1);
  const gy1 = new Float32Array(y1.length);
  K.batchNorm2dBackwardEval(bp, gz1, y1, bn.runningMean, bn.runningVar, bn.weight, gy1, null, null);
  const gx = new Float32Array(D.x.length), gw1 = new Float32Array(D.w1.length), gb1 = new Float32Array(8);
  K.conv2dBackwardInput(c1, gy1, D.w1, gx);
  K.conv2dBackwardWeight(c1, D.x, gy1, gw1, gb1);
  return { logits, gx, gw1, gb1, gw2, gw3, gb3, gwl, gbl };
}

/** The same network on a GpuDevice: every op enqueued on device handles, one read per output at the end. */
export async function deviceNet(d: GpuDevice): Promise<NetOutputs> {
  const { N, c1, mp, c2, pad, c3, ap, lin, data: D } = NET;
  const x = d.upload(D.x, [N, 3, 12, 12]);
  const w1 = d.upload(D.w1, [8, 3, 3, 3]), b1 = d.upload(D.b1, [8]);
  const w2 = d.upload(D.w2, [8, 1, 3, 3]), b2 = d.upload(D.b2, [8]);
  const w3 = d.upload(D.w3, [6, 4, 2, 2]), b3 = d.upload(D.b3, [6]);
  const wl = d.upload(D.wl, [5, 6]), bl = d.upload(D.bl, [5]);
  const y1 = d.conv2d(c1, x, w1, b1);
  const z1 = d.batchNorm2dEval(y1, D.bn);
  const r1 = d.relu(z1);
  const p1 = d.maxPool2d(mp, r1);
  const y2 = d.conv2d(c2, p1.out, w2, b2);
  const r2 = d.relu(y2);
  const s = d.add(r2, p1.out);
  const sp = d.pad(s, pad);
  const y3 = d.conv2d(c3, sp, w3, b3);
  const r3 = d.relu(y3);
  const g4 = d.adaptiveAvgPool2d(ap, r3);
  const g = d.reshape(g4, [N, 6]);
  const logits = d.linear(lin, g, wl, bl);
  // backward
  const gy = d.upload(D.gy, [N, 5]);
  const gg = d.reshape(d.linearBackwardInput(lin, gy, wl), [N, 6, 1, 1]);
  const gwl = d.linearBackwardWeight(lin, g, gy), gbl = d.linearBackwardBias(lin, gy);
  const gr3 = d.adaptiveAvgPool2dBackward(ap, gg);
  const gy3 = d.reluBackward(y3, gr3, { guided: true });
  const gsp = d.conv2dBackwardInput(c3, gy3, w3);
  const gw3 = d.conv2dBackwardWeight(c3, sp, gy3), gb3 = d.conv2dBackwardBias(c3, gy3);
  const gs = d.padBackward(gsp, pad);
  const gy2 = d.reluBackward(y2, gs, { guided: true });
  const gp1 = d.add(d.conv2dBackwardInput(c2, gy2, w2), gs);
  const gw2 = d.conv2dBackwardWeight(c2, p1.out, gy2);
  const gr1 = d.maxPool2dBackward(mp, gp1, p1.argmax);
  const gz1 = d.reluBackward(z1, gr1, { guided: true });
  const gy1 = d.batchNorm2dBackwardEval(gz1, y1, D.bn).gradX;
  const gx = d.conv2dBackwardInput(c1, gy1, w1);
  const gw1 = d.conv2dBackwardWeight(c1, x, gy1), gb1 = d.conv2dBackwardBias(c1, gy1);
  // the only async step: read back the results
  const outs = { logits, gx, gw1, gb1, gw2, gw3, gb3, gwl, gbl };
  const entries = await Promise.all(Object.entries(outs).map(async ([k, t]) => [k, await d.read(t)] as const));
  return Object.fromEntries(entries) as NetOutputs;
}

// ---- environment ----------------------------------------------------------------

export interface WebGPUEnv {
  /** Why the webgpu tests cannot run here (null when they can and must). */
  skipReason: string | null;
}

/**
 * The webgpu tests need the `webgpu` package and a Vulkan driver; here that is
 * the SwiftShader ICD from Debian's chromium package. They skip only when the
 * ICD file is missing (or `VK_ICD_FILENAMES` names a missing file) — unless
 * GRADLENS_REQUIRE_WEBGPU=1, which turns that into a failure. With the ICD
 * present they always run: a failing adapter is a failing test.
 */
export function webgpuEnv(): WebGPUEnv {
  const icd = process.env['VK_ICD_FILENAMES'] ?? SWIFTSHADER_ICD;
  const missing = icd.split(':').filter((f) => f.length > 0 && !existsSync(f));
  if (missing.length > 0 || icd.length === 0) {
    const reason = `SwiftShader Vulkan ICD not found (${missing.join(', ') || icd}); install Debian's chromium package or set VK_ICD_FILENAMES`;
    if (process.env['GRADLENS_REQUIRE_WEBGPU'] === '1') throw new Error(`GRADLENS_REQUIRE_WEBGPU=1 but ${reason}`);
    return { skipReason: reason };
  }
  return { skipReason: null };
}

export async function createWebGPUDevice(): Promise<GpuDevice> {
  const probe = await probeWebGPUAdapter({ swiftshader: true });
  if (probe.adapter === null) throw new Error(`webgpu adapter unavailable although the ICD is present: ${probe.reason}`);
  return GpuDevice.create({ mode: 'webgpu', swiftshader: true });
}

export type { Pool2dParams };
