/**
 * Device-resident define-by-run: `model.to(device)`, `tensor.to(device)`, the seed's guided
 * backprop with its hooks running on device tensors, and one asynchronous readback at the end.
 * Against the CPU on gpu.js webasm (always) and WebGPU on SwiftShader (CI; visibly skipped when
 * the Vulkan ICD is missing, as in webgpu.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { GuidedBackprop } from '../../../../examples/guided_backprop.ts';
import { openResidentDevice, type GpujsResidentDevice } from '../../src/kernels/gpujs/resident.ts';
import { relErr, webgpuEnv } from './_parity.ts';

const TOL = 1e-4;

/** Random running statistics, so eval-mode batch norm is not the identity. */
function randomizeBatchNorm(model: nn.Module): void {
  for (const m of model.modules()) {
    if (m instanceof nn.BatchNorm2d) {
      m.running_mean!.data = torch.randn(m.running_mean!.shape).mul(0.1);
      m.running_var!.data = torch.rand(m.running_var!.shape).add(0.5);
      m.weight!.data = torch.rand(m.weight!.shape).add(0.5);
      m.bias!.data = torch.randn(m.bias!.shape).mul(0.1);
    }
  }
}

/** Small net with the layers resnet does not use: padding, average pooling, dropout, two linears. */
function smallNet(): nn.Module {
  return new nn.Sequential(
    new nn.ZeroPad2d([1, 2, 0, 1]),
    new nn.Conv2d(3, 6, 3, { stride: 2 }),
    new nn.ReLU(),
    new nn.AvgPool2d(2, { ceil_mode: true }),
    new nn.Conv2d(6, 8, 3, { padding: 1, groups: 2 }),
    new nn.ReLU({ inplace: true }),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Dropout(0.5),
    new nn.Linear(8, 16),
    new nn.ReLU(),
    new nn.Linear(16, 4),
  );
}

function flat(t: Tensor): Float32Array {
  return Float32Array.from(t.detach()._contiguousData());
}

/** Builds two copies of a model (cpu and device), runs guided backprop on both and compares. */
async function compareGuided(dev: GpujsResidentDevice, build: () => nn.Module, input: number[], target: number): Promise<void> {
  torch.manual_seed(7);
  const cpu = build();
  randomizeBatchNorm(cpu);
  const onDev = build();
  onDev.load_state_dict(cpu.state_dict());
  onDev.to(dev.name);
  for (const p of onDev.parameters()) expect(p.device).toBe(dev.name);

  const x = torch.randn(input);
  const gCpu = new GuidedBackprop(cpu).generate_gradients(x.clone().requires_grad_(), target);

  // count readbacks: the whole pass must need exactly one, the final gradient
  let reads = 0;
  const read = dev.gpu.read.bind(dev.gpu);
  dev.gpu.read = (t) => {
    reads++;
    return read(t);
  };
  try {
    const gDev = await new GuidedBackprop(onDev).generate_gradients_async(x.to(dev.name).requires_grad_(), target);
    expect(reads).toBe(1);
    expect(gDev.shape).toEqual(gCpu.shape);
    const err = relErr(Float32Array.from(gDev.data as Float32Array), Float32Array.from(gCpu.data as Float32Array));
    console.log(`[resident ${dev.name}] guided gradient ${input.join('x')}: max|diff|/max|ref| = ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(TOL);
  } finally {
    dev.gpu.read = read;
  }
  // weight gradients stayed on the device and match too (the seed does not freeze the weights)
  const [pc, pd] = [cpu.parameters(), onDev.parameters()];
  for (const i of [0, pc.length - 1]) {
    expect(pd[i]!.grad!.device).toBe(dev.name);
    expect(relErr(flat(await pd[i]!.grad!.cpu()), flat(pc[i]!.grad!))).toBeLessThanOrEqual(TOL);
  }
}

function residentSuite(label: string, open: () => Promise<GpujsResidentDevice>): void {
  let dev: GpujsResidentDevice;
  beforeAll(async () => {
    dev = await open();
  }, 60_000);
  afterAll(() => {
    torch.unregister_device(dev.name);
    dev.gpu.destroy();
  });

  it(`${label}: tensors move, compute and read back; autograd's own work stays on the device`, async () => {
    const a = torch.tensor([[1, -2], [3, -4]]);
    const A = a.to(dev.name).requires_grad_();
    expect(A.device).toBe(dev.name);
    const y = torch.clamp(torch.add(torch.mul(A, A), A), { min: 0 }).view([4]);
    y.backward(torch.ones([4]).to(dev.name));
    expect((await y.detach().cpu()).tolist()).toEqual([2, 2, 12, 12]);
    // d/da clamp(a² + a, 0) = (2a + 1) where a² + a > 0
    expect((await A.grad!.cpu()).tolist()).toEqual([[3, -3], [7, -7]]);
  });

  it(`${label}: a small net with pad, avg/max pooling, groups, dropout (eval) and two linears matches the cpu`, async () => {
    await compareGuided(dev, smallNet, [1, 3, 13, 11], 1);
  }, 120_000);

  it(`${label}: resnet18 (batch norm, in-place ReLU and residual add, global mean, fc) matches the cpu`, async () => {
    await compareGuided(dev, () => models.resnet18({ num_classes: 5 }) as nn.Module, [1, 3, 32, 32], 3);
  }, 300_000);

  it(`${label}: load_state_dict after model.to(device) copies the values onto the device`, async () => {
    const src = new nn.Conv2d(2, 3, 3);
    const dst = new nn.Conv2d(2, 3, 3).to(dev.name);
    dst.load_state_dict(src.state_dict());
    expect(dst.weight.device).toBe(dev.name);
    expect(Array.from(flat(await dst.weight.cpu()))).toEqual(Array.from(flat(src.weight)));
    expect(Array.from(flat(await dst.bias!.cpu()))).toEqual(Array.from(flat(src.bias!)));
  });

  it(`${label}: mixing devices and unsupported layers fail with clear errors`, () => {
    const conv = new nn.Conv2d(3, 4, 3).to(dev.name);
    expect(() => conv(torch.randn([1, 3, 5, 5]))).toThrow(`Expected all tensors to be on the same device, but found at least two devices, ${dev.name} and cpu!`);
    const bn = new nn.BatchNorm2d(4).to(dev.name);
    expect(() => bn(torch.randn([2, 4, 3, 3]).to(dev.name))).toThrow(/training mode is not implemented on device/);
    expect(() => conv.to('cpu')).toThrow(/moving them back is an asynchronous readback/);
  });
}

describe('device-resident gpu.js webasm', () => {
  residentSuite('webasm', () => openResidentDevice('test-resident-webasm', { mode: 'webasm' }));
});

const env = webgpuEnv();
if (env.skipReason !== null) console.warn(`[resident webgpu] SKIPPED: ${env.skipReason}`);
describe.skipIf(env.skipReason !== null)(env.skipReason === null ? 'device-resident gpu.js webgpu (SwiftShader)' : `device-resident webgpu — SKIPPED: ${env.skipReason}`, () => {
  residentSuite('webgpu', () => openResidentDevice('test-resident-webgpu', { mode: 'webgpu', swiftshader: true }));
});
