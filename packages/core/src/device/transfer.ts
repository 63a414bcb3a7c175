import type { DType } from '../dtype.ts';
import { recordOp } from '../autograd/op_node.ts';
import { Tensor } from '../tensor.ts';
import { available_devices, get_device } from './backend.ts';
import { DeviceStorage } from './storage.ts';

const DTYPES: readonly string[] = ['float32', 'float64', 'int64', 'bool'];

/** True for a dtype name (`to()` takes a dtype or a device). */
export function isDType(x: string): x is DType {
  return DTYPES.includes(x);
}

/**
 * `tensor.to(device)`: a copy on `device` (the tensor itself when already there). Synchronous:
 * the upload is enqueued. Device → cpu is not (`await t.cpu()`), nor is device → device.
 * Recorded for autograd, but the gradient cannot flow back from the device to the cpu (that needs
 * a readback), so backward through it raises: make leaves on the device instead.
 */
export function toDevice(x: Tensor, device: string): Tensor {
  if (device === x.device) return x;
  if (device === 'cpu') {
    throw new Error(`to('cpu'): reading a tensor back from '${x.device}' is asynchronous: use \`await t.cpu()\``);
  }
  const backend = get_device(device);
  if (backend === null) {
    throw new Error(
      `to('${device}'): unknown device (available: ${available_devices().join(', ')}); a device is registered by the package that owns it, ` +
        "e.g. `await nn.resolve_device('gpujs-webgpu')`",
    );
  }
  if (x._dev !== null) throw new Error(`to('${device}'): moving from '${x.device}' to another device is not supported; go through \`await t.cpu()\``);
  if (x.dtype !== 'float32') throw new Error(`to('${device}'): device tensors are float32, got ${x.dtype} (convert with .float() first)`);
  const out = Tensor._onDevice(DeviceStorage.upload(backend, x._contiguousData() as Float32Array), x.shape);
  return recordOp('ToCopyBackward0', [x], [out], [], () => {
    throw new Error(
      `backward reached .to('${device}') of a cpu tensor that requires grad: copying the gradient back to the cpu needs an ` +
        `asynchronous readback, which backward cannot do. Create the leaf on the device instead: \`x = x.detach().to('${device}').requires_grad_()\``,
    );
  });
}
