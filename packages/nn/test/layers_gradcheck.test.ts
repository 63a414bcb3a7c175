/**
 * Property tests: every layer Function's backward agrees with finite differences
 * (`torch.autograd.gradcheck`) on small random shapes and options.
 *
 * Precision note. The conv/linear/pool/batchnorm kernels are float32-only, and gradcheck's
 * defaults (eps 1e-6, atol 1e-5) assume float64. Rather than pretend, these run gradcheck on the
 * float32 Functions with a large step and loosened tolerances: conv, linear and the pools are
 * linear (bilinear) in each argument, so central differences have no truncation error and only
 * float32 rounding (≈1e-7·|f|/eps) remains; with eps = 1e-2 that is ~1e-5, far below atol 1e-3 /
 * rtol 1e-2 while any indexing or scaling bug gives O(1) errors. Max pooling uses inputs whose
 * values are ≥ 0.05 apart so the ±eps steps never change the argmax. Batch norm is nonlinear:
 * eps 1e-3 (truncation ~1e-6) and atol 3e-3 cover float32 rounding. The dtype-generic Functions
 * (leaky_relu, pad, losses) run in float64 with gradcheck's default tolerances.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import { functional as F } from '@gradlens/nn';

const gradcheck = torch.autograd.gradcheck;
const LIN = { eps: 1e-2, atol: 1e-3, rtol: 1e-2 };
const RUNS = { numRuns: 12, seed: 20240601 };

function randn(shape: number[], dtype: 'float32' | 'float64' = 'float32'): Tensor {
  return torch.randn(shape, { dtype }).requires_grad_(true);
}

/** Values ≥ 0.05 apart (a shuffled ramp) so max-pool argmaxes are stable under ±eps steps. */
function distinct(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = Array.from({ length: n }, (_, i) => i);
  const r = torch.rand(n)._contiguousData();
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r[i]! * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return torch.tensor(Float32Array.from(perm, (v) => (v - n / 2) * 0.05), { shape }).requires_grad_(true);
}

