/**
 * Hook laws, as properties over random small MLP graphs, plus the hook semantics checked against
 * PyTorch (order, leaf hooks before accumulation, replace-or-keep, errors naming the hook).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as torch from '../src/index.ts';
import { flat, gridArb } from './helpers.ts';

const RUNS = { numRuns: 30 };

/** A random two-layer net y = relu(x·W1 + b1)·W2 with an upstream gradient for y. */
interface Net { b: number; n: number; h: number; o: number; x: number[]; w1: number[]; b1: number[]; w2: number[]; gy: number[] }
const netArb: fc.Arbitrary<Net> = fc
  .record({ b: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 4 }), o: fc.integer({ min: 1, max: 3 }) })
  .chain((d) => fc.record({
    b: fc.constant(d.b), n: fc.constant(d.n), h: fc.constant(d.h), o: fc.constant(d.o),
    x: gridArb(d.b * d.n), w1: gridArb(d.n * d.h), b1: gridArb(d.h, 0.1, 0.025), w2: gridArb(d.h * d.o), gy: gridArb(d.b * d.o),
  }));

/** Where a hook goes in the net (each point's effect on which gradients is known). */
type Point = 'z' | 'a' | 'x' | 'w1' | 'relu_post' | 'relu_pre' | 'mm2_post';
const points: Point[] = ['z', 'a', 'x', 'w1', 'relu_post', 'relu_pre', 'mm2_post'];
/** Leaves whose gradients a scaling at each point affects (the others must stay bit-identical). */
const affected: Record<Point, string[]> = {
  z: ['x', 'w1', 'b1'], a: ['x', 'w1', 'b1'], relu_post: ['x', 'w1', 'b1'], relu_pre: ['x', 'w1', 'b1'],
  mm2_post: ['x', 'w1', 'b1'], x: ['x'], w1: ['w1'],
};

type Grads = Record<'x' | 'w1' | 'b1' | 'w2', number[] | null>;

/** Runs forward and backward in float32; `attach` may register hooks and returns handles. */
function run(net: Net, attach?: (t: Record<string, torch.Tensor>) => void): Grads {
  const x = torch.tensor(net.x, { shape: [net.b, net.n], requires_grad: true });
  const w1 = torch.tensor(net.w1, { shape: [net.n, net.h], requires_grad: true });
  const b1 = torch.tensor(net.b1, { shape: [net.h], requires_grad: true });
  const w2 = torch.tensor(net.w2, { shape: [net.h, net.o], requires_grad: true });
  const z = x.matmul(w1).add(b1);
  const a = torch.relu(z);
  const y = a.matmul(w2);
  attach?.({ x, w1, b1, w2, z, a, y });
  y.backward(torch.tensor(net.gy, { shape: [net.b, net.o] }));
  return { x: flat(x.grad), w1: flat(w1.grad), b1: flat(b1.grad), w2: flat(w2.grad) };
}

/** Registers `tensorHook` (or the node-hook equivalent) at `point`. */
function hookAt(point: Point, t: Record<string, torch.Tensor>, tensorHook: (g: torch.Tensor) => torch.Tensor | void): torch.RemovableHandle {
  switch (point) {
    case 'z': case 'a': case 'x': case 'w1':
      return t[point]!.register_hook(tensorHook);
    case 'relu_post':
      return t.a!.grad_fn!.register_hook((gi) => { const r = tensorHook(gi[0]!); return r ? [r] : undefined; });
    case 'relu_pre':
      return t.a!.grad_fn!.register_prehook((go) => { const r = tensorHook(go[0]!); return r ? [r] : undefined; });
    case 'mm2_post':
      return t.y!.grad_fn!.register_hook((gi) => { const r = tensorHook(gi[0]!); return r ? [r, gi[1]!] : undefined; });
  }
}

