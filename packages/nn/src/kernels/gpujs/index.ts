/**
 * gpu.js kernel backend.
 *
 * - `GpuDevice` (device.ts): device-resident ops on `DeviceTensor` handles,
 *   webgpu or webasm; ops are synchronous, `read()` is async.
 * - 'gpujs-webasm' (host.ts): the synchronous `KernelSet` host-array backend,
 *   registered on import.
 * - `selectBackend()` (auto.ts): picks the fastest working backend and says why.
 */
export { GpuDevice, DeviceTensor } from './device.ts';
export type { GpuMode, GpuDeviceOptions, MaxPoolResult, BatchNormStats } from './device.ts';
export { gpujsWebasmKernels, registerGpujsWebasm, clearGpujsWebasmKernels, gpujsWebasmKernelCount } from './host.ts';
export { selectBackend } from './auto.ts';
export type { AutoBackend, AutoSelection, AutoOptions } from './auto.ts';
export {
  installNodeWebGPU, probeWebGPUAdapter, describeAdapter, formatAdapter, isSoftwareAdapter, loadGpuJs, SWIFTSHADER_ICD,
} from './runtime.ts';
export type { AdapterDescription, AdapterProbe, InstallOptions, InstallResult } from './runtime.ts';
export { MAX_ELEMENTS } from './cache.ts';
