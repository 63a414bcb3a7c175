/**
 * The seed's GuidedBackprop class, ported line for line, on a small Sequential CNN with weights
 * exported from PyTorch (scripts/make_hook_goldens.py): same logits, same guided input gradient.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from '@gradlens/nn';
import { ReLU } from '@gradlens/nn';
import type { Grads } from '@gradlens/nn';
import { fromJson, loadFixture, relErr, type TJson } from './_fixtures.ts';

interface Golden {
  state_dict: Record<string, TJson>;
  input: TJson;
  target_class: number;
  logits: TJson;
  guided_grads: TJson;
  repr: string;
}

class GuidedBackprop {
  model: nn.Module;
  gradients: Tensor | null;
  forward_relu_outputs: Tensor[];

  constructor(model: nn.Module) {
    this.model = model;
    this.gradients = null;
    this.forward_relu_outputs = [];
    // Put model in evaluation mode
    this.model.eval();
    this.update_relus();
    this.hook_layers();
  }

  hook_layers(): void {
    const hook_function = (module: nn.Module, grad_in: Grads, grad_out: Grads): void => {
      this.gradients = grad_in[0]!;
    };
    // Register hook to the first layer
    const first_layer = [...this.model.children()][0]!;
    first_layer.register_backward_hook(hook_function);
  }

  update_relus(): void {
    const relu_hook_function = (module: nn.Module, grad_in: Grads, grad_out: Grads): Grads | undefined => {
      if (module instanceof ReLU) {
        return [torch.clamp(grad_in[0]!, { min: 0.0 })];
      }
      return undefined;
    };
    // Loop through layers, hook up ReLUs with relu_hook_function
    for (const module of this.model.modules()) {
      if (module instanceof ReLU) {
        module.register_backward_hook(relu_hook_function);
      }
    }
  }

  generate_gradients(input_image: Tensor, target_class: number) {
    // Forward pass
    const model_output = this.model(input_image);
    // Zero gradients
    this.model.zero_grad();
    // Target for backprop
    const one_hot_output = torch.FloatTensor(1, model_output.size(-1)).zero_();
    one_hot_output.setitem([0, target_class], 1);
    // Backward pass
    model_output.backward(one_hot_output);
    // [0] to get rid of the first channel (1,3,224,224)
    const gradients_as_arr = this.gradients!.data.numpy().pick(0);
    return gradients_as_arr;
  }
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