const pointArb = fc.constantFrom(...points);
const powerOfTwo = fc.constantFrom(2, 4, 0.5, 0.25, -2, -0.5);
const scaled = (g: number[] | null, k: number) => g && g.map((v) => v * k);
/** ±0 are equal for these laws (relu's mask writes +0 where k·0 may be −0). */
const unsigned = (g: number[] | null) => g && g.map((v) => (v === 0 ? 0 : v));

describe('hook laws (properties over random nets)', () => {
  it('a hook returning nothing leaves every gradient bit-identical', () => {
    fc.assert(fc.property(netArb, pointArb, (net, point) => {
      let calls = 0;
      expect(run(net, (t) => hookAt(point, t, () => { calls++; }))).toEqual(run(net));
      expect(calls).toBe(1);
    }), RUNS);
  });

  it('a hook returning its input leaves every gradient bit-identical', () => {
    fc.assert(fc.property(netArb, pointArb, (net, point) => {
      expect(run(net, (t) => hookAt(point, t, (g) => g))).toEqual(run(net));
    }), RUNS);
  });

  it('a hook scaling by k scales exactly the affected gradients; the rest stay bit-identical', () => {
    // k a power of two: scaling then commutes exactly with every float op downstream.
    fc.assert(fc.property(netArb, pointArb, powerOfTwo, (net, point, k) => {
      const vanilla = run(net);
      const hooked = run(net, (t) => hookAt(point, t, (g) => g.mul(k)));
      for (const name of ['x', 'w1', 'b1', 'w2'] as const) {
        const expected = affected[point].includes(name) ? scaled(vanilla[name], k) : vanilla[name];
        expect([name, unsigned(hooked[name])]).toEqual([name, unsigned(expected)]);
      }
    }), RUNS);
  });

  it('removing a hook restores vanilla gradients', () => {
    fc.assert(fc.property(netArb, pointArb, (net, point) => {
      const grads = run(net, (t) => {
        hookAt(point, t, (g) => g.mul(3)).remove();
      });
      expect(grads).toEqual(run(net));
    }), RUNS);
  });

  it('N hooks compose in registration order', () => {
    const affine = fc.record({ k: fc.constantFrom(2, -1, 0.5), c: fc.constantFrom(0.25, -1, 0) });
    fc.assert(fc.property(netArb, fc.constantFrom<Point>('z', 'a', 'x', 'w1'), fc.array(affine, { minLength: 1, maxLength: 4 }), (net, point, fs) => {
      const order: number[] = [];
      const multi = run(net, (t) => fs.forEach(({ k, c }, i) => hookAt(point, t, (g) => { order.push(i); return g.mul(k).add(c); })));
      const composed = run(net, (t) => hookAt(point, t, (g) => fs.reduce((acc, { k, c }) => acc.mul(k).add(c), g)));
      expect(order).toEqual(fs.map((_, i) => i));
      expect(multi).toEqual(composed);
    }), RUNS);
  });

  it('clamping grad_inputs of a ReLU node to ≥ 0 is exactly the guided-backprop rule', () => {
    fc.assert(fc.property(netArb, (net) => {
      let gradA: torch.Tensor | null = null;
      let gradZ: torch.Tensor | null = null;
      let zVal: torch.Tensor | null = null;
      run(net, (t) => {
        zVal = t.z!.detach();
        t.a!.register_hook((g) => { gradA = g; });
        t.a!.grad_fn!.register_hook((gi) => [torch.clamp(gi[0]!, { min: 0 })]);
        t.z!.register_hook((g) => { gradZ = g; });
      });
      // Guided rule: gradient passes where the ReLU input > 0 AND the incoming gradient > 0.
      const z = flat(zVal)!;
      const ga = flat(gradA)!;
      const expected = ga.map((g, i) => (z[i]! > 0 && g > 0 ? g : 0));
      expect(flat(gradZ)).toEqual(expected);
    }), RUNS);
  });
});

