/** Shared fast-check arbitraries and comparison helpers for core's tests. */
import fc from 'fast-check';
import * as torch from '../src/index.ts';

export type Shape = number[];

/** A small shape: 0-3 dims of size 1-3. */
export const shapeArb = (minDims = 0, maxDims = 3, maxSize = 3): fc.Arbitrary<Shape> =>
  fc.array(fc.integer({ min: 1, max: maxSize }), { minLength: minDims, maxLength: maxDims });

/**
 * Two shapes that broadcast together: both derived from one base shape by dropping leading dims
 * and setting some dims to 1 (the numpy rule's two escape hatches).
 */
export const broadcastPairArb = (maxDims = 3): fc.Arbitrary<[Shape, Shape]> =>
  shapeArb(0, maxDims).chain((base) => {
    const derived = fc
      .tuple(
        fc.integer({ min: 0, max: base.length }),
        fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      )
      .map(([drop, ones]) => base.map((s, i) => (ones[i] ? 1 : s)).slice(drop));
    return fc.tuple(derived, derived);
  });

export const numel = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** `n` doubles in [lo, hi]. */
export const valuesArb = (n: number, lo = -2, hi = 2): fc.Arbitrary<number[]> =>
  fc.array(fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });

/** `n` values on the grid k·step + offset with |k| ≤ 20: with offset step/2 none is 0 or a multiple of step. */
export const gridArb = (n: number, step = 0.1, offset = 0.05): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: -20, max: 20 }), { minLength: n, maxLength: n }).map((ks) => ks.map((k) => k * step + offset));

/** `n` pairwise distinct values (spacing ≥ 0.05), so max/amax/argmax have no ties. */
export const distinctArb = (n: number): fc.Arbitrary<number[]> =>
  fc.uniqueArray(fc.integer({ min: -40, max: 40 }), { minLength: n, maxLength: n }).map((ks) => ks.map((k) => k * 0.05));

/** A float64 leaf that requires grad. */
export function leaf64(values: number[], shape: Shape): torch.Tensor {
  return torch.tensor(Float64Array.from(values), { shape, dtype: 'float64', requires_grad: true });
}

/** A float64 constant. */
export function const64(values: number[], shape: Shape): torch.Tensor {
  return torch.tensor(Float64Array.from(values), { shape, dtype: 'float64' });
}

/** A shape plus values for a float64 leaf of that shape. */
export const leafArb = (shape: fc.Arbitrary<Shape>, values: (n: number) => fc.Arbitrary<number[]> = (n) => valuesArb(n)) =>
  shape.chain((s) => values(numel(s)).map((v) => ({ shape: s, values: v })));

/** Flat values of a tensor in C order, as a plain array (bit-exact comparisons with toEqual). */
export function flat(t: torch.Tensor | null): number[] | null {
  if (t === null) return null;
  const out = t.detach().reshape(-1).tolist();
  return typeof out === 'number' ? [out] : (out as number[]);
}

/** Max |a-b| relative to the largest magnitude in `expected` (1 when expected is all zeros). */
export function relErr(actual: number[], expected: number[]): number {
  if (actual.length !== expected.length) return Infinity;
  const scale = Math.max(1e-30, ...expected.map(Math.abs));
  let err = 0;
  for (let i = 0; i < actual.length; i++) err = Math.max(err, Math.abs(actual[i]! - expected[i]!));
  return err / scale;
}

/** Nested arrays to flat numbers. */
export function flatten(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flatten) : [x as number];
}

/**
 * PyTorch's gradgradcheck: gradcheck of the vector-Jacobian product `v ↦ grad(fn(x), x, v)` in both
 * x and v, i.e. of the second derivatives that `create_graph: true` records.
 */
export function gradgradcheck(fn: (...xs: torch.Tensor[]) => torch.Tensor, inputs: torch.Tensor[], v: torch.Tensor): boolean {
  const n = inputs.length;
  const vjp = (...args: torch.Tensor[]): torch.Tensor[] =>
    torch.enable_grad(() => {
      const xs = args.slice(0, n);
      const out = fn(...xs);
      const gs = torch.autograd.grad(out, xs, { grad_outputs: args[n]!, create_graph: true, allow_unused: true });
      // An input the output is linear in has a constant gradient: materialise it so gradcheck sees a tensor.
      return gs.map((g, i) => g ?? torch.zeros_like(xs[i]!));
    });
  return torch.autograd.gradcheck(vjp, [...inputs, v]);
}
