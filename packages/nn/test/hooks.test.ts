/**
 * Module hook rules, checked against PyTorch goldens (scripts/make_hook_goldens.py) where PyTorch
 * 1.13 has the feature, and against hand-derived expectations otherwise.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from '@gradlens/nn';
import type { Grads } from '@gradlens/nn';
import { _resetWarnings } from '@gradlens/core';
import { fromJson, loadFixture, relErr, type TJson } from './_fixtures.ts';

type Cases = {
  multi_op: { x: TJson; g_out: TJson; legacy_gi: TJson; legacy_go: TJson; legacy_n: number; legacy_warnings: string[]; full_gi: TJson; full_go: TJson; full_n: number; x_grad: TJson };
  relu_replace: { x: TJson; g_out: TJson; x_grad: TJson };
  full_replace: { x: TJson; g_out: TJson; x_grad: TJson };
  ordering: { events: string[] };
  reuse: { x: TJson; calls: { gi: TJson; go: TJson }[]; x_grad: TJson };
  forward_replace: { x: TJson; y: TJson };
  linear_conv_legacy: { weight: TJson; bias: TJson; x: TJson; lin_gi: TJson[]; lin_go: TJson; conv_gi_shapes: (number[] | null)[] };
  two_inputs: { a: TJson; b: TJson; gi: TJson[] };
};
const C = loadFixture<Cases>('hooks.json');
const TOL = 1e-5;

class MultiOp extends nn.Module {
  forward(x: Tensor): Tensor {
    return torch.sigmoid(x.mul(3.0));
  }
}

function captureWarnings(): { messages: string[]; restore: () => void } {
  _resetWarnings();
  const messages: string[] = [];
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((m: string | Error) => {
    messages.push(String(m));
  }) as typeof process.emitWarning);
  return { messages, restore: () => spy.mockRestore() };
}

afterEach(() => vi.restoreAllMocks());

describe('legacy register_backward_hook', () => {
  it('on a multi-op module sees only the last op, with PyTorch warning', () => {
    const c = C.multi_op;
    const w = captureWarnings();
    const x = fromJson(c.x, { requires_grad: true });
    const rec: { gi?: Grads; go?: Grads } = {};
    const m = new MultiOp();
    m.register_backward_hook((_m, gi, go) => {
      rec.gi = gi;
      rec.go = go;
    });
    m(x).backward(fromJson(c.g_out));
    w.restore();
    expect(rec.gi!.length).toBe(c.legacy_n);
    expect(relErr(rec.gi![0], c.legacy_gi)).toBeLessThan(TOL);
    expect(relErr(rec.go![0], c.legacy_go)).toBeLessThan(TOL);
    expect(w.messages).toEqual(c.legacy_warnings);
  });

  it('warns once per kind, and not for a ReLU fed by another op', () => {
    const w = captureWarnings();
    const r = new nn.ReLU();
    r.register_backward_hook(() => undefined);
    const x = torch.randn(3, { requires_grad: true });
    r(x.mul(2)).sum().backward();
    expect(w.messages).toEqual([]);
    const m = new MultiOp();
    m.register_backward_hook(() => undefined);
    m(x).sum().backward();
    m(x).sum().backward();
    w.restore();
    expect(w.messages.length).toBe(1);
  });

  it('replacement of grad_input on ReLU (clamp ×2) matches PyTorch', () => {
    const c = C.relu_replace;
    const x = fromJson(c.x, { requires_grad: true });
    const r = new nn.ReLU();
    r.register_backward_hook((_m, gi) => [torch.clamp(gi[0]!, { min: 0 }).mul(2)]);
    r(x.mul(1.5)).backward(fromJson(c.g_out));
    expect(relErr(x.grad, c.x_grad)).toBeLessThan(TOL);
  });

  it('fires once per use of a reused ReLU, each on its own grad_fn', () => {
    const c = C.reuse;
    const calls: { gi: Tensor; go: Tensor }[] = [];
    const relu = new nn.ReLU();
    relu.register_backward_hook((_m, gi, go) => {
      calls.push({ gi: gi[0]!, go: go[0]! });
    });
    class Reuse extends nn.Module {
      relu = relu;
      forward(x: Tensor): Tensor {
        return this.relu(this.relu(x).mul(-1.0).add(0.5)).mul(3.0);
      }
    }
    const x = fromJson(c.x, { requires_grad: true });
    new Reuse()(x).sum().backward();
    expect(calls.length).toBe(c.calls.length);
    calls.forEach((cl, i) => {
      expect(relErr(cl.gi, c.calls[i]!.gi)).toBeLessThan(TOL);
      expect(relErr(cl.go, c.calls[i]!.go)).toBeLessThan(TOL);
    });
    expect(relErr(x.grad, c.x_grad)).toBeLessThan(TOL);
  });

  it('Linear sees (bias, input, weight.t()) grads of AddmmBackward0; Conv2d (input, weight, bias) with nulls', () => {
    const c = C.linear_conv_legacy;
    const lin = new nn.Linear(3, 4);
    lin.load_state_dict({ weight: fromJson(c.weight), bias: fromJson(c.bias) });
    let gi: Grads = [];
    let go: Grads = [];
    lin.register_backward_hook((_m, a, b) => {
      gi = a;
      go = b;
    });
    const x = fromJson(c.x, { requires_grad: true });
    const y = lin(x);
    expect(y.grad_fn!.name()).toBe('AddmmBackward0');
    y.backward(torch.ones(2, 4));
    expect(gi.length).toBe(3);
    c.lin_gi.forEach((g, i) => expect(relErr(gi[i], g)).toBeLessThan(TOL));
    expect(relErr(go[0], c.lin_go)).toBeLessThan(TOL);
    const conv = new nn.Conv2d(2, 3, 3, { bias: false });
    let shapes: (number[] | null)[] = [];
    conv.register_backward_hook((_m, a) => {
      shapes = a.map((g) => g?.shape ?? null);
    });
    conv(torch.randn(1, 2, 4, 4)).sum().backward();
    expect(shapes).toEqual(c.conv_gi_shapes);
  });

  it('a handle removed after forward still fires (attached to that grad_fn); removed before forward does not', () => {
    const r = new nn.ReLU();
    let n = 0;
    const h = r.register_backward_hook(() => {
      n++;
    });
    const x = torch.randn(4, { requires_grad: true });
    const y = r(x.mul(1));
    h.remove();
    y.sum().backward();
    expect(n).toBe(1);
    r(x.mul(1)).sum().backward();
    expect(n).toBe(1);
  });

  it('cannot be mixed with full hooks on one module', () => {
    const m = new MultiOp();
    m.register_backward_hook(() => undefined);
    expect(() => m.register_full_backward_hook(() => undefined)).toThrow(
      'Cannot use both regular backward hooks and full backward hooks on a single Module. Please use only one of them.',
    );
    const m2 = new MultiOp();
    m2.register_full_backward_hook(() => undefined);
    expect(() => m2.register_backward_hook(() => undefined)).toThrow(/Cannot use both/);
  });
});

describe('full backward hooks', () => {
  it('see gradients w.r.t. the module input of a multi-op module (PyTorch values)', () => {
    const c = C.multi_op;
    const x = fromJson(c.x, { requires_grad: true });
    const rec: { gi?: Grads; go?: Grads } = {};
    const m = new MultiOp();
    m.register_full_backward_hook((_m, gi, go) => {
      rec.gi = gi;
      rec.go = go;
    });
    m(x).backward(fromJson(c.g_out));
    expect(rec.gi!.length).toBe(c.full_n);
    expect(relErr(rec.gi![0], c.full_gi)).toBeLessThan(TOL);
    expect(relErr(rec.go![0], c.full_go)).toBeLessThan(TOL);
    expect(relErr(x.grad, c.x_grad)).toBeLessThan(TOL);
  });

  it('replacement and removal match PyTorch', () => {
    const c = C.full_replace;
    const x = fromJson(c.x, { requires_grad: true });
    const m = new MultiOp();
    m.register_full_backward_hook((_m, gi) => [gi[0]!.mul(0.5)]);
    const h = m.register_full_backward_hook((_m, gi) => [gi[0]!.mul(100)]);
    h.remove();
    m(x).backward(fromJson(c.g_out));
    expect(relErr(x.grad, c.x_grad)).toBeLessThan(TOL);
  });

  it('give zeros for a tensor input not requiring grad (PyTorch 1.13) and null for non-tensors', () => {
    const c = C.two_inputs;
    class Two extends nn.Module<[Tensor, Tensor]> {
      forward(a: Tensor, b: Tensor): Tensor {
        return a.mul(b).add(a);
      }
    }
    let gi: Grads = [];
    const tw = new Two();
    tw.register_full_backward_hook((_m, g) => {
      gi = g;
    });
    tw(fromJson(c.a, { requires_grad: true }), fromJson(c.b)).sum().backward();
    c.gi.forEach((g, i) => expect(relErr(gi[i], g)).toBeLessThan(TOL));

    class Scaled extends nn.Module<[Tensor, number]> {
      forward(a: Tensor, k: number): Tensor {
        return a.mul(k);
      }
    }
    const s = new Scaled();
    s.register_full_backward_hook((_m, g) => {
      gi = g;
    });
    s(torch.ones(2, { requires_grad: true }), 3).sum().backward();
    expect(gi.length).toBe(2);
    expect(gi[1]).toBeNull();
    expect(gi[0]!.tolist()).toEqual([3, 3]);
  });

  it('run with all-null grad_input when no input requires grad', () => {
    const lin = new nn.Linear(2, 2);
    let seen: Grads | null = null;
    lin.register_full_backward_hook((_m, gi, go) => {
      seen = gi;
      expect(go[0]!.shape).toEqual([1, 2]);
    });
    lin(torch.ones(1, 2)).sum().backward();
    expect(seen).toEqual([null]);
  });

  it('reject in-place modification of the output or the input, with PyTorch error', () => {
    const msg = /^Output 0 of BackwardHookFunctionBackward is a view and is being modified inplace\. This view was created inside a custom Function/;
    const r = new nn.ReLU({ inplace: true });
    r.register_full_backward_hook(() => undefined);
    expect(() => r(torch.randn(3, { requires_grad: true }).mul(1))).toThrow(msg);
    const lin = new nn.Linear(3, 3);
    lin.register_full_backward_hook(() => undefined);
    const y = lin(torch.randn(2, 3));
    expect(() => y.add_(1)).toThrow(msg);
  });

  it('backward pre-hooks see and can replace grad_output (PyTorch 2.x API)', () => {
    const m = new MultiOp();
    const seen: number[][] = [];
    m.register_full_backward_pre_hook((_m, go) => {
      seen.push(go[0]!.shape);
      return [go[0]!.mul(0)];
    });
    const x = torch.randn(2, 3, { requires_grad: true });
    m(x).sum().backward();
    expect(seen).toEqual([[2, 3]]);
    expect(x.grad!.abs().sum().item()).toBe(0);
  });

  it('reused module fires once per use', () => {
    const relu = new nn.ReLU();
    let n = 0;
    relu.register_full_backward_hook(() => {
      n++;
    });
    const x = torch.randn(3, { requires_grad: true });
    relu(relu(x).mul(-1)).sum().backward();
    expect(n).toBe(2);
  });
});

describe('forward hooks', () => {
  it('pre-hook replaces input, forward hook replaces output (PyTorch values)', () => {
    const c = C.forward_replace;
    const m = new MultiOp();
    m.register_forward_pre_hook((_m, a) => [a[0].add(1.0)]);
    m.register_forward_hook((_m, _a, o) => o.mul(2.0));
    expect(relErr(m(fromJson(c.x)), c.y)).toBeLessThan(TOL);
  });

  it('a pre-hook returning a single tensor replaces the single argument', () => {
    const m = new MultiOp();
    m.register_forward_pre_hook(() => torch.zeros(2));
    expect(m(torch.ones(2)).tolist()).toEqual([0.5, 0.5]);
  });

  it('order: global hooks before the module ones, registration order otherwise (PyTorch)', () => {
    const events: string[] = [];
    class Lin extends nn.Module {
      forward(x: Tensor): Tensor {
        events.push('forward');
        return torch.tanh(x).mul(2.0);
      }
    }
    const lm = new Lin();
    const hs = [
      nn.modules.module.register_module_forward_pre_hook(() => void events.push('global_pre')),
      nn.modules.module.register_module_forward_hook(() => void events.push('global_fwd')),
      nn.modules.module.register_module_full_backward_hook(() => void events.push('global_bwd')),
    ];
    lm.register_forward_pre_hook(() => void events.push('pre1'));
    lm.register_forward_pre_hook(() => void events.push('pre2'));
    lm.register_forward_hook(() => void events.push('fwd1'));
    lm.register_forward_hook(() => void events.push('fwd2'));
    lm.register_full_backward_hook(() => void events.push('bwd1'));
    lm.register_full_backward_hook(() => void events.push('bwd2'));
    lm(torch.randn(2, { requires_grad: true })).sum().backward();
    for (const h of hs) h.remove();
    expect(events).toEqual(C.ordering.events);
    events.length = 0;
    lm(torch.randn(2));
    expect(events).toEqual(['pre1', 'pre2', 'forward', 'fwd1', 'fwd2']);
  });

  it('prepend, removal (also from inside a hook), with_kwargs, always_call', () => {
    const events: string[] = [];
    const m = new MultiOp();
    m.register_forward_hook(() => void events.push('a'));
    const hb: { h?: torch.RemovableHandle } = {};
    hb.h = m.register_forward_hook(() => {
      events.push('b');
      hb.h!.remove();
    });
    m.register_forward_hook(() => void events.push('first'), { prepend: true });
    m.register_forward_pre_hook((_m, args, kwargs): [[Tensor], nn.Kwargs] => {
      events.push(`kw:${Object.keys(kwargs).length}`);
      return [args, kwargs];
    }, { with_kwargs: true });
    m(torch.ones(1));
    m(torch.ones(1));
    expect(events).toEqual(['kw:0', 'first', 'a', 'b', 'kw:0', 'first', 'a']);

    class Boom extends nn.Module {
      forward(_x: Tensor): Tensor {
        throw new Error('boom');
      }
    }
    const b = new Boom();
    const seen: string[] = [];
    b.register_forward_hook(() => void seen.push('normal'));
    b.register_forward_hook((_m, _a, o) => void seen.push(`always:${String(o)}`), { always_call: true });
    expect(() => b(torch.ones(1))).toThrow('boom');
    expect(seen).toEqual(['always:undefined']);
  });

  it('global legacy and full module backward hooks cannot be mixed', () => {
    const h = nn.register_module_full_backward_hook(() => undefined);
    expect(() => nn.register_module_backward_hook(() => undefined)).toThrow(
      'Cannot use both regular backward hooks and full backward hooks as a global Module hook. Please use only one of them.',
    );
    h.remove();
  });

  it('global full backward pre-hooks run before module ones', () => {
    const events: string[] = [];
    const m = new MultiOp();
    m.register_full_backward_pre_hook(() => void events.push('own'));
    const h = nn.register_module_full_backward_pre_hook(() => void events.push('global'));
    m(torch.randn(2, { requires_grad: true })).sum().backward();
    h.remove();
    expect(events).toEqual(['global', 'own']);
  });
});
