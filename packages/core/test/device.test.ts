/**
 * Device-resident tensors, against a strict in-memory device: values are only reachable through
 * the async `read`, and a buffer used after its release throws. Every result is compared with the
 * same computation on the cpu.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as torch from '../src/index.ts';
import type { DeviceBackend, DeviceBinaryOp, DeviceBuffer, DeviceScalarOp, Tensor } from '../src/index.ts';
import { gridArb } from './helpers.ts';

class FakeBuffer implements DeviceBuffer {
  released = false;
  constructor(readonly values: Float32Array) {}
  get numel(): number {
    return this.values.length;
  }
}

/** A device whose memory core can only read with `await`; counts live buffers. */
class FakeDevice implements DeviceBackend {
  readonly name = 'fake';
  live = 0;
  describe(): string {
    return 'in-memory test device';
  }
  private make(values: Float32Array): FakeBuffer {
    this.live++;
    return new FakeBuffer(values);
  }
  private v(b: DeviceBuffer): Float32Array {
    const f = b as FakeBuffer;
    if (f.released) throw new Error('use after release');
    return f.values;
  }
  private map(b: DeviceBuffer, f: (x: number, i: number) => number): FakeBuffer {
    const x = this.v(b);
    return this.make(Float32Array.from(x, f));
  }
  upload(data: Float32Array): DeviceBuffer {
    return this.make(data.slice());
  }
  fill(n: number, value: number): DeviceBuffer {
    return this.make(new Float32Array(n).fill(value));
  }
  copy(x: DeviceBuffer): DeviceBuffer {
    return this.make(this.v(x).slice());
  }
  async read(x: DeviceBuffer): Promise<Float32Array> {
    await Promise.resolve();
    return this.v(x).slice();
  }
  release(x: DeviceBuffer): void {
    const f = x as FakeBuffer;
    if (f.released) throw new Error('double release');
    f.released = true;
    this.live--;
  }
  binary(op: DeviceBinaryOp, a: DeviceBuffer, b: DeviceBuffer): DeviceBuffer {
    const y = this.v(b);
    const f = { add: (p: number, q: number) => p + q, sub: (p: number, q: number) => p - q, mul: (p: number, q: number) => p * q, div: (p: number, q: number) => p / q }[op];
    return this.map(a, (p, i) => f(p, y[i]!));
  }
  scalar(op: DeviceScalarOp, x: DeviceBuffer, s: number): DeviceBuffer {
    const f = { add: (p: number) => p + s, mul: (p: number) => p * s, rsub: (p: number) => s - p, div: (p: number) => p / s, rdiv: (p: number) => s / p }[op];
    return this.map(x, f);
  }
  neg(x: DeviceBuffer): DeviceBuffer {
    return this.map(x, (p) => -p);
  }
  relu(x: DeviceBuffer): DeviceBuffer {
    return this.map(x, (p) => (p > 0 || Number.isNaN(p) ? p : 0));
  }
  clamp(x: DeviceBuffer, lo: number | null, hi: number | null): DeviceBuffer {
    return this.map(x, (p) => (Number.isNaN(p) ? p : Math.min(hi ?? Infinity, Math.max(lo ?? -Infinity, p))));
  }
  mask(x: DeviceBuffer, g: DeviceBuffer, lo: number, hi: number, inclusive: boolean): DeviceBuffer {
    const gv = this.v(g);
    return this.map(x, (p, i) => ((inclusive ? p >= lo && p <= hi : p > lo) ? gv[i]! : 0));
  }
}

const dev = new FakeDevice();
beforeAll(() => torch.register_device(dev));
afterAll(() => torch.unregister_device('fake'));

async function values(t: Tensor): Promise<number[]> {
  return Array.from((await t.cpu()).detach()._contiguousData());
}

const cpuValues = (t: Tensor): number[] => Array.from(t.detach()._contiguousData());

