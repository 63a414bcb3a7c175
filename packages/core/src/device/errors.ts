import type { Tensor } from '../tensor.ts';
import { formatShape } from '../shape.ts';

/** What an op without a device implementation reports when it meets a device tensor. */
export function deviceAccessError(t: Tensor): Error {
  return new Error(
    `this operation is not implemented for tensors on device '${t.device}' (a tensor of shape ${formatShape(t.shape)}): ` +
      'device tensors support the layers of @gradlens/nn, views (view/reshape/flatten/squeeze/unsqueeze), clone/detach, ' +
      'and same-shape or tensor-scalar add/sub/mul/div/neg/clamp/relu; read the values with `await t.cpu()` to use other ops',
  );
}

/** PyTorch's message for operands on different devices. */
export function mixedDevicesError(a: string, b: string): Error {
  return new Error(`Expected all tensors to be on the same device, but found at least two devices, ${a} and ${b}!`);
}
