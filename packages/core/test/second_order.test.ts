/** Higher-order gradients: create_graph records the backward pass so it can be differentiated again. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as torch from '../src/index.ts';
import { broadcastPairArb, const64, distinctArb, flat, gradgradcheck, gridArb, leaf64, leafArb, numel, shapeArb, valuesArb } from './helpers.ts';

const RUNS = { numRuns: 20 };

describe('create_graph', () => {
  it('d/dx and d²/dx² of x³ are 3x² and 6x (autograd.grad twice)', () => {
    fc.assert(fc.property(valuesArb(4), (v) => {
      const x = leaf64(v, [4]);
      const [g] = torch.autograd.grad(x.pow(3).sum(), x, { create_graph: true });
      expect(g!.requires_grad).toBe(true);
      const [gg] = torch.autograd.grad(g!.sum(), x);
      v.forEach((xi, i) => {
        expect(flat(g!)![i]).toBeCloseTo(3 * xi * xi, 12);
        expect(flat(gg!)![i]).toBeCloseTo(6 * xi, 12);
      });
    }), RUNS);
  });

  it('backward(create_graph) leaves a differentiable .grad (third derivative of x⁴ is 24x)', () => {
    const x = leaf64([0.5, -1.25], [2]);
    const [g1] = torch.autograd.grad(x.pow(4).sum(), x, { create_graph: true });
    const [g2] = torch.autograd.grad(g1!.sum(), x, { create_graph: true });
    g2!.sum().backward();
    expect(flat(x.grad)).toEqual([24 * 0.5, 24 * -1.25]);
  });

  it('results are differentiable w.r.t. grad_outputs (vector-Jacobian products)', () => {
    const x = leaf64([1, 2], [2]);
    const v = leaf64([3, 4], [2]);
    const [g] = torch.autograd.grad(x.mul(x), x, { grad_outputs: v, create_graph: true });
    const [gv] = torch.autograd.grad(g!.sum(), v);
    expect(flat(gv!)).toEqual([2, 4]); // PyTorch: [2.0, 4.0]
  });

  it('without create_graph the gradient has no history', () => {
    const x = leaf64([1, 2], [2]);
    const [g] = torch.autograd.grad(x.pow(3).sum(), x);
    expect(g!.requires_grad).toBe(false);
    expect(g!.grad_fn).toBeNull();
  });
});

describe('gradgradcheck (second derivatives of every smooth op family)', () => {
  const unary: [string, (x: torch.Tensor) => torch.Tensor, (n: number) => fc.Arbitrary<number[]>][] = [
    ['pow 3', (x) => x.pow(3), valuesArb],
    ['exp', torch.exp, valuesArb],
    ['log', torch.log, (n) => valuesArb(n, 0.3, 3)],
    ['sqrt', torch.sqrt, (n) => valuesArb(n, 0.3, 3)],
    ['sigmoid', torch.sigmoid, valuesArb],
    ['tanh', torch.tanh, valuesArb],
    ['relu·x', (x) => torch.relu(x).mul(x), (n) => gridArb(n)],
    ['abs·x', (x) => torch.abs(x).mul(x), (n) => gridArb(n)],
    ['clamp·x', (x) => x.clamp({ min: -0.5, max: 0.5 }).mul(x), (n) => gridArb(n)],
    ['softmax', (x) => torch.softmax(x, -1), valuesArb],
    ['log_softmax', (x) => torch.log_softmax(x, 0), valuesArb],
    ['select/slice/index', (x) => x.index(0).mul(x.slice(0, 0, 1).sum()).pow(2), valuesArb],
    ['sum/mean/amax', (x) => x.sum(0).mul(x.mean()).add(x.amax().pow(2)), distinctArb],
  ];
  for (const [name, f, values] of unary) {
    it(name, () => {
      fc.assert(fc.property(leafArb(shapeArb(1, 2), values), ({ shape, values: v }) => {
        const x = leaf64(v, shape);
        const out = torch.no_grad(() => f(x));
        const w = leaf64(Array.from({ length: out.numel() }, (_, i) => 0.5 + 0.25 * i), out.shape);
        expect(gradgradcheck(f, [x], w)).toBe(true);
      }), RUNS);
    });
  }

  it('mul / div / pow / maximum with broadcasting', () => {
    fc.assert(fc.property(broadcastPairArb(2).chain(([sa, sb]) => fc.record({
      sa: fc.constant(sa), sb: fc.constant(sb), a: valuesArb(numel(sa), 0.5, 2), b: valuesArb(numel(sb), 0.5, 2),
    })), ({ sa, sb, a, b }) => {
      const f = (x: torch.Tensor, y: torch.Tensor) => x.mul(y).add(x.div(y)).add(x.pow(y));
      const out = torch.no_grad(() => f(const64(a, sa), const64(b, sb)));
      const w = leaf64(Array.from({ length: out.numel() }, (_, i) => 1 - 0.3 * i), out.shape);
      expect(gradgradcheck(f, [leaf64(a, sa), leaf64(b, sb)], w)).toBe(true);
    }), RUNS);
  });

  it('matmul (batched) and gather', () => {
    const a = leaf64([0.1, -0.4, 0.7, 1.1, -0.2, 0.3, 0.9, -0.8, 0.5, 0.2, -0.6, 0.4], [2, 2, 3]);
    const b = leaf64([0.3, -0.1, 0.6, 0.2, -0.5, 0.8], [3, 2]);
    const f = (x: torch.Tensor, y: torch.Tensor) => torch.matmul(x, y).pow(2).gather(2, torch.tensor([[[1], [0]], [[0], [0]]], { dtype: 'int64' }));
    const w = leaf64([1, -2, 0.5, 3], [2, 2, 1]);
    expect(gradgradcheck(f, [a, b], w)).toBe(true);
  });
});