describe('layer Functions vs gradcheck (fast-check)', () => {
  it('conv2d: stride, padding (sym/asym/same), dilation, groups (incl. depthwise), bias', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.nat(),
          N: fc.integer({ min: 1, max: 2 }),
          g: fc.integer({ min: 1, max: 2 }),
          cpg: fc.integer({ min: 1, max: 2 }),
          opg: fc.integer({ min: 1, max: 2 }),
          H: fc.integer({ min: 3, max: 5 }),
          W: fc.integer({ min: 3, max: 5 }),
          K: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          dil: fc.integer({ min: 1, max: 2 }),
          pad: fc.oneof(fc.constant<'same'>('same'), fc.integer({ min: 0, max: 1 }), fc.tuple(fc.nat(1), fc.nat(1), fc.nat(1), fc.nat(1))),
          bias: fc.boolean(),
        }),
        (c) => {
          torch.manual_seed(c.seed);
          const C = c.g * c.cpg;
          const OC = c.g * c.opg;
          const stride = c.pad === 'same' ? 1 : c.stride;
          if ((c.H + 2 < c.dil * (c.K - 1) + 1) || (c.W + 2 < c.dil * (c.K - 1) + 1)) return;
          const x = randn([c.N, C, c.H, c.W]);
          const w = randn([OC, c.cpg, c.K, c.K]);
          const b = c.bias ? randn([OC]) : null;
          const padding = Array.isArray(c.pad) ? (c.pad as [number, number, number, number]) : c.pad;
          const f = (xx: Tensor, ww: Tensor, bb?: Tensor): Tensor =>
            F.conv2d(xx, ww, bb ?? null, { stride, padding, dilation: c.dil, groups: c.g });
          try {
            f(x, w);
          } catch {
            return; // empty output for this geometry
          }
          expect(gradcheck(f, b ? [x, w, b] : [x, w], LIN)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('linear: with/without bias, 2-D and 3-D input', () => {
    fc.assert(
      fc.property(fc.record({ seed: fc.nat(), N: fc.integer({ min: 1, max: 3 }), K: fc.integer({ min: 1, max: 4 }), O: fc.integer({ min: 1, max: 4 }), bias: fc.boolean(), threeD: fc.boolean() }), (c) => {
        torch.manual_seed(c.seed);
        const x = randn(c.threeD ? [2, c.N, c.K] : [c.N, c.K]);
        const w = randn([c.O, c.K]);
        const b = randn([c.O]);
        const ins = c.bias ? [x, w, b] : [x, w];
        expect(gradcheck((xx: Tensor, ww: Tensor, bb?: Tensor) => F.linear(xx, ww, bb ?? null), ins, LIN)).toBe(true);
      }),
      RUNS,
    );
  });

  it('max_pool2d: kernel, stride, padding, dilation, ceil_mode', () => {
    fc.assert(
      fc.property(fc.record({ seed: fc.nat(), H: fc.integer({ min: 2, max: 6 }), W: fc.integer({ min: 2, max: 6 }), K: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), p: fc.nat(1), d: fc.integer({ min: 1, max: 2 }), ceil: fc.boolean() }), (c) => {
        torch.manual_seed(c.seed);
        if (c.p * 2 > c.K) return;
        const x = distinct([1, 2, c.H, c.W]);
        const f = (xx: Tensor): Tensor => F.max_pool2d(xx, c.K, { stride: c.s, padding: c.p, dilation: c.d, ceil_mode: c.ceil });
        try {
          f(x);
        } catch {
          return;
        }
        expect(gradcheck(f, [x], LIN)).toBe(true);
      }),
      RUNS,
    );
  });

  it('avg_pool2d and adaptive_avg_pool2d', () => {
    fc.assert(
      fc.property(fc.record({ seed: fc.nat(), H: fc.integer({ min: 2, max: 6 }), W: fc.integer({ min: 2, max: 6 }), K: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), p: fc.nat(1), ceil: fc.boolean(), cip: fc.boolean(), OH: fc.integer({ min: 1, max: 4 }), OW: fc.integer({ min: 1, max: 4 }) }), (c) => {
        torch.manual_seed(c.seed);
        const x = randn([2, 2, c.H, c.W]);
        if (c.p * 2 <= c.K && c.K <= c.H + 2 * c.p && c.K <= c.W + 2 * c.p) {
          const f = (xx: Tensor): Tensor => F.avg_pool2d(xx, c.K, { stride: c.s, padding: c.p, ceil_mode: c.ceil, count_include_pad: c.cip });
          expect(gradcheck(f, [x], LIN)).toBe(true);
        }
        expect(gradcheck((xx: Tensor) => F.adaptive_avg_pool2d(xx, [c.OH, c.OW]), [x], LIN)).toBe(true);
      }),
      RUNS,
    );
  });

  it('batch_norm: training (batch stats) and eval (running stats), with/without affine', () => {
    fc.assert(
      fc.property(fc.record({ seed: fc.nat(), N: fc.integer({ min: 2, max: 3 }), C: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 1, max: 3 }), training: fc.boolean(), affine: fc.boolean() }), (c) => {
        torch.manual_seed(c.seed);
        const x = randn([c.N, c.C, c.H, 2]);
        const w = randn([c.C]);
        const b = randn([c.C]);
        const rm = torch.randn(c.C).mul(0.1);
        const rv = torch.rand(c.C).add(0.5);
        // running stats are cloned per call so repeated evaluations see the same statistics
        const f = (xx: Tensor, ww?: Tensor, bb?: Tensor): Tensor =>
          F.batch_norm(xx, rm.clone(), rv.clone(), { weight: ww ?? null, bias: bb ?? null, training: c.training, eps: 1e-5 });
        expect(gradcheck(f, c.affine ? [x, w, b] : [x], { eps: 1e-3, atol: 3e-3, rtol: 1e-2 })).toBe(true);
      }),
      RUNS,
    );
  });

  it('leaky_relu, pad, nll/cross_entropy and mse (float64, default gradcheck tolerances)', () => {
    fc.assert(
      fc.property(fc.record({ seed: fc.nat(), N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 2, max: 4 }), red: fc.constantFrom<'mean' | 'sum' | 'none'>('mean', 'sum', 'none'), pads: fc.tuple(fc.integer({ min: -1, max: 2 }), fc.nat(2), fc.nat(2), fc.integer({ min: -1, max: 2 })) }), (c) => {
        torch.manual_seed(c.seed);
        const x = torch.randn([c.N, c.C], { dtype: 'float64' });
        const away = torch.where(x.ge(0), x.add(0.05), x.sub(0.05)).detach().requires_grad_(true);
        expect(gradcheck((t: Tensor) => F.leaky_relu(t, 0.2), [away])).toBe(true);
        const img = randn([1, 2, 3, 3], 'float64');
        expect(gradcheck((t: Tensor) => F.pad(t, c.pads as number[]), [img])).toBe(true);
        const target = torch.tensor(Array.from({ length: c.N }, (_, i) => (i * 7 + c.seed) % c.C), { dtype: 'int64' });
        const logits = randn([c.N, c.C], 'float64');
        const weight = torch.rand(c.C, { dtype: 'float64' }).add(0.5);
        expect(gradcheck((t: Tensor) => F.cross_entropy(t, target, { reduction: c.red, weight }), [logits])).toBe(true);
        expect(gradcheck((t: Tensor) => F.nll_loss(t, target, { reduction: c.red }), [logits])).toBe(true);
        const a = randn([c.N, c.C], 'float64');
        const b = randn([c.N, c.C], 'float64');
        expect(gradcheck((p: Tensor, q: Tensor) => F.mse_loss(p, q, { reduction: c.red }), [a, b])).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('grad_fn names and skipped work', () => {
  it('uses PyTorch node names', () => {
    const x = torch.randn([1, 2, 4, 4], { requires_grad: true });
    const w = torch.randn([3, 2, 3, 3], { requires_grad: true });
    expect(F.conv2d(x, w).grad_fn!.name()).toBe('ConvolutionBackward0');
    expect(F.max_pool2d(x, 2).grad_fn!.name()).toBe('MaxPool2DWithIndicesBackward0');
    expect(F.avg_pool2d(x, 2).grad_fn!.name()).toBe('AvgPool2DBackward0');
    expect(F.adaptive_avg_pool2d(x, 1).grad_fn!.name()).toBe('MeanBackward1');
    expect(F.adaptive_avg_pool2d(x, [2, 3]).grad_fn!.name()).toBe('AdaptiveAvgPool2DBackward0');
    expect(F.relu(x).grad_fn!.name()).toBe('ReluBackward0');
    expect(F.leaky_relu(x).grad_fn!.name()).toBe('LeakyReluBackward0');
    expect(F.pad(x, [1, 1, 1, 1]).grad_fn!.name()).toBe('ConstantPadNdBackward0');
    expect(F.batch_norm(x, null, null, { training: true }).grad_fn!.name()).toBe('NativeBatchNormBackward0');
    const lw = torch.randn([3, 4], { requires_grad: true });
    expect(F.linear(torch.randn(2, 4), lw).grad_fn!.name()).toBe('MmBackward0');
    expect(F.linear(torch.randn(2, 4), lw, torch.zeros(3)).grad_fn!.name()).toBe('AddmmBackward0');
    expect(F.linear(torch.randn(5, 2, 4), lw, torch.zeros(3)).grad_fn!.name()).toBe('ViewBackward0');
  });

  it('conv backward computes no weight gradient when no parameter requires grad, no input gradient for a plain input', () => {
    const x = torch.randn([1, 2, 4, 4], { requires_grad: true });
    const w = torch.randn([3, 2, 3, 3]);
    const y = F.conv2d(x, w, torch.zeros(3));
    let gi: (Tensor | null)[] = [];
    y.grad_fn!.register_hook((g) => {
      gi = g;
    });
    y.sum().backward();
    expect(gi[0]).not.toBeNull();
    expect(gi[1]).toBeNull();
    expect(gi[2]).toBeNull();
    const w2 = torch.randn([3, 2, 3, 3], { requires_grad: true });
    const y2 = F.conv2d(torch.randn([1, 2, 4, 4]), w2);
    y2.grad_fn!.register_hook((g) => {
      gi = g;
    });
    y2.sum().backward();
    expect(gi[0]).toBeNull();
    expect(gi[1]!.shape).toEqual([3, 2, 3, 3]);
  });
});
