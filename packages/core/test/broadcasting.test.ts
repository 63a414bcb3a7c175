/** Broadcasting laws: numpy's shape rule, gradient shapes, and sum-to-shape as the adjoint of expand. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as torch from '../src/index.ts';
import { broadcastPairArb, const64, flat, leaf64, numel, valuesArb, type Shape } from './helpers.ts';
import { sumToShape } from '../src/ops/reduce_to_shape.ts';

const RUNS = { numRuns: 50 };

/** The numpy rule, written independently: right-align, sizes must match or be 1. */
function numpyShape(a: Shape, b: Shape): Shape | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

const anyPair = fc.tuple(
  fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
  fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
);

const ops: [string, (a: torch.Tensor, b: torch.Tensor) => torch.Tensor][] = [
  ['add', torch.add], ['sub', torch.sub], ['mul', torch.mul], ['div', torch.div],
  ['maximum', torch.maximum], ['minimum', torch.minimum], ['pow', torch.pow],
  ['where', (a, b) => torch.where(torch.gt(a, 0), a, b)],
];

describe('broadcasting', () => {
  it('result shape follows the numpy rule, or the op throws PyTorch\'s size message', () => {
    fc.assert(fc.property(anyPair, ([sa, sb]) => {
      const expected = numpyShape(sa, sb);
      const a = torch.ones(sa);
      const b = torch.ones(sb);
      for (const [, f] of ops) {
        if (expected === null) expect(() => f(a, b)).toThrow(/must match the size of tensor b/);
        else expect(f(a, b).shape).toEqual(expected);
      }
    }), RUNS);
  });

  it('every input gradient has its input\'s shape', () => {
    fc.assert(fc.property(broadcastPairArb(), ([sa, sb]) => {
      for (const [name, f] of ops) {
        const a = leaf64(Array.from({ length: numel(sa) }, (_, i) => 0.5 + 0.1 * i), sa);
        const b = leaf64(Array.from({ length: numel(sb) }, (_, i) => 0.75 + 0.2 * i), sb);
        f(a, b).sum().backward();
        expect([name, a.grad!.shape]).toEqual([name, sa]);
        expect([name, b.grad!.shape]).toEqual([name, sb]);
      }
    }), RUNS);
  });

  it('sum-to-shape is the adjoint of expand: <expand(x), g> = <x, sumToShape(g)>', () => {
    const arb = broadcastPairArb().chain(([sa, sb]) => {
      const full = numpyShape(sa, sb)!;
      return fc.record({ small: fc.constant(sa), full: fc.constant(full), x: valuesArb(numel(sa)), g: valuesArb(numel(full)) });
    });
    fc.assert(fc.property(arb, ({ small, full, x, g }) => {
      const xt = const64(x, small);
      const gt = const64(g, full);
      const lhs = torch.expand(xt, full).mul(gt).sum().item();
      const reduced = sumToShape(gt, small);
      expect(reduced.shape).toEqual(small);
      const rhs = xt.mul(reduced).sum().item();
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(lhs)));
    }), RUNS);
  });

  it('the gradient of a broadcast operand is the upstream gradient summed over broadcast dims', () => {
    fc.assert(fc.property(broadcastPairArb(), ([sa, sb]) => {
      const full = numpyShape(sa, sb)!;
      const a = leaf64(Array.from({ length: numel(sa) }, (_, i) => i), sa);
      const b = const64(Array.from({ length: numel(sb) }, () => 1), sb);
      const g = const64(Array.from({ length: numel(full) }, (_, i) => (i % 5) - 2), full);
      torch.add(a, b).backward(g);
      expect(flat(a.grad)).toEqual(flat(sumToShape(g, sa)));
    }), RUNS);
  });
});
