/**
 * gradlens nn: PyTorch-style modules, layers, losses and optimizers with PyTorch's hook semantics.
 * Import as `import * as nn from '@gradlens/nn'` and `import { functional as F } from '@gradlens/nn'`.
 * @packageDocumentation
 */
export { Module, type AnyModule, type StateDict, type IncompatibleKeys, type ModuleArgs, type ModuleOutput } from './module.ts';
export { Parameter } from './parameter.ts';
export { resolve_device, select_device, type Device, type DeviceSelection } from './functional/_device.ts';
export { Sequential, ModuleList, ModuleDict } from './containers.ts';
export { Conv2d, type Conv2dOptions } from './layers/conv.ts';
export { Linear } from './layers/linear.ts';
export { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax } from './layers/activation.ts';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './layers/pooling.ts';
export { BatchNorm2d, type BatchNormOptions } from './layers/batchnorm.ts';
export { Dropout } from './layers/dropout.ts';
export { Flatten, Identity } from './layers/flatten.ts';
export { ZeroPad2d } from './layers/padding.ts';
export { CrossEntropyLoss, NLLLoss, MSELoss, type WeightedLossOptions } from './losses.ts';
export type { Grads, ForwardHookOptions, BackwardHookOptions, Kwargs } from './hooks/types.ts';
export * as functional from './functional/index.ts';
export * as init from './init.ts';
export * as optim from './optim/index.ts';
export * as modules from './modules.ts';
export {
  register_module_forward_pre_hook, register_module_forward_hook, register_module_backward_hook,
  register_module_full_backward_hook, register_module_full_backward_pre_hook,
} from './hooks/global.ts';
export * as kernels from './kernels/index.ts';
export * as models from './models/index.ts';
export { load_safetensors, save_safetensors, decode_safetensors, encode_safetensors, SafetensorsError } from './io/safetensors.ts';