describe('moving tensors', () => {
  it('to(device) uploads, cpu() reads back, and the device is reported', async () => {
    const x = torch.tensor([[1, -2, 3], [4, 5, -6]]);
    const d = x.to('fake');
    expect(d.device).toBe('fake');
    expect(d.is_cpu).toBe(false);
    expect(x.device).toBe('cpu');
    expect(d.shape).toEqual([2, 3]);
    expect(d.to('fake')).toBe(d);
    const back = await d.cpu();
    expect(back.device).toBe('cpu');
    expect(back.tolist()).toEqual([[1, -2, 3], [4, 5, -6]]);
    expect(await x.cpu()).toBe(x);
  });

  it('synchronous reads of device values fail with the way out', () => {
    const d = torch.ones([2]).to('fake');
    for (const f of [() => d.numpy(), () => d.item(), () => d.tolist()]) expect(f).toThrow(/await t.cpu\(\)/);
    expect(() => d.to('cpu')).toThrow(/asynchronous: use `await t.cpu\(\)`/);
    expect(() => torch.ones([2]).to('nowhere')).toThrow(/unknown device \(available: cpu, fake\)/);
    expect(() => torch.ones([2], { dtype: 'float64' }).to('fake')).toThrow(/float32/);
    expect(String(d)).toBe("tensor(<values on the device: await t.cpu()>, size=[2], device='fake')");
  });

  it('ops without a device implementation refuse device tensors instead of reading garbage', () => {
    const d = torch.ones([2, 2]).to('fake');
    expect(() => d.exp()).toThrow(/not implemented for tensors on device 'fake'/);
    expect(() => torch.matmul(d, d)).toThrow(/not implemented for tensors on device 'fake'/);
    expect(() => d.permute([1, 0]).contiguous()).toThrow(/not implemented for tensors on device 'fake'/);
  });

  it('mixed devices and broadcasting are errors (cpu scalars are allowed)', async () => {
    const d = torch.ones([2, 3]).to('fake');
    expect(() => torch.add(d, torch.ones([2, 3]))).toThrow('Expected all tensors to be on the same device, but found at least two devices, fake and cpu!');
    expect(() => torch.mul(d, torch.ones([3]).to('fake'))).toThrow(/broadcasting \[2, 3\] with \[3\] is not implemented on device 'fake'/);
    expect(await values(torch.mul(d, torch.tensor(3)))).toEqual([3, 3, 3, 3, 3, 3]);
  });
});

describe('pointwise ops on the device match the cpu', () => {
  const pairArb = fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(gridArb(n), gridArb(n), fc.double({ min: -3, max: 3, noNaN: true })));

  it('add/sub/mul/div with tensors and scalars on either side, alpha, neg, relu, clamp', async () => {
    await fc.assert(
      fc.asyncProperty(pairArb, async ([a, b, s]) => {
        const x = torch.tensor(a), y = torch.tensor(b);
        const X = x.to('fake'), Y = y.to('fake');
        const cases: [Tensor, Tensor][] = [
          [torch.add(x, y), torch.add(X, Y)],
          [torch.add(x, y, { alpha: s }), torch.add(X, Y, { alpha: s })],
          [torch.sub(x, y, { alpha: 2 }), torch.sub(X, Y, { alpha: 2 })],
          [torch.mul(x, y), torch.mul(X, Y)],
          [torch.div(x, y), torch.div(X, Y)],
          [torch.add(x, s), torch.add(X, s)],
          [torch.sub(s, x), torch.sub(s, X)],
          [torch.sub(x, s), torch.sub(X, s)],
          [torch.mul(s, x), torch.mul(s, X)],
          [torch.div(x, 0.5), torch.div(X, 0.5)],
          [torch.div(s, x), torch.div(s, X)],
          [torch.neg(x), torch.neg(X)],
          [torch.relu(x), torch.relu(X)],
          [torch.clamp(x, { min: 0 }), torch.clamp(X, { min: 0 })],
          [torch.clamp(x, { min: -0.5, max: s }), torch.clamp(X, { min: -0.5, max: s })],
        ];
        for (const [c, d] of cases) {
          expect(d.device).toBe('fake');
          // float32 on both sides; the device may round an intermediate (alpha·y) the cpu keeps in double
          const got = await values(d), want = cpuValues(c);
          got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]!))));
        }
      }),
      { numRuns: 40 },
    );
  });
});

/** y = relu(x·w + b)·w with a gradient `gy`: exercises fan-out (w used twice) and relu's mask. */
function smallGraph(x: Tensor, w: Tensor, b: Tensor, hook?: (g: Tensor) => Tensor): Tensor {
  const h = torch.relu(torch.add(torch.mul(x, w), b));
  if (hook) h.register_hook(hook);
  return torch.mul(h, w);
}

