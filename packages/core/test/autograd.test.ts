/** Autograd semantics checked against PyTorch (values in comments are PyTorch 1.13's). */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.ts';
import { flat } from './helpers.ts';

const leaf = (v: number[]) => torch.tensor(v, { requires_grad: true });

describe('backward and accumulation', () => {
  it('accumulates into .grad across backward calls, in place (same object)', () => {
    const x = leaf([1, 2]);
    x.mul(3).sum().backward();
    const g1 = x.grad;
    x.mul(3).sum().backward();
    expect(flat(x.grad)).toEqual([6, 6]);
    expect(x.grad).toBe(g1);
  });

  it('a leaf used twice gets the sum; two leaves never share one .grad', () => {
    const a = leaf([1]);
    const b = leaf([1]);
    a.add(b).add(a).sum().backward();
    expect(flat(a.grad)).toEqual([2]);
    expect(flat(b.grad)).toEqual([1]);
    a.grad!.zero_();
    expect(flat(b.grad)).toEqual([1]);
  });

  it('create_graph: leaves that received the same gradient get distinct .grad tensors', () => {
    const a = leaf([1]);
    const b = leaf([1]);
    a.add(b).sum().backward(null, { create_graph: true });
    expect(a.grad).not.toBe(b.grad); // PyTorch: a.grad is b.grad == False
    a.grad!.data.zero_();
    expect(flat(b.grad)).toEqual([1]);
  });

  it('a gradient is required for non-scalar outputs, and must match the shape', () => {
    const x = leaf([1, 2]);
    expect(() => x.mul(2).backward()).toThrow(/only for scalar outputs/);
    expect(() => x.mul(2).backward(torch.ones(3))).toThrow(/Mismatch in shape/);
  });

  it('the user\'s gradient tensor is never aliased as .grad', () => {
    const x = leaf([1, 2]);
    const g = torch.tensor([1, 1]);
    x.clone().backward(g);
    x.clone().backward(g);
    expect(flat(g)).toEqual([1, 1]);
    expect(flat(x.grad)).toEqual([2, 2]);
  });

  it('second backward through freed saved tensors raises PyTorch\'s error; retain_graph allows it', () => {
    const x = leaf([1]);
    const y = x.mul(x).sum();
    y.backward(null, { retain_graph: true });
    y.backward();
    expect(flat(x.grad)).toEqual([4]);
    expect(() => y.backward()).toThrow(/Trying to backward through the graph a second time/);
  });

  it('a graph without saved tensors can be re-run (PyTorch allows it too)', () => {
    const x = leaf([1]);
    const y = x.add(1).sum();
    y.backward();
    y.backward();
    expect(flat(x.grad)).toEqual([2]); // PyTorch: [2.0]
  });

  it('backward(inputs) accumulates only into the given leaves', () => {
    const x = leaf([1]);
    const w = leaf([2]);
    x.mul(w).sum().backward(null, { inputs: [w] });
    expect(x.grad).toBeNull();
    expect(flat(w.grad)).toEqual([1]);
  });

  it('retain_grad keeps a non-leaf gradient; grad_fn names are PyTorch\'s', () => {
    const x = leaf([1, 2]);
    const y = x.mul(2);
    y.retain_grad();
    expect(y.retains_grad).toBe(true);
    y.pow(2).sum().backward();
    expect(flat(y.grad)).toEqual([4, 8]);
    expect(y.grad_fn!.name()).toBe('MulBackward0');
    expect(y.is_leaf).toBe(false);
    expect(x.is_leaf).toBe(true);
    expect(String(y.grad_fn)).toBe('<MulBackward0>');
    const c = torch.tensor([true, false]);
    expect(torch.where(c, x, x).grad_fn!.next_functions.length).toBe(2); // PyTorch: 2
    expect(x.gather(0, torch.tensor([0], { dtype: 'int64' })).grad_fn!.next_functions.length).toBe(1); // PyTorch: 1
    expect(torch.pow(2, x).grad_fn!.name()).toBe('PowBackward2');
    expect(torch.pow(x, x).grad_fn!.name()).toBe('PowBackward1');
    expect(x.max().grad_fn!.name()).toBe('MaxBackward1');
    expect(x.view(1, 2).max(1).values.grad_fn!.name()).toBe('MaxBackward0');
    expect(x.sum().grad_fn!.name()).toBe('SumBackward0');
    expect(x.sum(0).grad_fn!.name()).toBe('SumBackward1');
  });
});

