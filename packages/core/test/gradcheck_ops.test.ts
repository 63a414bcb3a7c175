/**
 * Every differentiable op, gradchecked in float64 (central differences) on fast-check-generated
 * shapes and values. Values avoid non-differentiable points: kinks (abs, relu, clamp bounds) sit
 * between grid points, log/sqrt/div get inputs bounded away from 0, max-like ops get distinct values.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as torch from '../src/index.ts';
import {
  broadcastPairArb, const64, distinctArb, gridArb, leaf64, leafArb, numel, shapeArb, valuesArb, type Shape,
} from './helpers.ts';

const RUNS = { numRuns: 25 };
const check = (fn: (...xs: torch.Tensor[]) => torch.Tensor | torch.Tensor[], inputs: torch.Tensor[], opts?: torch.autograd.GradcheckOptions) =>
  expect(torch.autograd.gradcheck(fn, inputs, opts)).toBe(true);

/** Two broadcastable leaves; `vb` shapes the second operand's values. */
const binaryArb = (va: (n: number) => fc.Arbitrary<number[]> = valuesArb, vb: (n: number) => fc.Arbitrary<number[]> = valuesArb) =>
  broadcastPairArb().chain(([sa, sb]) => fc.record({ sa: fc.constant(sa), sb: fc.constant(sb), a: va(numel(sa)), b: vb(numel(sb)) }));

const awayFromZero = (n: number) => valuesArb(n, 0.5, 2).chain((v) => fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((s) => v.map((x, i) => (s[i] ? -x : x))));
const positive = (n: number) => valuesArb(n, 0.2, 3);

/** A shape with at least one dim, and a dim index into it. */
const shapeDimArb = (minDims = 1) => shapeArb(minDims, 3).chain((s) => fc.record({ shape: fc.constant(s), dim: fc.integer({ min: -s.length, max: s.length - 1 }) }));

describe('gradcheck: pointwise binary ops with broadcasting', () => {
  type Values = (n: number) => fc.Arbitrary<number[]>;
  const cases: [string, (a: torch.Tensor, b: torch.Tensor) => torch.Tensor, Values, Values][] = [
    ['add', (a, b) => torch.add(a, b), valuesArb, valuesArb],
    ['add alpha', (a, b) => torch.add(a, b, { alpha: -1.5 }), valuesArb, valuesArb],
    ['sub', (a, b) => torch.sub(a, b), valuesArb, valuesArb],
    ['sub alpha', (a, b) => a.sub(b, { alpha: 3 }), valuesArb, valuesArb],
    ['mul', (a, b) => torch.mul(a, b), valuesArb, valuesArb],
    ['div', (a, b) => torch.div(a, b), valuesArb, awayFromZero],
    ['pow (tensor exponent)', (a, b) => torch.pow(a, b), positive, valuesArb],
  ];
  for (const [name, f, va, vb] of cases) {
    it(name, () => {
      fc.assert(fc.property(binaryArb(va, vb), ({ sa, sb, a, b }) => {
        check(f, [leaf64(a, sa), leaf64(b, sb)]);
      }), RUNS);
    });
  }

  it('maximum / minimum (no ties)', () => {
    // a on even multiples of 0.05, b on odd ones: never equal.
    const evens = (n: number) => fc.array(fc.integer({ min: -20, max: 20 }), { minLength: n, maxLength: n }).map((k) => k.map((x) => x * 0.1));
    const odds = (n: number) => evens(n).map((v) => v.map((x) => x + 0.05));
    fc.assert(fc.property(binaryArb(evens, odds), ({ sa, sb, a, b }) => {
      check(torch.maximum, [leaf64(a, sa), leaf64(b, sb)]);
      check(torch.minimum, [leaf64(a, sa), leaf64(b, sb)]);
    }), RUNS);
  });

  it('where (condition, x, y all broadcast)', () => {
    fc.assert(fc.property(binaryArb(), fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }), ({ sa, sb, a, b }, c) => {
      const cond = torch.tensor(c, { shape: [c.length] }).to('bool');
      const shapeOk = (() => { try { torch.where(cond, const64(a, sa), const64(b, sb)); return true; } catch { return false; } })();
      fc.pre(shapeOk);
      check((x, y) => torch.where(cond, x, y), [leaf64(a, sa), leaf64(b, sb)]);
    }), RUNS);
  });

  it('scalar operands on either side', () => {
    fc.assert(fc.property(leafArb(shapeArb(), awayFromZero), fc.double({ min: 0.5, max: 2, noNaN: true }), ({ shape, values }, s) => {
      check((x) => torch.add(s, x), [leaf64(values, shape)]);
      check((x) => torch.sub(s, x), [leaf64(values, shape)]);
      check((x) => torch.mul(x, s), [leaf64(values, shape)]);
      check((x) => torch.div(s, x), [leaf64(values, shape)]);
      check((x) => torch.div(x, s), [leaf64(values, shape)]);
    }), RUNS);
  });
});

