/**
 * gradlens core: tensors on scijs ndarray storage with define-by-run autograd and PyTorch's hooks.
 * Import as `import * as torch from '@gradlens/core'`.
 * @packageDocumentation
 */
import './tensor_methods.ts';
import './autograd/accumulate_grad.ts';

export { Tensor, type TensorOptions, type BackwardOptions, type NestedArray, type VersionCounter, type PostAccumulateGradHook } from './tensor.ts';
export { type DType, type Storage, float32, float64, float, double, int64, long, bool } from './dtype.ts';
export { no_grad, enable_grad, set_grad_enabled, is_grad_enabled } from './grad_mode.ts';
export { manual_seed } from './random.ts';
export { RemovableHandle } from './autograd/removable_handle.ts';
export * as autograd from './autograd/index.ts';
export {
  tensor, from_numpy, zeros, ones, empty, full, rand, randn, arange, linspace, eye,
  zeros_like, ones_like, full_like, rand_like, randn_like, FloatTensor, DoubleTensor, LongTensor,
  type TensorData, type TensorCreateOptions, type SizeArgs,
} from './ops/creation.ts';
export {
  add, sub, mul, div, neg, pow, exp, log, sqrt, abs, sign, clamp, clip, relu, sigmoid, tanh, maximum, minimum, where,
  gt, lt, ge, le, eq, ne, logical_and, logical_or, logical_not, isnan, threshold_backward,
  type AlphaOptions, type ClampOptions,
} from './ops/pointwise.ts';
export { sum, mean, amax, amin, max, min, argmax, argmin, type ReduceOptions, type ValuesIndices } from './ops/reduction.ts';
export { matmul, mm, bmm } from './ops/linalg.ts';
export { view, reshape, flatten, permute, transpose, t, squeeze, unsqueeze, expand, expand_as, narrow, slice, select, contiguous, clone } from './ops/view.ts';
export { index, slice_, type IndexItem, type Slice } from './ops/getitem.ts';
export { cat, stack } from './ops/join.ts';
export { gather, scatter_add, index_select, index_add, one_hot } from './ops/indexing.ts';
export { softmax, log_softmax } from './ops/activation.ts';
export { zero_, fill_, add_, sub_, mul_, div_, clamp_, relu_, copy_, setitem, uniform_, normal_ } from './ops/inplace.ts';
export type { TensorLike } from './ops/elementwise.ts';
export { warnOnce, _resetWarnings } from './warn.ts';
export {
  register_device, unregister_device, get_device, available_devices,
  type DeviceBackend, type DeviceBuffer, type DeviceBinaryOp, type DeviceScalarOp,
} from './device/backend.ts';
export { DeviceStorage } from './device/storage.ts';
export { deviceTensor as _device_tensor, commonDevice as _common_device } from './device/ops.ts';
