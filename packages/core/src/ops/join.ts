import { allocStorage, promoteTypes } from '../dtype.ts';
import { recordOp } from '../autograd/op_node.ts';
import { formatShape, normalizeDim, numelOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { narrow, unsqueeze } from './view.ts';

/** Concatenates along an existing dim. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('torch.cat(): expected a non-empty list of Tensors');
  const first = tensors[0]!;
  const d = normalizeDim(dim, first.dim());
  const dtype = tensors.map((t) => t.dtype).reduce(promoteTypes);
  tensors.forEach((t, i) => {
    if (t.dim() !== first.dim() || t.shape.some((s, k) => k !== d && s !== first.shape[k])) {
      throw new Error(`torch.cat(): Sizes of tensors must match except in dimension ${d}. Expected ${formatShape(first.shape)} but got ${formatShape(t.shape)} for tensor number ${i} in the list.`);
    }
  });
  const sizes = tensors.map((t) => t.shape[d]!);
  const shape = first.shape;
  shape[d] = sizes.reduce((a, b) => a + b, 0);
  const outer = numelOf(shape.slice(0, d));
  const inner = numelOf(shape.slice(d + 1));
  const out = allocStorage(dtype, numelOf(shape));
  let at = 0;
  tensors.forEach((t, i) => {
    const src = t._contiguousData();
    const chunk = sizes[i]! * inner;
    for (let o = 0; o < outer; o++) out.set(src.subarray(o * chunk, (o + 1) * chunk), o * shape[d]! * inner + at);
    at += chunk;
  });
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  return recordOp('CatBackward0', tensors, [Tensor._make(out, shape, dtype)], [], ([g], _s, needs) =>
    sizes.map((s, i) => (needs[i] ? narrow(g!, d, starts[i]!, s) : null)),
  );
}

/** Stacks equally shaped tensors along a new dim. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack expects a non-empty TensorList');
  const d = normalizeDim(dim, tensors[0]!.dim() + 1);
  tensors.forEach((t, i) => {
    if (formatShape(t.shape) !== formatShape(tensors[0]!.shape)) {
      throw new Error(`stack expects each tensor to be equal size, but got ${formatShape(tensors[0]!.shape)} at entry 0 and ${formatShape(t.shape)} at entry ${i}`);
    }
  });
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}
