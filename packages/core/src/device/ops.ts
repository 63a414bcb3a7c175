/**
 * Device dispatch of core's pointwise ops. Each returns null when no operand is on a device (the
 * caller then runs its CPU loop), or the result as a new device tensor. Only what a backend's
 * primitives cover is accepted: same-shape operands, or a device tensor with a plain number or a
 * 0-d cpu tensor (PyTorch also lets cpu scalars meet cuda tensors). Anything else throws.
 */
import { formatShape, sameShape } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import type { DeviceBackend, DeviceBuffer } from './backend.ts';
import { mixedDevicesError } from './errors.ts';
import { DeviceStorage } from './storage.ts';

/** A new device tensor over a buffer the backend just created. */
export function deviceTensor(backend: DeviceBackend, buffer: DeviceBuffer, shape: readonly number[]): Tensor {
  return Tensor._onDevice(DeviceStorage.of(backend, buffer), shape);
}

/** True when the tensor holds one value on the cpu and no dims: usable as a scalar with device tensors. */
function isCpuScalar(t: Tensor): boolean {
  return t._dev === null && t.dim() === 0;
}

function scalarValue(t: Tensor): number {
  return t.item();
}

function floatOnly(t: Tensor, op: string): void {
  if (t.dtype !== 'float32') throw new Error(`${op}: device tensors are float32, got ${t.dtype}`);
}

/**
 * The backend the operands live on (null when all are on the cpu); throws for mixed devices. With
 * `cpuScalars`, 0-d cpu tensors may join device tensors (as PyTorch lets cpu scalars meet cuda ones).
 */
export function commonDevice(ts: readonly (Tensor | null | undefined)[], cpuScalars = true): DeviceBackend | null {
  let found: Tensor | null = null;
  for (const t of ts) {
    if (!t || t._dev === null) continue;
    if (found !== null && found._dev!.backend !== t._dev.backend) throw mixedDevicesError(found.device, t.device);
    found ??= t;
  }
  if (found === null) return null;
  for (const t of ts) if (t && t._dev === null && !(cpuScalars && isCpuScalar(t))) throw mixedDevicesError(found.device, 'cpu');
  return found._dev!.backend;
}

/** x + alpha·y, x − alpha·y, x·y or x / y on a device. */
export function deviceArith(op: 'add' | 'sub' | 'mul' | 'div', x: Tensor, y: Tensor, alpha = 1): Tensor | null {
  const be = commonDevice([x, y]);
  if (be === null) return null;
  if (x._dev !== null && y._dev !== null) {
    if (!sameShape(x.shape, y.shape)) {
      throw new Error(`${op}: broadcasting ${formatShape(x.shape)} with ${formatShape(y.shape)} is not implemented on device '${x.device}' (same shapes or a scalar only)`);
    }
    floatOnly(x, op);
    floatOnly(y, op);
    const yb = alpha === 1 ? y._dev.buffer : be.scalar('mul', y._dev.buffer, alpha);
    return deviceTensor(be, be.binary(op, x._dev.buffer, yb), x.shape);
  }
  if (x._dev !== null) {
    floatOnly(x, op);
    const s = scalarValue(y);
    const buf = x._dev.buffer;
    const out =
      op === 'add' ? be.scalar('add', buf, alpha * s)
      : op === 'sub' ? be.scalar('add', buf, -alpha * s)
      : op === 'mul' ? be.scalar('mul', buf, s)
      : be.scalar('div', buf, s);
    return deviceTensor(be, out, x.shape);
  }
  // a scalar (x) with a device tensor (y)
  floatOnly(y, op);
  const s = scalarValue(x);
  const buf = y._dev!.buffer;
  const out =
    op === 'add' ? be.scalar('add', alpha === 1 ? buf : be.scalar('mul', buf, alpha), s)
    : op === 'sub' ? be.scalar('rsub', alpha === 1 ? buf : be.scalar('mul', buf, alpha), s)
    : op === 'mul' ? be.scalar('mul', buf, s)
    : be.scalar('rdiv', buf, s);
  return deviceTensor(be, out, y.shape);
}

/** −x, relu(x) or clamp(x) on a device. */
export function deviceUnary(x: Tensor, op: 'neg' | 'relu' | { lo: number | null; hi: number | null }): Tensor | null {
  const d = x._dev;
  if (d === null) return null;
  floatOnly(x, typeof op === 'string' ? op : 'clamp');
  const be = d.backend;
  const out = op === 'neg' ? be.neg(d.buffer) : op === 'relu' ? be.relu(d.buffer) : be.clamp(d.buffer, op.lo, op.hi);
  return deviceTensor(be, out, x.shape);
}

/** The clamp/relu backward mask on a device (see `DeviceBackend.mask`). */
export function deviceMask(g: Tensor, x: Tensor, lo: number, hi: number, inclusive: boolean): Tensor | null {
  const be = commonDevice([g, x]);
  if (be === null) return null;
  if (g._dev === null || x._dev === null || !sameShape(g.shape, x.shape)) {
    throw new Error(`masked gradient: expected two tensors of one shape on device '${be.name}', got ${g.device} ${formatShape(g.shape)} and ${x.device} ${formatShape(x.shape)}`);
  }
  return deviceTensor(be, be.mask(x._dev.buffer, g._dev.buffer, lo, hi, inclusive), g.shape);
}

/** A copy of a device tensor's values (no history). */
export function deviceCopy(x: Tensor): Tensor {
  const d = x._dev!;
  return deviceTensor(d.backend, d.backend.copy(d.buffer), x.shape);
}

/** A device tensor of `value` on `backend`. */
export function deviceFull(backend: DeviceBackend, shape: readonly number[], value: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return deviceTensor(backend, backend.fill(n, value), shape);
}