describe('autograd on the device', () => {
  it('gradients equal the cpu ones, with hooks and gradient accumulation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10 }).chain((n) => fc.tuple(gridArb(n), gridArb(n), gridArb(n), gridArb(n))), async ([xv, wv, bv, gv]) => {
        const run = (device: string): { x: Tensor; w: Tensor; b: Tensor } => {
          const mk = (v: number[]): Tensor => torch.tensor(v).to(device).requires_grad_();
          const x = mk(xv), w = mk(wv), b = mk(bv);
          const hook = (g: Tensor): Tensor => torch.clamp(g, { min: 0 });
          const gy = torch.tensor(gv).to(device);
          smallGraph(x, w, b, hook).backward(gy);
          // a second backward accumulates into .grad
          smallGraph(x, w, b).backward(gy);
          return { x, w, b };
        };
        const c = run('cpu'), d = run('fake');
        for (const k of ['x', 'w', 'b'] as const) {
          expect(d[k].grad!.device).toBe('fake');
          expect(await values(d[k].grad!)).toEqual(cpuValues(c[k].grad!));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('scalar outputs seed with ones on the device; gradient devices are checked', async () => {
    const x = torch.tensor([2]).to('fake').requires_grad_();
    const y = torch.mul(x, x);
    expect(() => y.backward(torch.ones([1]), { retain_graph: true })).toThrow('invalid gradient at index 0 - expected device fake but got cpu');
    torch.mul(x.view([]), 3).backward();
    expect(await values(x.grad!)).toEqual([3]);
  });

  it('views share storage; in-place ops rebind it, keep history, and flag stale saved tensors', async () => {
    const x = torch.tensor([1, -2, 3, -4]).to('fake').requires_grad_();
    const h = torch.mul(x, 2);
    const v = h.view([2, 2]);
    expect(v.device).toBe('fake');
    torch.relu_(h);
    expect(await values(v)).toEqual([2, 0, 6, 0]);
    h.add_(1);
    expect(h.grad_fn!.name()).toBe('AddBackward0');
    h.backward(torch.ones([4]).to('fake'));
    expect(await values(x.grad!)).toEqual([2, 0, 2, 0]);

    const a = torch.tensor([1, 2]).to('fake').requires_grad_();
    const b = torch.mul(a, 1);
    const c = torch.mul(b, b); // saves b
    b.mul_(3);
    expect(() => c.backward(torch.ones([2]).to('fake'))).toThrow(/modified by an inplace operation/);
  });

  it('copy_ into a device tensor uploads (load_state_dict after model.to) and hooks cannot change a gradient\'s device', async () => {
    const p = torch.zeros([3]).to('fake').requires_grad_();
    torch.no_grad(() => p.copy_(torch.tensor([1, 2, 3], { dtype: 'float64' })));
    expect(p.device).toBe('fake');
    expect(await values(p)).toEqual([1, 2, 3]);
    expect(() => torch.no_grad(() => p.copy_(torch.ones([2])))).toThrow(/broadcasting \[2\] into \[3\] is not implemented on device 'fake'/);

    const x = torch.ones([2]).to('fake').requires_grad_();
    const y = torch.mul(x, 2);
    y.register_hook(() => torch.ones([2]));
    expect(() => y.backward(torch.ones([2]).to('fake'))).toThrow(/has changed the device of value 0: expected fake, got cpu/);
  });

  it('retain_grad keeps a non-leaf gradient on the device and accumulates it across passes', async () => {
    const x = torch.tensor([1, -2, 3]).to('fake').requires_grad_();
    const h = torch.mul(x, 2);
    h.retain_grad();
    const y = torch.mul(h, h);
    y.backward(torch.ones([3]).to('fake'), { retain_graph: true });
    expect(h.grad!.device).toBe('fake');
    expect(await values(h.grad!)).toEqual([4, -8, 12]);
    y.backward(torch.ones([3]).to('fake'));
    expect(await values(h.grad!)).toEqual([8, -16, 24]);
  });

  it('backward cannot cross from the device back to a cpu leaf, and says what to do', () => {
    const x = torch.ones([2], { requires_grad: true });
    const y = torch.mul(x.to('fake'), 2);
    expect(() => y.backward(torch.ones([2]).to('fake'))).toThrow(/x = x.detach\(\).to\('fake'\).requires_grad_\(\)/);
  });

  it('untracked in-place ops release the buffers they replace at once; detach shares the binding', async () => {
    torch.no_grad(() => {
      // finalizers never run inside synchronous code, so the live count is exact here
      const t = torch.zeros([3]).to('fake');
      const before = dev.live;
      const view = t.view([3, 1]);
      for (let i = 0; i < 5; i++) t.add_(1);
      expect(dev.live).toBe(before);
      expect(view.device).toBe('fake');
    });
    const t = torch.zeros([2]).to('fake');
    const kept = t.detach();
    t.add_(1);
    expect(await values(kept)).toEqual([1, 1]);
  });
});