describe('gradcheck: pointwise unary ops', () => {
  const cases: [string, (x: torch.Tensor) => torch.Tensor, (n: number) => fc.Arbitrary<number[]>][] = [
    ['neg', torch.neg, valuesArb],
    ['exp', torch.exp, valuesArb],
    ['log', torch.log, positive],
    ['sqrt', torch.sqrt, positive],
    ['abs', torch.abs, (n) => gridArb(n)],
    ['relu', torch.relu, (n) => gridArb(n)],
    ['sigmoid', torch.sigmoid, valuesArb],
    ['tanh', torch.tanh, valuesArb],
    ['clamp min', (x) => torch.clamp(x, { min: 0.3 }), (n) => gridArb(n)],
    ['clamp max', (x) => torch.clamp(x, { max: -0.3 }), (n) => gridArb(n)],
    ['clamp min+max', (x) => x.clamp({ min: -0.5, max: 0.7 }), (n) => gridArb(n)],
    ['pow 2', (x) => torch.pow(x, 2), valuesArb],
    ['pow 3', (x) => x.pow(3), valuesArb],
    ['pow -1', (x) => x.pow(-1), awayFromZero],
    ['pow 0.5', (x) => x.pow(0.5), positive],
    ['pow 0', (x) => x.pow(0), valuesArb],
    ['pow scalar base', (x) => torch.pow(1.7, x), valuesArb],
    ['clone', torch.clone, valuesArb],
    ['contiguous of transpose', (x) => torch.contiguous(torch.transpose(x, 0, -1)), valuesArb],
  ];
  for (const [name, f, values] of cases) {
    it(name, () => {
      fc.assert(fc.property(leafArb(shapeArb(), values), ({ shape, values: v }) => {
        check(f, [leaf64(v, shape)]);
      }), RUNS);
    });
  }

  it('to (float64 → float32 → float64)', () => {
    // float32 rounding needs a coarser step for finite differences.
    fc.assert(fc.property(leafArb(shapeArb()), ({ shape, values }) => {
      check((x) => x.to('float32').mul(3).to('float64'), [leaf64(values, shape)], { eps: 1e-2, atol: 1e-3, rtol: 1e-3 });
    }), RUNS);
  });
});

