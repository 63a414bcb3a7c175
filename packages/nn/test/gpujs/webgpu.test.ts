/**
 * gpu.js WebGPU backend (Dawn from webgpu@0.6.2; here the SwiftShader
 * software adapter) vs the CPU kernels: random layers and a small whole
 * network, everything on device handles with one async readback at the end.
 *
 * Skips (visibly) only when the Vulkan ICD is missing; with it present the
 * tests run and a missing adapter fails them. CI: set GRADLENS_REQUIRE_WEBGPU=1
 * to fail instead of skipping.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GpuDevice } from '../../src/kernels/gpujs/device.ts';
import { cpuNet, createWebGPUDevice, deviceLayerParity, deviceNet, expectClose, reportWorst, rnd, webgpuEnv } from './_parity.ts';

const env = webgpuEnv();
if (env.skipReason !== null) console.warn(`[gpujs webgpu] SKIPPED: ${env.skipReason}`);
const title = env.skipReason === null ? 'GpuDevice webgpu (SwiftShader)' : `GpuDevice webgpu — SKIPPED: ${env.skipReason}`;

describe.skipIf(env.skipReason !== null)(title, () => {
  let d: GpuDevice;
  afterAll(() => {
    d?.destroy();
    reportWorst('webgpu');
  });

  it('gets an adapter and runs a kernel', async () => {
    d = await createWebGPUDevice();
    expect(d.mode).toBe('webgpu');
    expect(d.adapter).not.toBeNull();
    console.log(`[gpujs webgpu] adapter: ${JSON.stringify(d.adapter)}`);
    const x = rnd(10);
    const t = d.upload(x, [10]);
    const y = d.relu(t); // synchronous: returns a handle
    expect(y.shape).toEqual([10]);
    expect([...(await y.data())]).toEqual([...x].map((v) => (v > 0 ? v : 0)));
  });

  it('random layers match the CPU kernels', async () => {
    d ??= await createWebGPUDevice();
    await deviceLayerParity(d, 'webgpu', 10);
  });

  it('a small whole network, forward + guided backward on the device, matches the CPU', async () => {
    d ??= await createWebGPUDevice();
    const ref = cpuNet();
    const got = await deviceNet(d);
    for (const k of Object.keys(ref) as (keyof typeof ref)[]) expectClose(`webgpu network ${k}`, got[k], ref[k]);
  });

  it('surfaces op errors at read() and rejects use after dispose', async () => {
    d ??= await createWebGPUDevice();
    const t = d.upload(rnd(4), [4]);
    t.dispose();
    expect(() => d.relu(t)).toThrow(/disposed/);
    await expect(d.flush()).resolves.toBeUndefined();
  });
});
