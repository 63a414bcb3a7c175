/** `nn.functional` (import as `import { functional as F } from '@gradlens/nn'`). */
export { conv2d, Conv2dFunction, resolveConvPadding, type Conv2dPadding, type Conv2dFnOptions } from './conv.ts';
export { linear, AddmmFunction, MmFunction, TFunction } from './linear.ts';
export {
  max_pool2d, max_pool2d_with_indices, avg_pool2d, adaptive_avg_pool2d,
  MaxPool2dFunction, AvgPool2dFunction, AdaptiveAvgPool2dFunction, type MaxPool2dFnOptions, type AvgPool2dFnOptions,
} from './pooling.ts';
export { batch_norm, BatchNormFunction, type BatchNormFnOptions } from './batchnorm.ts';
export { relu, relu_, leaky_relu, sigmoid, tanh, softmax, log_softmax, LeakyReluFunction } from './activation.ts';
export { dropout } from './dropout.ts';
export { pad, ConstantPad2dFunction } from './padding.ts';
export { nll_loss, cross_entropy, mse_loss, NllLossFunction, MseLossFunction, type Reduction, type NllOptions } from './loss.ts';
export { set_backend, get_backend } from './_util.ts';
