/**
 * GpuDevice elementwise ops (sub/mul/div, scalarOp, neg, clamp, mask, fill,
 * copy, alias) vs plain JS float32 references, on webasm and on webgpu
 * (SwiftShader).
 *
 * Error metric: element-wise |got − ref| / |ref| (NaN matches NaN, equal
 * infinities match), bounded by 1e-6; clamp, mask, fill, copy and neg must be
 * bit-exact up to NaN payloads (-0 included).
 *
 * The webgpu part skips (visibly) only when the Vulkan ICD is missing;
 * GRADLENS_REQUIRE_WEBGPU=1 makes that a failure. One GpuDevice per mode is
 * shared by every test (SwiftShader compiles slowly) and sizes stay small.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeviceTensor, GpuDevice } from '../../src/kernels/gpujs/device.ts';
import { createWebGPUDevice, webgpuEnv } from './_parity.ts';

const N = 1000;
const REL_TOL = 1e-6;
const f = Math.fround;

/** Deterministic values in (-1, 1) with exact zeros, ±0 and the given special values sprinkled in. */
function data(n: number, seed: number, specials: readonly number[] = []): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s / 2 ** 32) * 2 - 1;
    // a spread of magnitudes, including a few exact zeros and negative zeros
    a[i] = i % 97 === 0 ? 0 : i % 89 === 0 ? -0 : u * (i % 3 === 0 ? 100 : i % 3 === 1 ? 1 : 0.01);
  }
  specials.forEach((v, k) => {
    a[(k * 37 + 11) % n] = v;
  });
  return a;
}

function relErrAt(got: number, ref: number): number {
  if (Number.isNaN(ref) || Number.isNaN(got)) return Number.isNaN(ref) && Number.isNaN(got) ? 0 : Infinity;
  if (got === ref) return 0;
  if (!Number.isFinite(ref) || !Number.isFinite(got)) return Infinity;
  return ref === 0 ? Infinity : Math.abs(got - ref) / Math.abs(ref);
}

function expectRel(name: string, got: Float32Array, ref: ArrayLike<number>): void {
  expect(got.length, `${name}: length`).toBe(ref.length);
  let worst = 0, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const e = relErrAt(got[i]!, ref[i]!);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  if (!(worst <= REL_TOL)) throw new Error(`${name}: relative error ${worst} at ${at} (got ${got[at]}, want ${ref[at]})`);
}

function expectExact(name: string, got: Float32Array, ref: ArrayLike<number>): void {
  expect(got.length, `${name}: length`).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const g = got[i]!, r = f(ref[i]!);
    if (!(Object.is(g, r) || (Number.isNaN(g) && Number.isNaN(r)))) {
      throw new Error(`${name}: element ${i} is ${Object.is(g, -0) ? '-0' : g}, want ${Object.is(r, -0) ? '-0' : r}`);
    }
  }
}

const map = (a: Float32Array, fn: (v: number, i: number) => number): number[] => Array.from(a, (v, i) => f(fn(v, i)));

/** The CPU clamp's formula (packages/core pointwise clamp). */
function refClamp(v: number, lo: number | null, hi: number | null): number {
  const l = lo === null ? -Infinity : f(lo), h = hi === null ? Infinity : f(hi);
  const r = v < l ? l : v;
  return r > h ? h : r;
}

function refMask(v: number, g: number, lo: number, hi: number, inclusive: boolean): number {
  const l = f(lo), h = f(hi);
  return (inclusive ? v >= l && v <= h : v > l) ? g : 0;
}

