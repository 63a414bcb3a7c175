/** The CPU backend's kernel set (pure TypeScript, optional WebAssembly SIMD GEMM). */
import type { KernelSet } from '../types.ts';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from './conv2d.ts';
import { linearBackwardInput, linearBackwardWeight, linearForward } from './linear.ts';
import {
  adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward, avgPool2dBackward, avgPool2dForward,
  maxPool2dBackward, maxPool2dForward,
} from './pool.ts';
import {
  batchNorm2dBackwardEval, batchNorm2dBackwardTrain, batchNorm2dForwardEval, batchNorm2dForwardTrain,
} from './batchnorm.ts';
import { sgemm } from './gemm.ts';

export const cpuKernels: KernelSet = {
  sgemm,
  conv2dForward,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  linearForward,
  linearBackwardInput,
  linearBackwardWeight,
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,
  adaptiveAvgPool2dForward,
  adaptiveAvgPool2dBackward,
  batchNorm2dForwardTrain,
  batchNorm2dForwardEval,
  batchNorm2dBackwardTrain,
  batchNorm2dBackwardEval,
};

export { sgemm, sgemmJs, setSgemmBackend, sgemmBackend, availableSgemmBackends } from './gemm.ts';
export type { SgemmBackend } from './gemm.ts';
export { im2col, col2imAdd } from './conv2d.ts';
export { setConvThreads, convThreads, setConvEngine, convEngineEnabled, convEngineReady, convEngineWarm } from './conv_engine.ts';
