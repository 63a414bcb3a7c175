import { allocStorage, promoteTypes, type Storage } from '../dtype.ts';
import { recordOp } from '../autograd/op_node.ts';
import { broadcastShapes, formatShape, numelOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { broadcastData } from './elementwise.ts';
import { sumToShape } from './reduce_to_shape.ts';
import { squeeze, transpose, unsqueeze } from './view.ts';

/** C[M,N] += A[M,K]·B[K,N] on contiguous row-major blocks (i-k-j order keeps B and C rows hot). */
function mmKernel(a: Storage, aOff: number, b: Storage, bOff: number, c: Storage, cOff: number, m: number, k: number, n: number): void {
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * n;
    for (let p = 0; p < k; p++) {
      const av = a[aOff + i * k + p]!;
      if (av === 0) continue;
      const bp = bOff + p * n;
      for (let j = 0; j < n; j++) c[ci + j]! += av * b[bp + j]!;
    }
  }
}

/** Batched product of [..., M, K] and [..., K, N] with broadcast batch dims. */
function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) {
    throw new Error(`mat1 and mat2 shapes cannot be multiplied (${m}x${k} and ${k2}x${n})`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const dtype = promoteTypes(a.dtype, b.dtype);
  const ad = broadcastData(a, [...batch, m, k]);
  const bd = broadcastData(b, [...batch, k, n]);
  const nb = numelOf(batch);
  const out = allocStorage(dtype, nb * m * n);
  for (let i = 0; i < nb; i++) mmKernel(ad, i * m * k, bd, i * k * n, out, i * m * n, m, k, n);
  const res = Tensor._make(out, [...batch, m, n], dtype);
  const name = a.dim() === 2 && b.dim() === 2 ? 'MmBackward0' : 'BmmBackward0';
  return recordOp(name, [a, b], [res], [a, b], ([g], [sa, sb], needs) => [
    needs[0] ? sumToShape(matmul(g!, transpose(sb!, -1, -2)), sa!.shape) : null,
    needs[1] ? sumToShape(matmul(transpose(sa!, -1, -2), g!), sb!.shape) : null,
  ]);
}

/** Matrix product with PyTorch's rules for 1-D operands and batch broadcasting. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.dim() === 0 || b.dim() === 0) {
    throw new Error(`both arguments to matmul need to be at least 1D, but they are ${a.dim()}D and ${b.dim()}D`);
  }
  if (a.dim() === 1 && b.dim() === 1) {
    if (a.shape[0] !== b.shape[0]) throw new Error(`inconsistent tensor size, expected tensor [${a.shape[0]}] and src [${b.shape[0]}] to have the same number of elements`);
    return squeeze(squeeze(batchedMatmul(unsqueeze(a, 0), unsqueeze(b, 1)), -1), -1);
  }
  if (a.dim() === 1) return squeeze(batchedMatmul(unsqueeze(a, 0), b), -2);
  if (b.dim() === 1) return squeeze(batchedMatmul(a, unsqueeze(b, 1)), -1);
  return batchedMatmul(a, b);
}

/** 2-D matrix product. */
export function mm(a: Tensor, b: Tensor): Tensor {
  if (a.dim() !== 2 || b.dim() !== 2) throw new Error(`mm: expected 2-D tensors, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  return batchedMatmul(a, b);
}

/** Batched 3-D matrix product. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.dim() !== 3 || b.dim() !== 3) throw new Error(`bmm: expected 3-D tensors, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  return batchedMatmul(a, b);
}
