/**
 * The seed's GuidedBackprop class (examples/guided_backprop.ts, ported line for line) on a small Sequential CNN with weights
 * exported from PyTorch (scripts/make_hook_goldens.py): same logits, same guided input gradient.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import * as nn from '@gradlens/nn';
import { GuidedBackprop } from '../../../examples/guided_backprop.ts';
import { fromJson, loadFixture, relErr, type TJson } from './_fixtures.ts';

interface Golden {
  state_dict: Record<string, TJson>;
  input: TJson;
  target_class: number;
  logits: TJson;
  guided_grads: TJson;
  repr: string;
}

function buildModel(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(3, 6, 3, { padding: 1 }), new nn.BatchNorm2d(6), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 8, 3, { stride: 1, padding: 1, bias: false }), new nn.ReLU(), new nn.AvgPool2d(2),
    new nn.Conv2d(8, 8, 1), new nn.ReLU({ inplace: false }), new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(8, 5),
  );
}

describe('GuidedBackprop (seed) vs PyTorch', () => {
  const g = loadFixture<Golden>('guided_backprop.json');

  it('prints like PyTorch', () => {
    expect(buildModel().toString()).toBe(g.repr);
  });

  it('gives the same logits and guided input gradient', () => {
    const model = buildModel();
    const sd = Object.fromEntries(Object.entries(g.state_dict).map(([k, v]) => [k, fromJson(v)]));
    model.load_state_dict(sd);
    const x = fromJson(g.input, { requires_grad: true });
    const GBP = new GuidedBackprop(model);
    const logits = torch.no_grad(() => model(x));
    expect(relErr(logits, g.logits)).toBeLessThan(1e-5);
    const arr = GBP.generate_gradients(x, g.target_class);
    expect(arr.shape).toEqual(g.guided_grads.shape);
    const got = torch.from_numpy(arr).contiguous();
    expect(relErr(got, g.guided_grads)).toBeLessThan(1e-5);
    // x.grad is the same guided gradient; an unhooked copy of the model gives a different (vanilla) one
    expect(relErr(x.grad!.select(0, 0), g.guided_grads)).toBeLessThan(1e-5);
    const plain = buildModel();
    plain.load_state_dict(sd);
    plain.eval();
    const x2 = fromJson(g.input, { requires_grad: true });
    plain(x2).select(1, g.target_class).sum().backward();
    expect(relErr(x2.grad!.select(0, 0), g.guided_grads)).toBeGreaterThan(1e-3);
  });
});
