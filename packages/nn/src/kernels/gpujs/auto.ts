/**
 * `auto` backend selection: the fastest backend that really works here.
 *
 * 1. gpu.js webgpu, only on a hardware adapter. A software adapter
 *    (SwiftShader, llvmpipe/lavapipe, WARP, `isFallbackAdapter`) is never
 *    chosen for speed: it is correct but far slower than the CPU kernels.
 * 2. Otherwise the faster of the CPU kernels and gpu.js webasm. By default
 *    the CPU kernels (packed-GEMM convolution) win — measured in
 *    `bench/gpujs/bench.ts` on ResNet-50 layer shapes; `measure: true` times
 *    one mid-size convolution on both here and picks the faster.
 */
import { getKernels } from '../registry.ts';
import { makeConv2dParams } from '../types.ts';
import { formatAdapter, probeWebGPUAdapter } from './runtime.ts';
import type { AdapterDescription } from './runtime.ts';

export type AutoBackend = 'gpujs-webgpu' | 'gpujs-webasm' | 'cpu';

export interface AutoSelection {
  backend: AutoBackend;
  /** The WebGPU adapter that was chosen, or the one that was found and rejected, or null. */
  adapter: AdapterDescription | null;
  /** One line saying why (for `--verbose`). */
  reason: string;
}

export interface AutoOptions {
  /** Probe WebGPU (loads Dawn in Node). Default true. */
  webgpu?: boolean;
  /** Time one convolution on the CPU kernels and on gpu.js webasm and pick the faster. Default false. */
  measure?: boolean;
}

async function timeConv(backend: string): Promise<number> {
  if (backend === 'gpujs-webasm') await import('./host.ts');
  const k = getKernels(backend);
  const p = makeConv2dParams({ N: 1, C: 64, H: 28, W: 28, OC: 64, KH: 3, KW: 3, padTop: 1, padLeft: 1 });
  const x = new Float32Array(p.N * p.C * p.H * p.W).fill(0.5);
  const w = new Float32Array(p.OC * p.C * 9).fill(0.01);
  const out = new Float32Array(p.N * p.OC * p.OH * p.OW);
  k.conv2dForward(p, x, w, null, out); // warm-up (compiles on gpu.js)
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    k.conv2dForward(p, x, w, null, out);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

export async function selectBackend(opts: AutoOptions = {}): Promise<AutoSelection> {
  let rejected: AdapterDescription | null = null;
  let why = '';
  if (opts.webgpu !== false) {
    const probe = await probeWebGPUAdapter();
    if (probe.adapter !== null && !probe.adapter.software) {
      return { backend: 'gpujs-webgpu', adapter: probe.adapter, reason: `hardware WebGPU adapter: ${formatAdapter(probe.adapter)}` };
    }
    if (probe.adapter !== null) {
      rejected = probe.adapter;
      why = `WebGPU adapter ${formatAdapter(probe.adapter)} skipped (never chosen for speed); `;
    } else {
      why = `no WebGPU: ${probe.reason}; `;
    }
  } else {
    why = 'WebGPU not probed; ';
  }
  if (opts.measure === true) {
    try {
      const cpu = await timeConv('cpu');
      const wasm = await timeConv('gpujs-webasm');
      const backend: AutoBackend = wasm < cpu ? 'gpujs-webasm' : 'cpu';
      return {
        backend, adapter: rejected,
        reason: `${why}conv 64x28x28 3x3: cpu ${cpu.toFixed(1)} ms, gpu.js webasm ${wasm.toFixed(1)} ms → ${backend}`,
      };
    } catch (e) {
      return { backend: 'cpu', adapter: rejected, reason: `${why}gpu.js webasm failed (${(e as Error).message}) → cpu` };
    }
  }
  return {
    backend: 'cpu', adapter: rejected,
    reason: `${why}CPU kernels are faster than gpu.js webasm on ResNet-50 convolutions (bench/gpujs) → cpu`,
  };
}