describe('gradcheck: reductions', () => {
  /** A shape and a random subset of its dims. */
  const dimsArb = shapeArb(1, 3).chain((s) =>
    fc.record({ shape: fc.constant(s), dims: fc.subarray(s.map((_, i) => i), { minLength: 1 }), keepdim: fc.boolean() }));

  it('sum / mean over all dims', () => {
    fc.assert(fc.property(leafArb(shapeArb()), ({ shape, values }) => {
      check((x) => torch.sum(x), [leaf64(values, shape)]);
      check((x) => x.mean(), [leaf64(values, shape)]);
    }), RUNS);
  });

  it('sum / mean over dims, keepdim or not', () => {
    fc.assert(fc.property(dimsArb.chain((d) => valuesArb(numel(d.shape)).map((v) => ({ ...d, v }))), ({ shape, dims, keepdim, v }) => {
      check((x) => torch.sum(x, dims, { keepdim }), [leaf64(v, shape)]);
      check((x) => torch.mean(x, dims, { keepdim }), [leaf64(v, shape)]);
    }), RUNS);
  });

  it('amax / amin over dims (distinct values)', () => {
    fc.assert(fc.property(dimsArb.chain((d) => distinctArb(numel(d.shape)).map((v) => ({ ...d, v }))), ({ shape, dims, keepdim, v }) => {
      check((x) => torch.amax(x, dims, { keepdim }), [leaf64(v, shape)]);
      check((x) => torch.amin(x, dims, { keepdim }), [leaf64(v, shape)]);
    }), RUNS);
  });

  it('max() / min() overall, max(dim) / min(dim) values', () => {
    fc.assert(fc.property(shapeDimArb().chain((d) => distinctArb(numel(d.shape)).map((v) => ({ ...d, v }))), fc.boolean(), ({ shape, dim, v }, keepdim) => {
      check((x) => torch.max(x), [leaf64(v, shape)]);
      check((x) => torch.min(x), [leaf64(v, shape)]);
      check((x) => torch.max(x, dim, { keepdim }).values, [leaf64(v, shape)]);
      check((x) => x.min(dim, { keepdim })[0], [leaf64(v, shape)]);
    }), RUNS);
  });

  it('softmax / log_softmax along any dim', () => {
    fc.assert(fc.property(shapeDimArb().chain((d) => valuesArb(numel(d.shape), -3, 3).map((v) => ({ ...d, v }))), ({ shape, dim, v }) => {
      check((x) => torch.softmax(x, dim), [leaf64(v, shape)]);
      check((x) => torch.log_softmax(x, dim), [leaf64(v, shape)]);
    }), RUNS);
  });
});

describe('gradcheck: matmul', () => {
  const dims = fc.integer({ min: 1, max: 3 });
  it('1-D · 1-D, 2-D · 1-D, 1-D · 2-D, 2-D · 2-D', () => {
    fc.assert(fc.property(dims, dims, dims, fc.integer({ min: 0, max: 1000 }), (m, k, n, seed) => {
      const vals = (count: number) => Array.from({ length: count }, (_, i) => Math.sin(seed + 1.3 * i));
      check(torch.matmul, [leaf64(vals(k), [k]), leaf64(vals(k).reverse(), [k])]);
      check(torch.matmul, [leaf64(vals(m * k), [m, k]), leaf64(vals(k), [k])]);
      check(torch.matmul, [leaf64(vals(k), [k]), leaf64(vals(k * n), [k, n])]);
      check(torch.matmul, [leaf64(vals(m * k), [m, k]), leaf64(vals(k * n), [k, n])]);
      check(torch.mm, [leaf64(vals(m * k), [m, k]), leaf64(vals(k * n), [k, n])]);
    }), RUNS);
  });

  it('batched with broadcast batch dims (and 1-D operands against batches)', () => {
    const arb = fc.tuple(broadcastPairArb(2), dims, dims, dims).chain(([[ba, bb], m, k, n]) => fc.record({
      sa: fc.constant<number[]>([...ba, m, k]), sb: fc.constant<number[]>([...bb, k, n]),
      a: valuesArb(numel(ba) * m * k), b: valuesArb(numel(bb) * k * n), v: valuesArb(k),
    }));
    fc.assert(fc.property(arb, ({ sa, sb, a, b, v }) => {
      check(torch.matmul, [leaf64(a, sa), leaf64(b, sb)]);
      check(torch.matmul, [leaf64(a, sa), leaf64(v, [sa[sa.length - 1]!])]);
      check(torch.matmul, [leaf64(v, [sb[sb.length - 2]!]), leaf64(b, sb)]);
    }), RUNS);
  });

  it('bmm', () => {
    fc.assert(fc.property(dims, dims, dims, dims, (bt, m, k, n) => {
      const vals = (c: number) => Array.from({ length: c }, (_, i) => Math.cos(i * 0.7 + m));
      check(torch.bmm, [leaf64(vals(bt * m * k), [bt, m, k]), leaf64(vals(bt * k * n), [bt, k, n])]);
    }), RUNS);
  });
});

