/**
 * The gpu.js WebAssembly backend behind the CPU `KernelSet` host-array
 * interface (`types.ts`): synchronous calls, Float32Array in, Float32Array
 * out. Registered as 'gpujs-webasm'; `getKernels('gpujs-webasm')` fills the
 * ops it lacks (training-mode batch norm, sgemm) with the CPU kernels.
 *
 * Only the webasm mode can implement this interface: gpu.js's webgpu kernels
 * return Promises (WebGPU readback is asynchronous), so the WebGPU path is
 * the device API of `device.ts` instead.
 *
 * gpu.js computes indices in float32, so an op with a tensor of 2^24 values
 * or more (AlexNet's and VGG's classifier weights, large activations) runs
 * on the CPU kernels instead of failing.
 *
 * gpu.js's synchronous webasm calls are single-threaded (f32x4 SIMD); its
 * worker pool engages only under the async contract (`GpuDevice` with
 * `threads: true`). Each call copies its arguments into the module's memory
 * and its result out of it.
 */
import type {
  AdaptivePool2dParams, AvgPool2dOptions, BatchNorm2dParams, Conv2dParams, KernelSet, LinearParams, Pool2dParams,
} from '../types.ts';
import { registerKernels } from '../registry.ts';
import { cpuKernels } from '../cpu/index.ts';
import { KernelCache, MAX_ELEMENTS, flatResult } from './cache.ts';
import { foldBatchNorm, plans } from './plans.ts';
import type { Plan } from './plans.ts';
import { loadGpuJs } from './runtime.ts';
import type { GpuJsInstance } from './runtime.ts';

let gpu: GpuJsInstance | null = null;
let cache: KernelCache | null = null;

function kernels(): KernelCache {
  if (cache === null) {
    const { GPU } = loadGpuJs();
    gpu = new GPU({ mode: 'webasm' });
    cache = new KernelCache(gpu, {});
  }
  return cache;
}

/** Releases every compiled webasm kernel (they are cached per op and shape). */
export function clearGpujsWebasmKernels(): void {
  cache?.clear();
  cache = null;
  if (gpu !== null) void gpu.destroy();
  gpu = null;
}

export function gpujsWebasmKernelCount(): number {
  return cache?.size ?? 0;
}

function run(plan: Plan, out: Float32Array, ...args: Float32Array[]): void {
  if (plan.size === 0) return;
  if (out.length < plan.size) throw new RangeError(`gpujs ${plan.op}: output buffer too small (${out.length} < ${plan.size})`);
  const k = kernels().get(plan.op, plan.output, plan.constants);
  out.set(flatResult(k(...args), plan.size));
}

/** gpu.js's argument shapes are fixed per compiled kernel: pass exactly-sized views. */
function view(a: Float32Array, n: number, what: string): Float32Array {
  if (a.length < n) throw new RangeError(`gpujs: ${what} buffer too small (${a.length} < ${n})`);
  return a.length === n ? a : a.subarray(0, n);
}

const zeroCache = new Map<number, Float32Array>();
function zeros(n: number): Float32Array {
  let z = zeroCache.get(n);
  if (z === undefined) {
    z = new Float32Array(n);
    zeroCache.set(n, z);
  }
  return z;
}

function tooBig(...sizes: number[]): boolean {
  return sizes.some((s) => s >= MAX_ELEMENTS);
}

const convSizes = (p: Conv2dParams): number[] => [p.N * p.C * p.H * p.W, p.N * p.OC * p.OH * p.OW, p.OC * (p.C / p.groups) * p.KH * p.KW];
const linearSizes = (p: LinearParams): number[] => [p.N * p.K, p.OUT * p.K, p.N * p.OUT];

