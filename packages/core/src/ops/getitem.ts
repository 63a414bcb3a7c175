import { Tensor } from '../tensor.ts';
import { select, slice, unsqueeze } from './view.ts';

/** Python's `start:stop:step`; build with `slice_()` or write `{ start, stop, step }`. */
export interface Slice {
  /** First index (default 0; negative counts from the end). */
  start?: number | null;
  /** End index, exclusive (default the dim's size). */
  stop?: number | null;
  /** Positive stride (default 1). */
  step?: number;
}

/**
 * One subscript of `x.index(...)`: a number (selects, dropping the dim), a `Slice`, `':'` (whole dim),
 * `null` (newaxis), or `'...'` (ellipsis).
 */
export type IndexItem = number | Slice | ':' | '...' | null;

/** Python's `slice(start, stop, step)` for use in `x.index(...)`. */
export function slice_(start: number | null = null, stop: number | null = null, step = 1): Slice {
  return { start, stop, step };
}

/** Basic indexing as `x[items]` in Python: always a view. */
export function index(x: Tensor, ...items: IndexItem[]): Tensor {
  const consumed = items.filter((it) => it !== null && it !== '...').length;
  if (consumed > x.dim()) throw new RangeError(`too many indices for tensor of dimension ${x.dim()}`);
  const ellipsisAt = items.indexOf('...');
  if (ellipsisAt !== items.lastIndexOf('...')) throw new Error('an index can only have a single ellipsis');
  const expanded: IndexItem[] =
    ellipsisAt < 0
      ? items
      : [...items.slice(0, ellipsisAt), ...new Array<IndexItem>(x.dim() - consumed).fill(':'), ...items.slice(ellipsisAt + 1)];
  let out = x;
  let dim = 0;
  for (const it of expanded) {
    if (it === null) {
      out = unsqueeze(out, dim);
      dim++;
    } else if (typeof it === 'number') {
      out = select(out, dim, it);
    } else if (it === ':') {
      dim++;
    } else if (typeof it === 'object') {
      out = slice(out, dim, it.start ?? null, it.stop ?? null, it.step ?? 1);
      dim++;
    }
  }
  return out;
}