describe('version counters and in-place rules', () => {
  it('modifying a saved tensor in place fails at backward with a clear error', () => {
    const x = leaf([1, 2]);
    const y = x.sigmoid();
    y.mul_(2);
    expect(() => y.sum().backward()).toThrow(/modified by an inplace operation.*SigmoidBackward0.*is at version 1; expected version 0/);
  });

  it('modifying a saved non-grad operand in place also fails', () => {
    const x = leaf([1, 2]);
    const b = torch.ones(2);
    const y = x.mul(b);
    b.add_(1);
    expect(() => y.sum().backward()).toThrow(/modified by an inplace operation/);
  });

  it('a leaf requiring grad (or a view of it) cannot be modified in place; under no_grad it can', () => {
    const x = leaf([1, 2]);
    expect(() => x.add_(1)).toThrow(/a leaf Variable that requires grad is being used in an in-place operation/);
    expect(() => x.index(torch.slice_(0, 1)).add_(1)).toThrow(/a view of a leaf Variable that requires grad/);
    torch.no_grad(() => x.add_(1));
    expect(flat(x.detach())).toEqual([2, 3]);
    // A detached view is not part of the graph (PyTorch allows this and bumps the version).
    const v0 = x._version.value;
    x.index(torch.slice_(0, 1)).detach().zero_();
    expect(flat(x.detach())).toEqual([0, 3]);
    expect(x._version.value).toBe(v0 + 1);
  });

  it('in-place ops on non-leaves are recorded (rebase history) and differentiate correctly', () => {
    const x = leaf([1, -2, 3]);
    const y = x.mul(2);
    y.relu_();
    expect(y.grad_fn!.name()).toBe('ReluBackward0');
    y.mul_(3);
    y.sum().backward();
    expect(flat(x.grad)).toEqual([6, 0, 6]);
  });

  it('.data modifications are not tracked (own version counter), as PyTorch', () => {
    const x = leaf([1]);
    const y = x.sigmoid();
    y.data.mul_(2);
    y.backward();
    const s = 2 / (1 + Math.exp(-1));
    expect(flat(x.grad)![0]).toBeCloseTo(s * (1 - s), 6); // PyTorch: -0.6757 (uses the modified output)
  });

  it('in-place on views of tensors requiring grad and setitem on them are rejected (gradlens limitation)', () => {
    const x = leaf([1, 2]);
    const y = x.mul(1);
    expect(() => y.index(0).add_(1)).toThrow(/views of tensors that require grad are not supported/);
    expect(() => y.setitem([0], 5)).toThrow(/setitem on tensors that require grad is not supported/);
  });
});