export const gpujsWebasmKernels: Partial<KernelSet> = {
  conv2dForward(p, x, w, bias, out) {
    if (tooBig(...convSizes(p))) return cpuKernels.conv2dForward(p, x, w, bias, out);
    const b = bias === null ? zeros(p.OC) : view(bias, p.OC, 'bias');
    run(plans.conv2dForward(p), out, view(x, p.N * p.C * p.H * p.W, 'x'), view(w, p.OC * (p.C / p.groups) * p.KH * p.KW, 'weight'), b);
  },
  conv2dBackwardInput(p, gradOut, w, gradX) {
    if (tooBig(...convSizes(p))) return cpuKernels.conv2dBackwardInput(p, gradOut, w, gradX);
    run(plans.conv2dBackwardInput(p), gradX, view(gradOut, p.N * p.OC * p.OH * p.OW, 'gradOut'),
      view(w, p.OC * (p.C / p.groups) * p.KH * p.KW, 'weight'));
  },
  conv2dBackwardWeight(p, x, gradOut, gradW, gradBias) {
    if (tooBig(...convSizes(p))) return cpuKernels.conv2dBackwardWeight(p, x, gradOut, gradW, gradBias);
    const g = view(gradOut, p.N * p.OC * p.OH * p.OW, 'gradOut');
    if (gradW !== null) run(plans.conv2dBackwardWeight(p), gradW, view(x, p.N * p.C * p.H * p.W, 'x'), g);
    if (gradBias !== null) run(plans.conv2dBackwardBias(p), gradBias, g);
  },

  linearForward(p: LinearParams, x, w, bias, out) {
    if (tooBig(...linearSizes(p))) return cpuKernels.linearForward(p, x, w, bias, out);
    const b = bias === null ? zeros(p.OUT) : view(bias, p.OUT, 'bias');
    run(plans.linearForward(p), out, view(x, p.N * p.K, 'x'), view(w, p.OUT * p.K, 'weight'), b);
  },
  linearBackwardInput(p, gradOut, w, gradX) {
    if (tooBig(...linearSizes(p))) return cpuKernels.linearBackwardInput(p, gradOut, w, gradX);
    run(plans.linearBackwardInput(p), gradX, view(gradOut, p.N * p.OUT, 'gradOut'), view(w, p.OUT * p.K, 'weight'));
  },
  linearBackwardWeight(p, x, gradOut, gradW, gradBias) {
    if (tooBig(...linearSizes(p))) return cpuKernels.linearBackwardWeight(p, x, gradOut, gradW, gradBias);
    const g = view(gradOut, p.N * p.OUT, 'gradOut');
    if (gradW !== null) run(plans.linearBackwardWeight(p), gradW, view(x, p.N * p.K, 'x'), g);
    if (gradBias !== null) run(plans.linearBackwardBias(p), gradBias, g);
  },

  maxPool2dForward(p: Pool2dParams, x, out, argmax) {
    const n = p.N * p.C * p.OH * p.OW;
    const xv = view(x, p.N * p.C * p.H * p.W, 'x');
    run(plans.maxPool2d('maxPool2dForward', p), out, xv);
    const am = new Float32Array(n);
    run(plans.maxPool2d('maxPool2dArgmax', p), am, xv);
    if (argmax.length < n) throw new RangeError('gpujs maxPool2dForward: argmax buffer too small');
    for (let i = 0; i < n; i++) {
      const a = am[i]!;
      argmax[i] = a;
      // an all-padding window: the kernel wrote -FLT_MAX, the contract says -Infinity
      if (a < 0) out[i] = -Infinity;
    }
  },
  maxPool2dBackward(p, gradOut, argmax, gradX) {
    const n = p.N * p.C * p.OH * p.OW;
    const am = new Float32Array(n);
    for (let i = 0; i < n; i++) am[i] = argmax[i]!;
    run(plans.maxPool2dBackward(p), gradX, view(gradOut, n, 'gradOut'), am);
  },
  avgPool2dForward(p, o: AvgPool2dOptions, x, out) {
    run(plans.avgPool2dForward(p, o), out, view(x, p.N * p.C * p.H * p.W, 'x'));
  },
  avgPool2dBackward(p, o, gradOut, gradX) {
    run(plans.avgPool2dBackward(p, o), gradX, view(gradOut, p.N * p.C * p.OH * p.OW, 'gradOut'));
  },
  adaptiveAvgPool2dForward(p: AdaptivePool2dParams, x, out) {
    run(plans.adaptiveAvgPool2dForward(p), out, view(x, p.N * p.C * p.H * p.W, 'x'));
  },
  adaptiveAvgPool2dBackward(p, gradOut, gradX) {
    run(plans.adaptiveAvgPool2dBackward(p), gradX, view(gradOut, p.N * p.C * p.OH * p.OW, 'gradOut'));
  },

  batchNorm2dForwardEval(p: BatchNorm2dParams, x, runningMean, runningVar, weight, bias, out) {
    const { N, C, H, W } = p;
    const f = foldBatchNorm(C, p.eps, runningMean, runningVar, weight, bias);
    run(plans.channelAffine(N, C, H, W), out, view(x, N * C * H * W, 'x'), f.scale, f.shift);
  },
  batchNorm2dBackwardEval(p, gradOut, x, runningMean, runningVar, weight, gradX, gradWeight, gradBias) {
    const { N, C, H, W } = p;
    const f = foldBatchNorm(C, p.eps, runningMean, runningVar, weight, null);
    const size = N * C * H * W;
    const g = view(gradOut, size, 'gradOut');
    if (gradX !== null) run(plans.channelScale(N, C, H, W), gradX, g, f.scale);
    if (gradWeight !== null) run(plans.channelDot(N, C, H, W), gradWeight, g, view(x, size, 'x'), view(runningMean, C, 'mean'), f.invstd);
    if (gradBias !== null) run(plans.channelSum(N, C, H, W), gradBias, g);
  },
};

/** Registers (idempotently) the 'gpujs-webasm' backend. */
export function registerGpujsWebasm(): void {
  registerKernels('gpujs-webasm', gpujsWebasmKernels);
}

registerGpujsWebasm();
