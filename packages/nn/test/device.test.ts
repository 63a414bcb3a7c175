/**
 * Per-module kernel backends: `module.to(device)`, `module.device`, `nn.resolve_device`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from '@gradlens/nn';
import { functional as F } from '@gradlens/nn';

/** A tiny CNN touching every kernel family a module can route: conv, batch norm, pools, linear. */
class TinyCNN extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(2, 3, 3, { padding: 1 }),
    new nn.BatchNorm2d(3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(3, 4, 3, { padding: 1, bias: false }),
    new nn.ReLU(),
    new nn.AvgPool2d(2),
    new nn.AdaptiveAvgPool2d(2),
  );
  flatten = new nn.Flatten();
  fc = new nn.Linear(16, 3);
  forward(x: Tensor): Tensor {
    return this.fc(this.flatten(this.features(x)));
  }
}

function relErr(got: Float32Array | Float64Array, ref: Float32Array | Float64Array): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    if (!(d <= m)) m = d;
    s = Math.max(s, Math.abs(ref[i]!));
  }
  return s === 0 ? m : m / s;
}

function run(net: TinyCNN, x0: Tensor): { out: Float32Array; grad: Float32Array } {
  const x = x0.clone().requires_grad_(true);
  const y = net(x);
  y.mul(torch.tensor([1, -2, 0.5])).sum().backward();
  return { out: y.detach()._contiguousData() as Float32Array, grad: x.grad!._contiguousData() as Float32Array };
}

const calls = new Map<string, number>();
afterAll(() => {
  if (nn.kernels.registeredBackends().includes('spy')) nn.kernels.unregisterKernels('spy');
});

describe('Module.to(device)', () => {
  it('defaults to the global backend and sets the backend of the whole tree', () => {
    const net = new TinyCNN();
    expect(net.device).toBe('cpu');
    expect(nn.functional.get_backend()).toBe('cpu');
    // a counting backend: CPU kernels, each call recorded
    const spy = Object.fromEntries(Object.entries(nn.kernels.cpuKernels).map(([k, fn]) => [k, (...a: unknown[]) => {
      calls.set(k, (calls.get(k) ?? 0) + 1);
      return (fn as (...a: unknown[]) => unknown)(...a);
    }]));
    nn.kernels.registerKernels('spy', spy);
    expect(net.to('spy')).toBe(net);
    for (const m of net.modules()) expect(m.device).toBe('spy');
    expect(net.features.get_submodule('4').device).toBe('spy');
    expect(nn.functional.get_backend()).toBe('cpu'); // the global default is untouched

    net.eval();
    run(net, torch.randn([1, 2, 8, 8]));
    for (const op of ['conv2dForward', 'conv2dBackwardInput', 'batchNorm2dForwardEval', 'batchNorm2dBackwardEval', 'maxPool2dForward',
      'maxPool2dBackward', 'avgPool2dForward', 'avgPool2dBackward', 'adaptiveAvgPool2dForward', 'adaptiveAvgPool2dBackward',
      'linearForward', 'linearBackwardInput']) {
      expect(calls.get(op), op).toBeGreaterThan(0);
    }

    // functional calls without a module keep using the global default
    calls.clear();
    F.conv2d(torch.randn([1, 2, 4, 4]), torch.randn([1, 2, 3, 3]));
    expect(calls.size).toBe(0);
    F.conv2d(torch.randn([1, 2, 4, 4]), torch.randn([1, 2, 3, 3]), null, { backend: 'spy' });
    expect(calls.get('conv2dForward')).toBe(1);

    // a submodule can be moved on its own
    net.to('cpu');
    net.fc.to('spy');
    expect([net.device, net.features.device, net.fc.device]).toEqual(['cpu', 'cpu', 'spy']);
  });

  it('rejects unknown devices and unresolved auto with clear errors', async () => {
    const net = new TinyCNN();
    expect(() => net.to('cuda')).toThrow(/Module\.to: unknown device 'cuda' \(registered: cpu/);
    expect(() => net.to('auto')).toThrow(/resolve_device\('auto'\)/);
    expect(net.device).toBe('cpu');
    await expect(nn.resolve_device('tpu')).rejects.toThrow(/unknown device 'tpu' \(registered: cpu/);
    expect(await nn.resolve_device('cpu')).toBe('cpu');
  });

  it("gives the same outputs and input gradients on 'gpujs-webasm' as on 'cpu' (tiny CNN)", async () => {
    expect(await nn.resolve_device('gpujs-webasm')).toBe('gpujs-webasm'); // loads the backend
    torch.manual_seed(0);
    const net = new TinyCNN();
    net.eval();
    const x = torch.randn([1, 2, 8, 8]);
    const ref = run(net, x);
    net.zero_grad();
    net.to('gpujs-webasm');
    expect(net.features.get_submodule('0').device).toBe('gpujs-webasm');
    const got = run(net, x);
    expect(relErr(got.out, ref.out)).toBeLessThanOrEqual(1e-4);
    expect(relErr(got.grad, ref.grad)).toBeLessThanOrEqual(1e-4);
    expect(ref.grad.some((v) => v !== 0)).toBe(true);
    // the gpu.js kernels really ran (they compile per op and shape)
    const { gpujsWebasmKernelCount } = await import('../src/kernels/gpujs/host.ts');
    expect(gpujsWebasmKernelCount()).toBeGreaterThan(0);
    expect(nn.functional.get_backend()).toBe('cpu');
  }, 120_000);
});