describe('gradcheck: views and shape ops', () => {
  const withValues = (s: fc.Arbitrary<Shape>) => leafArb(s);

  it('reshape / view (incl. -1) and flatten', () => {
    fc.assert(fc.property(withValues(shapeArb(1, 4)), fc.integer({ min: 0, max: 3 }), ({ shape, values }, start) => {
      const s = Math.min(start, shape.length - 1);
      check((x) => x.reshape([...shape].reverse()), [leaf64(values, shape)]);
      check((x) => x.view(-1), [leaf64(values, shape)]);
      check((x) => torch.reshape(torch.transpose(x, 0, -1), [-1]), [leaf64(values, shape)]);
      check((x) => torch.flatten(x, s), [leaf64(values, shape)]);
      check((x) => x.view_as(x.flatten()).mul(2), [leaf64(values, shape)]);
    }), RUNS);
  });

  it('permute / transpose / t', () => {
    const arb = withValues(shapeArb(1, 4)).chain((l) => fc.record({
      l: fc.constant(l),
      perm: fc.shuffledSubarray(l.shape.map((_, i) => i), { minLength: l.shape.length, maxLength: l.shape.length }),
      d0: fc.integer({ min: 0, max: l.shape.length - 1 }), d1: fc.integer({ min: -l.shape.length, max: -1 }),
    }));
    fc.assert(fc.property(arb, ({ l: { shape, values }, perm, d0, d1 }) => {
      check((x) => torch.permute(x, perm), [leaf64(values, shape)]);
      check((x) => x.transpose(d0, d1), [leaf64(values, shape)]);
      if (shape.length <= 2) check((x) => torch.t(x), [leaf64(values, shape)]);
    }), RUNS);
  });

  it('squeeze / unsqueeze', () => {
    fc.assert(fc.property(withValues(shapeArb(0, 3, 2)), fc.integer({ min: 0, max: 3 }), ({ shape, values }, d) => {
      const dim = Math.min(d, shape.length);
      check((x) => torch.unsqueeze(x, dim), [leaf64(values, shape)]);
      check((x) => torch.squeeze(x), [leaf64(values, shape)]);
      if (shape.length) check((x) => x.squeeze(Math.min(d, shape.length - 1)), [leaf64(values, shape)]);
    }), RUNS);
  });

  it('expand / expand_as', () => {
    fc.assert(fc.property(broadcastPairArb(), ({ 0: sa, 1: sb }) => {
      const target = sa.length >= sb.length ? sa : sb;
      const small = sa.length >= sb.length ? sb : sa;
      const full = target.map((s, i) => Math.max(s, small[i - (target.length - small.length)] ?? 1));
      const values = Array.from({ length: numel(small) }, (_, i) => 0.3 * i - 0.7);
      check((x) => torch.expand(x, full), [leaf64(values, small)]);
      check((x) => x.expand_as(torch.zeros(full, { dtype: 'float64' })).mul(2), [leaf64(values, small)]);
      check((x) => x.expand([2, ...full]).sum(0), [leaf64(values, small)]);
    }), RUNS);
  });

  it('cat / stack along any dim', () => {
    const arb = shapeDimArb().chain(({ shape, dim }) => fc.record({
      shape: fc.constant(shape), dim: fc.constant(dim),
      sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    }));
    fc.assert(fc.property(arb, ({ shape, dim, sizes }) => {
      const d = dim < 0 ? dim + shape.length : dim;
      const parts = sizes.map((s, j) => {
        const sh = shape.map((x, i) => (i === d ? s : x));
        return leaf64(Array.from({ length: numel(sh) }, (_, i) => Math.sin(i + 3 * j)), sh);
      });
      check((...xs) => torch.cat(xs, dim), parts);
      const same = sizes.map((_, j) => leaf64(Array.from({ length: numel(shape) }, (_, i) => Math.cos(i - j)), shape));
      check((...xs) => torch.stack(xs, dim), same);
      check((...xs) => torch.stack(xs, -1), same);
    }), RUNS);
  });

  it('narrow / select / slice (with step) / index', () => {
    const arb = shapeDimArb().chain(({ shape, dim }) => {
      const size = shape[dim < 0 ? dim + shape.length : dim]!;
      return fc.record({
        shape: fc.constant(shape), dim: fc.constant(dim),
        start: fc.integer({ min: 0, max: size - 1 }), step: fc.integer({ min: 1, max: 2 }),
        values: valuesArb(numel(shape)),
      }).chain((r) => fc.record({ r: fc.constant(r), len: fc.integer({ min: 0, max: size - r.start }) }));
    });
    fc.assert(fc.property(arb, ({ r: { shape, dim, start, step, values }, len }) => {
      check((x) => torch.narrow(x, dim, start, len), [leaf64(values, shape)]);
      check((x) => torch.select(x, dim, start), [leaf64(values, shape)]);
      check((x) => x.slice(dim, start, null, step), [leaf64(values, shape)]);
      check((x) => x.index('...', torch.slice_(start, null, step)), [leaf64(values, shape)]);
      check((x) => x.at(-1), [leaf64(values, shape)]);
      check((x) => x.index(null, 0), [leaf64(values, shape)]);
    }), RUNS);
  });
});

