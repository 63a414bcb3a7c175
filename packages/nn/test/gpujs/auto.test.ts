import { describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD, isSoftwareAdapter } from '../../src/kernels/gpujs/runtime.ts';
import { selectBackend } from '../../src/kernels/gpujs/auto.ts';
import { webgpuEnv } from './_parity.ts';

const base = { vendor: '', architecture: '', device: '', description: '', isFallbackAdapter: false };

describe('gpujs auto backend selection', () => {
  it('classifies software adapters', () => {
    expect(isSoftwareAdapter({ ...base, vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' })).toBe(true);
    expect(isSoftwareAdapter({ ...base, description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ ...base, description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ ...base, vendor: 'nvidia', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ ...base, vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080' })).toBe(false);
    expect(isSoftwareAdapter({ ...base, vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770' })).toBe(false);
  });

  it('never picks a software adapter and says what it chose', async () => {
    // make SwiftShader reachable (this file runs in its own process) so the rule is exercised for real
    if (webgpuEnv().skipReason === null) process.env['VK_ICD_FILENAMES'] ??= SWIFTSHADER_ICD;
    const sel = await selectBackend({ measure: true });
    console.log(`[gpujs auto] ${sel.backend}: ${sel.reason}`);
    expect(['gpujs-webgpu', 'gpujs-webasm', 'cpu']).toContain(sel.backend);
    expect(sel.reason.length).toBeGreaterThan(0);
    if (sel.backend === 'gpujs-webgpu') expect(sel.adapter?.software).toBe(false);
    if (webgpuEnv().skipReason === null && process.env['VK_ICD_FILENAMES']?.includes('swiftshader')) {
      // only SwiftShader is reachable: it must be found and rejected
      expect(sel.backend).not.toBe('gpujs-webgpu');
      expect(sel.adapter?.software).toBe(true);
    }
  });

  it.skipIf(webgpuEnv().skipReason !== null)('times WebGPU against the cpu on an adapter and keeps the faster (SwiftShader standing in for hardware)', async () => {
    process.env['VK_ICD_FILENAMES'] ??= SWIFTSHADER_ICD;
    const sel = await selectBackend({ software_candidate: true });
    console.log(`[gpujs auto, measured] ${sel.backend}: ${sel.reason}`);
    const m = /conv 64x56x56 3x3: WebGPU ([\d.]+) ms \(readback included\), cpu ([\d.]+) ms → (\S+)$/.exec(sel.reason);
    expect(m, sel.reason).not.toBeNull();
    const [gpu, cpu] = [Number(m![1]), Number(m![2])];
    expect(gpu).toBeGreaterThan(0);
    expect(cpu).toBeGreaterThan(0);
    expect(sel.backend).toBe(gpu < cpu ? 'gpujs-webgpu' : 'cpu');
    expect(m![3]).toBe(sel.backend);
    expect(sel.adapter?.software).toBe(true);
  }, 120_000);
});
