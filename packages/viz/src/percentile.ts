import type { FloatKind } from './util/arrays.ts';
import { rounderFor } from './util/arrays.ts';

/**
 * `np.percentile(values, q)` with numpy's default "linear" method, including
 * numpy's lerp formula (interpolating from the upper neighbour when the
 * fraction is at least 0.5) and, for float32 data, the float32 difference of
 * the neighbours. The result is a float64, as numpy returns it. NaN-free input.
 */
export function percentile(values: ArrayLike<number>, q: number, kind: FloatKind = 'float64'): number {
  const n = values.length;
  if (n === 0) throw new Error('percentile of an empty array');
  const sorted = Float64Array.from(values).sort();
  const vi = (n - 1) * (q / 100);
  let prev = Math.floor(vi);
  let next = prev + 1;
  if (vi >= n - 1) prev = next = n - 1;
  if (vi < 0) prev = next = 0;
  const t = vi - prev;
  const a = sorted[prev]!;
  const b = sorted[next]!;
  const diff = rounderFor(kind)(b - a);
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
