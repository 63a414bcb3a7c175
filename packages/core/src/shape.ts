/** Shape arithmetic shared by every op: broadcasting, strides, dim normalisation. */

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** PyTorch/numpy broadcasting of two shapes; throws PyTorch's kind of message on mismatch. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Wraps a possibly negative dim into [0, ndim); `ndim` may be 0 for scalars (then dim must be 0 or -1). */
export function normalizeDim(dim: number, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new RangeError(`Dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + n : dim;
}

export function normalizeDims(dims: number | readonly number[] | undefined | null, ndim: number): number[] {
  if (dims === undefined || dims === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : [...dims];
  const seen = new Set<number>();
  return list.map((d) => {
    const nd = normalizeDim(d, ndim);
    if (seen.has(nd)) throw new Error(`dim ${nd} appears multiple times in the list of dims`);
    seen.add(nd);
    return nd;
  });
}

/** Strides that read `shape` (right-aligned to `target`) as if broadcast: 0 along expanded dims. */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] {
  const out = new Array<number>(target.length).fill(0);
  const off = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[off + i] = shape[i] === 1 && target[off + i] !== 1 ? 0 : strides[i]!;
  return out;
}

/** Resolves a single -1 in a requested shape (view/reshape). */
export function inferShape(shape: readonly number[], numel: number): number[] {
  let infer = -1;
  let known = 1;
  shape.forEach((s, i) => {
    if (s === -1) {
      if (infer >= 0) throw new Error('only one dimension can be inferred');
      infer = i;
    } else if (!Number.isInteger(s) || s < 0) {
      throw new Error(`invalid shape dimension ${s}`);
    } else known *= s;
  });
  const out = [...shape];
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) throw new Error(`shape '${formatShape(shape)}' is invalid for input of size ${numel}`);
    out[infer] = numel / known;
  } else if (known !== numel) {
    throw new Error(`shape '${formatShape(shape)}' is invalid for input of size ${numel}`);
  }
  return out;
}
