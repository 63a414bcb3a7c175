/**
 * The two explainers. Guided backprop is the very class of
 * `examples/guided_backprop.ts` (the seed notebook's `GuidedBackprop`, ported
 * line for line); vanilla backprop is the pytorch-cnn-visualizations
 * `VanillaBackprop` in the same spirit: the plain gradient of the target
 * class score w.r.t. the (normalized) input image, read from `input.grad`.
 */
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';

import { GuidedBackprop } from '../../../examples/guided_backprop.ts';

export { GuidedBackprop };

/**
 * Runs `fn` with `model`'s next forward on exactly `input` answered by `output` — the result of
 * an earlier forward of the same model on the same input, recorded with autograd (grad mode on,
 * after the explainer's hooks were registered). So an explainer that runs its own forward
 * (the seed's `generate_gradients`) reuses the forward the prediction already paid for instead of
 * computing the same values a second time; the graph, hooks and gradients are the same. Any other
 * call goes to the model's own forward; the model is left as it was.
 */
export function with_forward_output<T>(model: ExplainableModel, input: Tensor, output: Tensor, fn: () => T): T {
  const m = model as unknown as { forward: (...args: unknown[]) => unknown };
  const own = Object.getOwnPropertyDescriptor(m, 'forward');
  const forward = m.forward;
  let used = false;
  Object.defineProperty(m, 'forward', {
    configurable: true,
    enumerable: false,
    writable: true,
    value(this: unknown, ...args: unknown[]): unknown {
      if (!used && args.length === 1 && args[0] === input && output.grad_fn !== null) {
        used = true;
        return output;
      }
      return forward.apply(this, args);
    },
  });
  try {
    return fn();
  } finally {
    if (own) Object.defineProperty(m, 'forward', own);
    else delete (m as { forward?: unknown }).forward;
  }
}

/** A scijs ndarray as core hands it out (`tensor.numpy()`). */
export type NdArray = ReturnType<Tensor['numpy']>;

/** A callable gradlens module, as far as the explainers need it. */
export interface ExplainableModel {
  (x: Tensor): Tensor;
  eval(): unknown;
  zero_grad(): void;
}

/** What both explainers offer: C×H×W gradient of class `target_class` w.r.t. the input. */
export interface Explainer {
  generate_gradients(input_image: Tensor, target_class: number): NdArray;
  /** The same for an image and model on a device: only the readback is asynchronous. */
  generate_gradients_async(input_image: Tensor, target_class: number): Promise<NdArray>;
}

/**
 * Produces gradients generated with vanilla back propagation from the image
 * (no ReLU hooks). Reads the gradient from the input leaf instead of a hook on
 * the first layer, so it is the exact input gradient for any architecture.
 */
export class VanillaBackprop implements Explainer {
  model: ExplainableModel;
  gradients: Tensor | null = null;

  constructor(model: ExplainableModel) {
    this.model = model;
    // Put model in evaluation mode
    this.model.eval();
  }

  generate_gradients(input_image: Tensor, target_class: number): NdArray {
    // [0] to get rid of the first channel (1,3,H,W)
    return this.backward_pass(input_image, target_class).data.numpy().pick(0);
  }

  async generate_gradients_async(input_image: Tensor, target_class: number): Promise<NdArray> {
    return (await this.backward_pass(input_image, target_class).cpu()).numpy().pick(0);
  }

  private backward_pass(input_image: Tensor, target_class: number): Tensor {
    // A fresh leaf, so gradients from earlier calls never accumulate into this one
    const input = input_image.detach().requires_grad_(true);
    // Forward
    const model_output = this.model(input);
    // Zero grads
    this.model.zero_grad();
    // Target for backprop (on the output's device)
    const one_hot_output = torch.zeros([1, model_output.size(-1)]);
    torch.setitem(one_hot_output, [0, target_class], 1);
    // Backward pass
    model_output.backward(one_hot_output.to(model_output.device));
    this.gradients = input.grad;
    if (this.gradients === null) throw new Error('VanillaBackprop: the input received no gradient');
    return this.gradients;
  }
}
