/** Public entry of the kernel layer. */
export * from './types.ts';
export { Workspace, cpuWorkspace } from './workspace.ts';
export { registerKernels, unregisterKernels, getKernels, hasKernel, registeredBackends } from './registry.ts';
export { cpuKernels, sgemm, sgemmJs, setSgemmBackend, sgemmBackend, availableSgemmBackends, im2col, col2imAdd } from './cpu/index.ts';
export {
  setConvThreads, convThreads, setConvEngine, convEngineEnabled, convEngineReady, convEngineWarm,
} from './cpu/index.ts';
export type { SgemmBackend } from './cpu/index.ts';
