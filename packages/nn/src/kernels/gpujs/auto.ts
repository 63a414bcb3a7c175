/**
 * `auto` backend selection: the fastest backend that really works here.
 *
 * 1. gpu.js webgpu, only on a hardware adapter, and only if it is faster:
 *    one ResNet-sized convolution (64×56×56, 3×3, with its readback) is timed
 *    on the adapter and on the CPU kernels, and the faster wins. A software
 *    adapter (SwiftShader, llvmpipe/lavapipe, WARP, `isFallbackAdapter`) is
 *    never a candidate: it is correct but far slower than the CPU kernels.
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
  /**
   * Tests only: let a software adapter compete in the WebGPU-vs-CPU timing, so the measuring path
   * runs where no hardware adapter exists. Never set it to choose a device for speed.
   */
  software_candidate?: boolean;
}

/** The convolution `auto` times (a ResNet-50 layer1 conv). */
const PROBE_CONV = makeConv2dParams({ N: 1, C: 64, H: 56, W: 56, OC: 64, KH: 3, KW: 3, padTop: 1, padLeft: 1 });

/** Best of 3 of the probe conv on the WebGPU adapter, readback included, in ms (after one compiling run). */
async function timeWebGPUProbe(): Promise<number> {
  const { GpuDevice } = await import('./device.ts');
  const d = await GpuDevice.create({ mode: 'webgpu' });
  try {
    const p = PROBE_CONV;
    const x = d.upload(new Float32Array(p.N * p.C * p.H * p.W).fill(0.5), [p.N, p.C, p.H, p.W]);
    const w = d.upload(new Float32Array(p.OC * p.C * 9).fill(0.01), [p.OC, p.C, 3, 3]);
    const run = async (): Promise<void> => {
      const y = d.conv2d(p, x, w, null);
      await d.read(y);
      y.dispose();
    };
    await run();
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await run();
      best = Math.min(best, performance.now() - t);
    }
    return best;
  } finally {
    d.destroy();
  }
}

/** Best of 3 of one convolution (64×28×28 3×3 unless given) on a host kernel backend, in ms, after a warm-up. */
async function timeConv(backend: string, p = makeConv2dParams({ N: 1, C: 64, H: 28, W: 28, OC: 64, KH: 3, KW: 3, padTop: 1, padLeft: 1 })): Promise<number> {
  if (backend === 'gpujs-webasm') await import('./host.ts');
  const k = getKernels(backend);
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
    if (probe.adapter !== null && (!probe.adapter.software || opts.software_candidate === true)) {
      const name = formatAdapter(probe.adapter);
      try {
        const gpu = await timeWebGPUProbe();
        const cpu = await timeConv('cpu', PROBE_CONV);
        const timing = `conv 64x56x56 3x3: WebGPU ${gpu.toFixed(1)} ms (readback included), cpu ${cpu.toFixed(1)} ms`;
        if (gpu < cpu) return { backend: 'gpujs-webgpu', adapter: probe.adapter, reason: `WebGPU adapter ${name}; ${timing} → gpujs-webgpu` };
        return { backend: 'cpu', adapter: probe.adapter, reason: `WebGPU adapter ${name}; ${timing} → cpu` };
      } catch (e) {
        why = `WebGPU adapter ${name} failed a test convolution (${(e as Error).message}); `;
      }
      rejected = probe.adapter;
    } else if (probe.adapter !== null) {
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