describe('grad mode', () => {
  it('no_grad / enable_grad / set_grad_enabled nest and restore', () => {
    const x = leaf([1]);
    expect(torch.is_grad_enabled()).toBe(true);
    const y = torch.no_grad(() => {
      expect(torch.is_grad_enabled()).toBe(false);
      const inner = torch.enable_grad(() => x.mul(2));
      expect(inner.requires_grad).toBe(true);
      return x.mul(2);
    });
    expect(y.requires_grad).toBe(false);
    expect(y.grad_fn).toBeNull();
    expect(torch.set_grad_enabled(false, () => x.mul(2).requires_grad)).toBe(false);
    torch.set_grad_enabled(false);
    expect(x.mul(2).requires_grad).toBe(false);
    torch.set_grad_enabled(true);
    expect(() => torch.no_grad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(torch.is_grad_enabled()).toBe(true);
  });

  it('requires_grad rules: propagates through ops, only float leaves, only leaves can be switched off', () => {
    const x = leaf([1]);
    const c = torch.tensor([2]);
    expect(c.requires_grad).toBe(false);
    expect(x.mul(c).requires_grad).toBe(true);
    expect(c.mul(c).requires_grad).toBe(false);
    expect(() => torch.tensor([1], { dtype: 'int64' }).requires_grad_()).toThrow(/floating point/);
    expect(() => x.mul(2).requires_grad_(false)).toThrow(/leaf variables/);
    c.requires_grad_();
    expect(c.requires_grad && c.is_leaf).toBe(true);
    expect(() => c.mul(2).backward(torch.ones(1))).not.toThrow();
  });

  it('detach shares storage and version counter but has no history', () => {
    const x = leaf([1, 2]);
    const d = x.detach();
    expect(d.requires_grad).toBe(false);
    expect(d.grad_fn).toBeNull();
    d.setitem(0, 7);
    expect(flat(x.detach())).toEqual([7, 2]);
    expect(d._version).toBe(x._version);
    const data = x.data;
    expect(data.requires_grad).toBe(false);
    data.setitem(1, 9);
    expect(flat(x.detach())).toEqual([7, 9]);
  });
});

describe('autograd.grad', () => {
  it('returns gradients without touching .grad', () => {
    const x = leaf([1, 2]);
    const [g] = torch.autograd.grad(x.mul(x).sum(), x);
    expect(flat(g!)).toEqual([2, 4]);
    expect(x.grad).toBeNull();
  });

  it('allow_unused gives null for unused inputs, otherwise an error', () => {
    const x = leaf([1]);
    const w = leaf([1]);
    const [gx, gw] = torch.autograd.grad(x.mul(2).sum(), [x, w], { allow_unused: true });
    expect(flat(gx!)).toEqual([2]);
    expect(gw).toBeNull();
    expect(() => torch.autograd.grad(x.mul(2).sum(), [x, w])).toThrow(/appears to not have been used in the graph/);
    const [, z] = torch.autograd.grad(x.mul(2).sum(), [x, w], { materialize_grads: true });
    expect(flat(z!)).toEqual([0]);
  });

  it('grad_outputs weights the outputs; several outputs sum', () => {
    const x = leaf([1, 2]);
    const [g] = torch.autograd.grad([x.mul(3), x.mul(x)], x, { grad_outputs: [torch.tensor([1, 2]), torch.tensor([1, 1])] });
    expect(flat(g!)).toEqual([3 + 2, 6 + 4]);
  });

  it('gradients w.r.t. non-leaves', () => {
    const x = leaf([1, 2]);
    const h = x.mul(2);
    const [g] = torch.autograd.grad(h.pow(2).sum(), h);
    expect(flat(g!)).toEqual([4, 8]);
    expect(() => torch.autograd.grad(x.mul(2).sum(), torch.ones(1))).toThrow(/does not require grad/);
  });
});

describe('custom autograd.Function', () => {
  class MulAdd extends torch.autograd.Function {
    static backward_name = 'MulAddBackward0';
    static override forward(ctx: torch.autograd.FunctionCtx, a: torch.Tensor, b: torch.Tensor, k: number): torch.Tensor {
      ctx.save_for_backward(a, null, b);
      ctx.k = k;
      ctx.seen = [...ctx.needs_input_grad];
      return a.mul(b).add(k);
    }
    static override backward(ctx: torch.autograd.FunctionCtx, g: torch.Tensor) {
      const [a, none, b] = ctx.saved_tensors;
      expect(none).toBeNull(); // a None slot stays in place, as PyTorch
      return [ctx.needs_input_grad[0] ? g.mul(b!) : null, ctx.needs_input_grad[1] ? g.mul(a!) : null, null];
    }
  }

  it('save_for_backward / saved_tensors / needs_input_grad / backward_name', () => {
    const a = leaf([2]);
    const b = torch.tensor([5]);
    const y = MulAdd.apply(a, b, 1);
    expect(y.grad_fn!.name()).toBe('MulAddBackward0');
    y.backward();
    expect(flat(a.grad)).toEqual([5]);
    expect(b.grad).toBeNull();
  });

  it('saved tensors are version-checked', () => {
    const a = leaf([2]);
    const b = torch.tensor([5]);
    const y = MulAdd.apply(a, b, 1);
    b.add_(1);
    expect(() => y.backward()).toThrow(/modified by an inplace operation/);
  });

  it('returning the wrong number of gradients raises PyTorch\'s error', () => {
    class Bad extends torch.autograd.Function {
      static override forward(_ctx: torch.autograd.FunctionCtx, a: torch.Tensor, b: torch.Tensor): torch.Tensor { return a.mul(b); }
      static override backward(_ctx: torch.autograd.FunctionCtx, g: torch.Tensor) { return [g]; }
    }
    const a = leaf([1]);
    expect(() => Bad.apply(a, a).sum().backward()).toThrow(/BadBackward returned an incorrect number of gradients \(expected 2, got 1\)/);
  });

  it('mark_non_differentiable and set_materialize_grads', () => {
    let got: (torch.Tensor | null)[] = [];
    class Split extends torch.autograd.Function {
      static override forward(ctx: torch.autograd.FunctionCtx, x: torch.Tensor, materialize: boolean): torch.Tensor[] {
        const idx = torch.argmax(x);
        ctx.mark_non_differentiable(idx);
        ctx.set_materialize_grads(materialize);
        return [x.mul(2), x.mul(3), idx];
      }
      static override backward(_ctx: torch.autograd.FunctionCtx, g1: torch.Tensor | null, g2: torch.Tensor | null) {
        got = [g1, g2];
        return [g1 ? g1.mul(2) : null, null];
      }
    }
    for (const materialize of [true, false]) {
      const x = leaf([1, 3]);
      const [a, , idx] = Split.apply(x, materialize);
      expect(idx!.requires_grad).toBe(false);
      a!.sum().backward();
      expect(flat(x.grad)).toEqual([2, 2]);
      if (materialize) expect(flat(got[1]!)).toEqual([0, 0]);
      else expect(got[1]).toBeNull();
    }
  });

  it('an input returned unchanged keeps its own history', () => {
    class Id extends torch.autograd.Function {
      static override forward(_ctx: torch.autograd.FunctionCtx, x: torch.Tensor): torch.Tensor { return x; }
      static override backward(_ctx: torch.autograd.FunctionCtx, g: torch.Tensor) { return g.mul(10); }
    }
    const x = leaf([1]);
    const y = Id.apply(x);
    expect(y).not.toBe(x);
    expect(x.is_leaf).toBe(true);
    y.sum().backward();
    expect(flat(x.grad)).toEqual([10]);
  });

  it('gradcheck passes on a correct custom Function in float64', () => {
    class Cube extends torch.autograd.Function {
      static override forward(ctx: torch.autograd.FunctionCtx, x: torch.Tensor): torch.Tensor { ctx.save_for_backward(x); return x.pow(3); }
      static override backward(ctx: torch.autograd.FunctionCtx, g: torch.Tensor) { const [x] = ctx.saved_tensors; return g.mul(x!.pow(2).mul(3)); }
    }
    const x = torch.tensor([0.3, -1.2], { dtype: 'float64', requires_grad: true });
    expect(torch.autograd.gradcheck((t) => Cube.apply(t), [x])).toBe(true);
  });
});

describe('gradients at non-differentiable points (as PyTorch)', () => {
  const at = (v: number[], f: (x: torch.Tensor) => torch.Tensor) => {
    const x = leaf(v);
    f(x).sum().backward();
    return flat(x.grad);
  };
  it('relu, abs at 0 give 0; sqrt at 0 gives inf; pow at 0', () => {
    expect(at([0], torch.relu)).toEqual([0]);
    expect(at([0], torch.abs)).toEqual([0]);
    expect(at([0], torch.sqrt)).toEqual([Infinity]);
    expect(at([0], (x) => x.pow(2))).toEqual([0]);
    expect(at([0], (x) => x.pow(0.5))).toEqual([Infinity]);
    expect(at([0], (x) => x.pow(0))).toEqual([0]);
  });

  it('pow with a tensor exponent: 0 where the exponent is 0, log-grad masked at base 0', () => {
    const b = leaf([0, 0, 2]);
    const e = leaf([0, 2, 0]);
    torch.pow(b, e).sum().backward();
    expect(flat(b.grad)).toEqual([0, 0, 0]); // PyTorch: [0, 0, 0]
    expect(flat(e.grad)![2]).toBeCloseTo(Math.log(2), 6);
    expect(flat(e.grad)!.slice(0, 2)).toEqual([0, 0]);
  });

  it('maximum/minimum ties split the gradient evenly', () => {
    const a = leaf([1, 2, 3]);
    const b = leaf([1, 3, 2]);
    torch.maximum(a, b).sum().backward();
    expect([flat(a.grad), flat(b.grad)]).toEqual([[0.5, 0, 1], [0.5, 1, 0]]);
    a.grad = null; b.grad = null;
    torch.minimum(a, b).sum().backward();
    expect([flat(a.grad), flat(b.grad)]).toEqual([[0.5, 1, 0], [0.5, 0, 1]]);
  });

  it('amax/max() ties share evenly; max(dim) sends it to the first index', () => {
    const x = torch.tensor([[1, 3, 3], [2, 2, 2]], { requires_grad: true });
    x.amax(1).sum().backward();
    expect(flat(x.grad)).toEqual([0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    x.grad = null;
    x.max().backward();
    expect(flat(x.grad)).toEqual([0, 0.5, 0.5, 0, 0, 0]);
    x.grad = null;
    const { values, indices } = x.max(1);
    expect(flat(indices)).toEqual([1, 0]);
    values.sum().backward();
    expect(flat(x.grad)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it('clamp passes the gradient at its bounds (inclusive)', () => {
    expect(at([0, 0.5, 1, -1, 2], (x) => x.clamp({ min: 0, max: 1 }))).toEqual([1, 1, 1, 0, 0]);
    expect(at([0, 0.5, 1, -1, 2], (x) => x.clamp({ min: 0 }))).toEqual([1, 1, 1, 0, 1]);
  });
});