function defineSuite(label: string, create: () => Promise<GpuDevice>): void {
  let d: GpuDevice;
  beforeAll(async () => {
    d = await create();
  }, 120_000);
  afterAll(() => d?.destroy());

  const a = data(N, 1, [Infinity, -Infinity]);
  const b = data(N, 2);
  // nonzero denominators for the accuracy check (zeros get their own IEEE check)
  const bNz = b.map((v, i) => (v === 0 ? (i % 2 === 0 ? 0.75 : -1.25) : v));

  it(`${label}: sub / mul / div match float32 JS (rel ≤ 1e-6)`, async () => {
    const ta = d.upload(a, [N]), tb = d.upload(bNz, [N]);
    const [s, m, q] = await Promise.all([d.sub(ta, tb).data(), d.mul(ta, tb).data(), d.div(ta, tb).data()]);
    expectRel(`${label} sub`, s, map(a, (v, i) => v - bNz[i]!));
    expectRel(`${label} mul`, m, map(a, (v, i) => v * bNz[i]!));
    expectRel(`${label} div`, q, map(a, (v, i) => v / bNz[i]!));
    const t3 = d.upload(a, [10, 100]), t4 = d.upload(bNz, [10, 100]);
    const y = d.sub(t3, t4);
    expect(y.shape).toEqual([10, 100]);
    expectRel(`${label} sub [10,100]`, await y.data(), map(a, (v, i) => v - bNz[i]!));
  });

  it(`${label}: division by zero follows IEEE (±Infinity, NaN for 0/0)`, async () => {
    const num = new Float32Array([1, -1, 0, -0, 2, NaN]), den = new Float32Array([0, 0, 0, 0, -0, 0]);
    const got = await d.div(d.upload(num, [6]), d.upload(den, [6])).data();
    expectExact(`${label} div by zero`, got, [Infinity, -Infinity, NaN, NaN, -Infinity, NaN]);
  });

  it(`${label}: scalarOp add / mul / rsub / div / rdiv, finite and non-finite scalars`, async () => {
    const tx = d.upload(bNz, [N]);
    const fns = {
      add: (v: number, s: number) => v + s,
      mul: (v: number, s: number) => v * s,
      rsub: (v: number, s: number) => s - v,
      div: (v: number, s: number) => v / s,
      rdiv: (v: number, s: number) => s / v,
    } as const;
    const scalars = [0.1, -3, 2.5, 0, 1e-3, Infinity, -Infinity, NaN];
    const kernelsBefore = d.kernelCount;
    const jobs: Promise<void>[] = [];
    for (const op of Object.keys(fns) as (keyof typeof fns)[]) {
      for (const s of scalars) {
        const y = d.scalarOp(op, tx, s);
        expect(y.shape).toEqual([N]);
        // the scalar is rounded to f32 first (it is an f32 kernel argument)
        jobs.push(y.data().then((got) => expectRel(`${label} scalarOp ${op} ${s}`, got, map(bNz, (v) => fns[op](v, f(s))))));
      }
    }
    await Promise.all(jobs);
    // scalars are kernel arguments: one compiled kernel per op and size, whatever the value
    expect(d.kernelCount - kernelsBefore).toBeLessThanOrEqual(5);
    // x / 0 and 0 / x through the scalar path
    const z = await d.scalarOp('div', d.upload(new Float32Array([1, -1, 0]), [3]), 0).data();
    expectExact(`${label} scalar div 0`, z, [Infinity, -Infinity, NaN]);
    const r = await d.scalarOp('rdiv', d.upload(new Float32Array([0, -0, Infinity]), [3]), 1).data();
    expectExact(`${label} scalar rdiv`, r, [Infinity, -Infinity, 0]);
  });

  it(`${label}: neg is exact (including -0, ±Infinity, NaN)`, async () => {
    const x = data(N, 3, [Infinity, -Infinity, NaN, 0, -0]);
    expectExact(`${label} neg`, await d.neg(d.upload(x, [N])).data(), map(x, (v) => -v));
  });

  it(`${label}: clamp is exact, passes NaN through, with one-sided, infinite and crossed bounds`, async () => {
    const bounds: [number | null, number | null][] = [
      [-0.5, 0.5], [null, 0.25], [-0.25, null], [0.3, -0.3], [-Infinity, 0], [0, Infinity], [-Infinity, Infinity],
      [Infinity, null], [NaN, 0.5], [-1, 1e-3],
    ];
    const specials = [NaN, NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 0.25, -0.25, f(0.3), f(-0.3), 1, -1, f(1e-3)];
    const x = data(N, 4, specials);
    const tx = d.upload(x, [N]);
    const outs = bounds.map(([lo, hi]) => d.clamp(tx, lo, hi));
    for (let k = 0; k < bounds.length; k++) {
      const [lo, hi] = bounds[k]!;
      const got = await outs[k]!.data();
      expectExact(`${label} clamp(${lo}, ${hi})`, got, map(x, (v) => refClamp(v, lo, hi)));
      // NaN in → NaN out, like PyTorch
      for (let i = 0; i < N; i++) if (Number.isNaN(x[i]!)) expect(Number.isNaN(got[i]!), `clamp(${lo}, ${hi}) keeps NaN at ${i}`).toBe(true);
    }
    expect(() => d.clamp(tx, null, null)).toThrow(/at least one of lo and hi/);
  });

  it(`${label}: mask is exact, with values at the bounds and infinite bounds`, async () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1, -1, 0.25];
    const x = data(N, 5, specials), g = data(N, 6, [-0]);
    const tx = d.upload(x, [N]), tg = d.upload(g, [N]);
    const cases: [number, number, boolean][] = [
      [-0.5, 0.5, true], [-Infinity, Infinity, true], [0, Infinity, true], [-Infinity, 0, true], [-1, -1, true],
      [Infinity, Infinity, true], [0.25, -0.25, true],
      [0, Infinity, false], [0, NaN, false], [-Infinity, 0, false], [0.5, 0, false], [Infinity, Infinity, false],
    ];
    const outs = cases.map(([lo, hi, inc]) => d.mask(tx, tg, lo, hi, inc));
    for (let k = 0; k < cases.length; k++) {
      const [lo, hi, inc] = cases[k]!;
      expectExact(`${label} mask(${lo}, ${hi}, ${inc})`, await outs[k]!.data(), map(x, (v, i) => refMask(v, g[i]!, lo, hi, inc)));
    }
  });

  it(`${label}: fill, any shape and value (±Infinity, NaN, f32 rounding and overflow)`, async () => {
    const cases: [number[], number][] = [
      [[N], 0], [[N], -1.5], [[10, 100], 0.1], [[N], Infinity], [[2, 5, 100], -Infinity], [[N], NaN], [[7], 1e39], [[], 3],
    ];
    for (const [shape, value] of cases) {
      const t = d.fill(shape, value);
      expect(t.shape).toEqual(shape);
      const n = shape.reduce((p, q) => p * q, 1);
      expectExact(`${label} fill(${shape}, ${value})`, await t.data(), new Array<number>(n).fill(f(value)));
    }
    expect(() => d.fill([0, 3], 1)).toThrow(/positive size/);
  });

  it(`${label}: copy is an exact, independent device copy with the same shape`, async () => {
    const x = data(N, 7, [NaN, -0, Infinity]);
    const tx = d.upload(x, [4, 250]);
    const c = d.copy(tx);
    expect(c.shape).toEqual([4, 250]);
    expect(c._raw).not.toBe(tx._raw);
    tx.dispose(); // the copy owns its own buffer
    expectExact(`${label} copy`, await c.data(), x);
    expect(() => d.copy(tx)).toThrow(/copy x has been disposed/);
  });

  it(`${label}: alias shares the buffer and the uses; only the owner releases it`, async () => {
    const x = data(N, 8);
    const y = data(N, 9);
    const owner = d.upload(x, [N]);
    const al = d.alias(owner, [10, 100]);
    expect(al.shape).toEqual([10, 100]);
    expect(al.size).toBe(N);
    expect(al._raw).toBe(owner._raw);
    expect(al._uses).toBe(owner._uses);
    expect(al._owner).toBe(owner);
    expectExact(`${label} alias read`, await al.data(), x);

    // ops on the alias see the alias shape
    const ty = d.upload(y, [10, 100]);
    const s = d.add(al, ty);
    expect(s.shape).toEqual([10, 100]);
    expectRel(`${label} add on alias`, await s.data(), map(x, (v, i) => v + y[i]!));
    expect(() => d.add(al, owner)).toThrow('GpuDevice: add b has shape [1000], expected [10, 100]');
    expect(() => d.mul(owner, al)).toThrow('GpuDevice: mul b has shape [10, 100], expected [1000]');
    expect(() => d.alias(owner, [3, 333])).toThrow(/changes the size/);

    // an alias of an alias points at the one owner and shares the same uses
    const al2 = d.alias(al, [N]);
    expect(al2._owner).toBe(owner);
    expect(al2._uses).toBe(owner._uses);

    // disposing aliases releases nothing and leaves the owner usable
    const release = vi.spyOn(d, '_release');
    al.dispose();
    al2.dispose();
    expect(al.disposed).toBe(true);
    expect(owner.disposed).toBe(false);
    expect(() => d.neg(al)).toThrow(/neg x has been disposed/);
    expectExact(`${label} owner after alias dispose`, await owner.data(), x);
    expectExact(`${label} neg owner after alias dispose`, await d.neg(owner).data(), map(x, (v) => -v));
    await d.flush();
    await new Promise((r) => setTimeout(r, 10));
    expect(release).not.toHaveBeenCalled();

    // the owner's dispose waits for work enqueued through an alias, releases once, and disposes the aliases
    owner.dispose();
    await d.flush();
    await new Promise((r) => setTimeout(r, 10));
    expect(release).toHaveBeenCalledTimes(1);
    // an owner whose buffer is still being computed, and an op on its alias whose kernel (first use of
    // this size) still has to compile: the release must wait for that dispatch
    const x5 = x.subarray(0, 500);
    const fresh = d.neg(d.upload(x5, [500]));
    const al3 = d.alias(fresh, [20, 25]);
    const before = fresh._uses.length;
    const z = d.scalarOp('rsub', al3, 0);
    expect(fresh._uses.length).toBe(before + 1); // pushed onto the shared array
    fresh.dispose();
    expect(al3.disposed).toBe(true);
    expect(al3._uses).toBe(fresh._uses); // emptied in place, still the same array object
    expect(() => d.relu(al3)).toThrow(/relu x has been disposed/);
    expectExact(`${label} op on alias before owner dispose`, await z.data(), map(x5, (v) => 0 - -v));
    await d.flush();
    await new Promise((r) => setTimeout(r, 10));
    expect(release).toHaveBeenCalledTimes(2);
    release.mockRestore();
  });

  it(`${label}: settled uses are forgotten, so a long-lived tensor (a weight) does not collect one per op`, async () => {
    const w = d.upload(data(N, 12), [N]);
    for (let i = 0; i < 50; i++) d.relu(w).dispose();
    expect(w._uses.length).toBeGreaterThan(0); // pending right after enqueueing
    await d.flush();
    await new Promise((r) => setTimeout(r, 0));
    expect(w._uses.length).toBe(0);
    expectExact(`${label} still readable`, await w.data(), data(N, 12));
  });

  it(`${label}: checks shapes, devices and arguments with clear messages`, async () => {
    const t = d.upload(data(N, 10), [N]), u = d.upload(data(N - 1, 11), [N - 1]);
    expect(() => d.sub(t, u)).toThrow('GpuDevice: sub b has shape [999], expected [1000]');
    expect(() => d.mul(t, u)).toThrow('GpuDevice: mul b has shape [999], expected [1000]');
    expect(() => d.div(t, u)).toThrow('GpuDevice: div b has shape [999], expected [1000]');
    expect(() => d.mask(t, u, 0, 1, true)).toThrow('GpuDevice: mask g has shape [999], expected [1000]');
    expect(() => d.sub(t, u)).toThrow(RangeError);
    expect(() => d.scalarOp('pow' as 'add', t, 2)).toThrow(/unknown op 'pow'/);
    expect(() => d.scalarOp('toString' as 'add', t, 2)).toThrow(/unknown op 'toString'/);
    expect(() => d.scalarOp('add', t, '2' as unknown as number)).toThrow(/must be a number/);
    const other = await GpuDevice.create({ mode: 'webasm' });
    try {
      const foreign = other.upload(new Float32Array(N), [N]);
      expect(() => d.sub(t, foreign)).toThrow(/sub b lives on another device/);
      expect(() => d.alias(foreign, [N])).toThrow(/alias x lives on another device/);
    } finally {
      other.destroy();
    }
    expect(t).toBeInstanceOf(DeviceTensor);
  });
}

describe('GpuDevice elementwise ops, webasm', () => {
  defineSuite('webasm', () => GpuDevice.create({ mode: 'webasm' }));
});

const env = webgpuEnv();
if (env.skipReason !== null) console.warn(`[gpujs webgpu elementwise] SKIPPED: ${env.skipReason}`);
const title = env.skipReason === null ? 'GpuDevice elementwise ops, webgpu (SwiftShader)' : `GpuDevice elementwise ops, webgpu — SKIPPED: ${env.skipReason}`;

describe.skipIf(env.skipReason !== null)(title, () => {
  defineSuite('webgpu', async () => {
    const d = await createWebGPUDevice();
    expect(d.mode).toBe('webgpu');
    return d;
  });
});