describe('gradcheck: indexing ops', () => {
  /** A shape, a dim, and an int64 index tensor valid for gather/scatter along it. */
  const gatherArb = shapeDimArb().chain(({ shape, dim }) => {
    const d = dim < 0 ? dim + shape.length : dim;
    const idxShape = shape.map((s, i) => (i === d ? 4 : s));
    return fc.record({
      shape: fc.constant(shape), dim: fc.constant(dim), idxShape: fc.constant(idxShape),
      idx: fc.array(fc.integer({ min: 0, max: shape[d]! - 1 }), { minLength: numel(idxShape), maxLength: numel(idxShape) }),
      values: valuesArb(numel(shape)), src: valuesArb(numel(idxShape)),
    });
  });

  it('gather (repeated indices)', () => {
    fc.assert(fc.property(gatherArb, ({ shape, dim, idxShape, idx, values }) => {
      const index = torch.tensor(idx, { shape: idxShape, dtype: 'int64' });
      check((x) => torch.gather(x, dim, index), [leaf64(values, shape)]);
    }), RUNS);
  });

  it('scatter_add (gradient for self and src)', () => {
    fc.assert(fc.property(gatherArb, ({ shape, dim, idxShape, idx, values, src }) => {
      const index = torch.tensor(idx, { shape: idxShape, dtype: 'int64' });
      check((x, s) => torch.scatter_add(x, dim, index, s), [leaf64(values, shape), leaf64(src, idxShape)]);
    }), RUNS);
  });

  it('index_select (repeated indices)', () => {
    const arb = shapeDimArb().chain(({ shape, dim }) => fc.record({
      shape: fc.constant(shape), dim: fc.constant(dim), values: valuesArb(numel(shape)),
      idx: fc.array(fc.integer({ min: 0, max: shape[dim < 0 ? dim + shape.length : dim]! - 1 }), { minLength: 1, maxLength: 4 }),
    }));
    fc.assert(fc.property(arb, ({ shape, dim, values, idx }) => {
      check((x) => torch.index_select(x, dim, torch.tensor(idx, { dtype: 'int64' })), [leaf64(values, shape)]);
    }), RUNS);
  });
});

describe('gradcheck itself', () => {
  it('rejects a wrong backward formula', () => {
    class Wrong extends torch.autograd.Function {
      static override forward(_ctx: torch.autograd.FunctionCtx, x: torch.Tensor): torch.Tensor { return x.mul(x); }
      static override backward(_ctx: torch.autograd.FunctionCtx, g: torch.Tensor): torch.Tensor { return g; }
    }
    const x = leaf64([0.5, 1.5], [2]);
    expect(() => torch.autograd.gradcheck((t) => Wrong.apply(t), [x])).toThrow(/Jacobian mismatch/);
    expect(torch.autograd.gradcheck((t) => Wrong.apply(t), [x], { raise_exception: false })).toBe(false);
  });
});