describe('hook semantics (as PyTorch)', () => {
  it('order: tensor hook, node pre-hook, node post-hook, then the leaf hook before accumulation', () => {
    const log: string[] = [];
    const x = torch.tensor([1, 2], { requires_grad: true });
    const y = x.mul(2);
    y.retain_grad();
    y.register_hook((g) => { log.push('tensor_hook'); return g.mul(10); });
    y.grad_fn!.register_prehook(() => { log.push('node_prehook'); });
    y.grad_fn!.register_hook(() => { log.push('node_posthook'); });
    x.register_hook(() => { log.push(`leaf_hook grad_is_null=${x.grad === null}`); });
    y.sum().backward();
    expect(log).toEqual(['tensor_hook', 'node_prehook', 'node_posthook', 'leaf_hook grad_is_null=true']);
    expect(flat(x.grad)).toEqual([20, 20]);
    // PyTorch 2.x: retain_grad's hook runs after all other tensor hooks (1.13 gave [1, 1]).
    expect(flat(y.grad)).toEqual([10, 10]);
  });

  it('a leaf hook replaces what is accumulated; post-accumulate hooks see the accumulated .grad', () => {
    const x = torch.tensor([1, 2], { requires_grad: true });
    const seen: number[][] = [];
    x.register_hook((g) => g.add(1));
    x.register_post_accumulate_grad_hook((t) => { seen.push(flat(t.grad)!); });
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    expect(seen).toEqual([[4, 4], [8, 8]]);
    expect(() => x.mul(2).register_post_accumulate_grad_hook(() => {})).toThrow(/non-leaf/);
  });

  it('node post-hook: nothing keeps grad_inputs, an array replaces them', () => {
    const x = torch.tensor([1, -2], { requires_grad: true });
    x.relu().grad_fn!.register_hook(() => undefined);
    const y = x.relu();
    y.grad_fn!.register_hook(() => null);
    y.sum().backward();
    expect(flat(x.grad)).toEqual([1, 0]);
    x.grad = null;
    const y2 = x.relu();
    y2.grad_fn!.register_hook((gi) => [gi[0]!.mul(3)]);
    y2.sum().backward();
    expect(flat(x.grad)).toEqual([3, 0]); // PyTorch: [3.0, 0.0]
  });

  it('node pre-hook replaces grad_outputs before the node runs', () => {
    const x = torch.tensor([1, 2], { requires_grad: true });
    const y = x.mul(x);
    y.grad_fn!.register_prehook((go) => [go[0]!.mul(-1)]);
    y.sum().backward();
    expect(flat(x.grad)).toEqual([-2, -4]);
  });

  it('a grad_inputs slot of a non-tensor operand is null (x * 2 has two grad_inputs)', () => {
    const x = torch.tensor([1], { requires_grad: true });
    const y = x.mul(2);
    let seen: (torch.Tensor | null)[] = [];
    y.grad_fn!.register_hook((gi) => { seen = gi; });
    y.backward(torch.ones(1));
    expect(seen.length).toBe(2);
    expect(seen[1]).toBeNull();
  });

  it('replacements of the wrong shape or count raise errors naming the hook', () => {
    const mk = () => { const x = torch.tensor([1, 2], { requires_grad: true }); return { x, y: x.relu() }; };
    let t = mk();
    t.y.register_hook(function badShape() { return torch.ones(3); });
    expect(() => t.y.sum().backward()).toThrow(/hook 'badShape' has changed the size of value 0/);
    t = mk();
    t.y.grad_fn!.register_hook(function twoGrads(gi) { return [gi[0]!, gi[0]!]; });
    expect(() => t.y.sum().backward()).toThrow(/hook 'twoGrads' has returned an incorrect number of values \(got 2, but expected 1\)/);
    t = mk();
    t.y.grad_fn!.register_prehook(function wrongShape() { return [torch.ones(5)]; });
    expect(() => t.y.sum().backward()).toThrow(/hook 'wrongShape' has changed the size of value 0/);
    t = mk();
    t.y.grad_fn!.register_hook(() => [torch.ones(2, 2)]);
    expect(() => t.y.sum().backward()).toThrow(/hook '<anonymous>'/);
    t = mk();
    t.y.register_hook(function notATensor() { return 3 as unknown as torch.Tensor; });
    expect(() => t.y.sum().backward()).toThrow(/hook 'notATensor' has returned a value that is not a Tensor/);
  });

  it('removing a hook during backward is safe and takes effect for hooks not yet run', () => {
    const x = torch.tensor([1], { requires_grad: true });
    const y = x.mul(2);
    const calls: string[] = [];
    let h2: torch.RemovableHandle | null = null;
    y.register_hook(() => { calls.push('h1'); h2!.remove(); });
    h2 = y.register_hook((g) => { calls.push('h2'); return g.mul(100); });
    const self = y.register_hook(() => { calls.push('h3'); self.remove(); });
    y.sum().backward(null, { retain_graph: true });
    expect(calls).toEqual(['h1', 'h3']);
    expect(flat(x.grad)).toEqual([2]);
    calls.length = 0;
    y.sum().backward();
    expect(calls).toEqual(['h1']); // h3 removed itself; remove() is idempotent
    h2.remove();
  });

  it('hooks on a leaf outside autograd.grad\'s inputs do not fire (that node does not run)', () => {
    const x = torch.tensor([1], { requires_grad: true });
    const w = torch.tensor([1], { requires_grad: true });
    let fired = false;
    w.register_hook(() => { fired = true; });
    torch.autograd.grad(x.mul(w).sum(), x);
    expect(fired).toBe(false);
  });

  it('a tensor hook on an autograd.grad input changes what is returned', () => {
    const x = torch.tensor([1, 2], { requires_grad: true });
    x.register_hook((g) => g.mul(5));
    const [g] = torch.autograd.grad(x.mul(x).sum(), x);
    expect(flat(g!)).toEqual([10, 20]);
    expect(x.grad).toBeNull();
  });

  it('a gradient a hook kept is never adopted as a leaf\'s .grad (later accumulation cannot mutate it)', () => {
    const x = torch.tensor([1, 2], { requires_grad: true });
    const saved: torch.Tensor[] = [];
    x.register_hook((g) => { saved.push(g); });
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    expect(flat(saved[0]!)).toEqual([3, 3]); // PyTorch keeps [3, 3]
    expect(flat(x.grad)).toEqual([6, 6]);

    // The seed's pattern: a post-hook on the first layer stores grad_inputs[0].
    const img = torch.tensor([[0.5, -1]], { requires_grad: true });
    const w = torch.tensor([[1, 2], [3, 4]]);
    let stored: torch.Tensor | null = null;
    const first = img.matmul(w);
    first.grad_fn!.register_hook((gi) => { stored = gi[0]; });
    first.backward(torch.tensor([[1, 0]]), { retain_graph: true });
    const firstStored: torch.Tensor = stored!;
    const kept = flat(firstStored);
    first.backward(torch.tensor([[0, 1]]));
    expect(flat(firstStored)).toEqual(kept);
    expect(flat(img.grad)).toEqual([1 + 2, 3 + 4]);
  });

  it('register_hook needs requires_grad; handles are distinct', () => {
    expect(() => torch.ones(2).register_hook(() => {})).toThrow(/doesn't require gradient/);
    const x = torch.ones(2, { requires_grad: true });
    const a = x.register_hook(() => {});
    const b = x.register_hook(() => {});
    expect(a.id).not.toBe(b.id);
  });
});

describe('saved_tensors_hooks', () => {
  it('pack runs at save time, unpack at backward; results are unchanged', () => {
    const x = torch.tensor([1, 2, 3], { requires_grad: true });
    const packed: number[][] = [];
    let unpacks = 0;
    const y = torch.autograd.graph.saved_tensors_hooks(
      (t) => { packed.push(flat(t)!); return t.detach().clone(); },
      (p) => { unpacks++; return p as torch.Tensor; },
      () => x.mul(x).sum(),
    );
    expect(packed).toEqual([[1, 2, 3], [1, 2, 3]]);
    y.backward();
    expect(unpacks).toBe(2);
    expect(flat(x.grad)).toEqual([2, 4, 6]);
  });
});
