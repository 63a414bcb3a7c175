/**
 * # Guided Backpropagation Saliency Map
 *
 * The seed notebook (shared/seed/guided_backprop_saliency.md) ported line for line; read it next
 * to examples/guided_backprop.py (the same code in Python, runnable with PyTorch).
 *
 * ```sh
 * /usr/bin/python3 packages/nn/scripts/export_torchvision.py --model resnet50 --num-classes 7 \
 *     --seed 0 --out /tmp/resnet50_7.safetensors
 * node --import tsx examples/guided_backprop.ts --weights /tmp/resnet50_7.safetensors \
 *     packages/viz/test/fixtures/AF01HAHR.png [--target 0] [--compare /tmp/ref.safetensors]
 * ```
 *
 * Images go to `results/` (`<image>_Guided_BP_color.png`, `_Guided_BP_gray`, `_pos_sal`, `_neg_sal`).
 * Extra flags: `--device gpujs-webgpu` (the whole pass on a WebGPU adapter; see the README's
 * "On a GPU"), `--model` (resnet50), `--num-classes` (7), `--repeat N` times N more
 * generate_gradients calls (forward + backward), `--compare FILE` prints the max difference from
 * the input/logits/guided tensors saved by `guided_backprop.py --save-grads FILE`, and
 * `--save-grads FILE` saves this run's input/logits/guided tensors the same way.
 *
 * Importing this file gives the `GuidedBackprop` class only; the driver runs when it is the
 * entry point.
 */

// #### 1. Initial Set-Up
//
// Imports: the Python notebook's torch / torchvision.models / torch.nn.ReLU, and the
// pytorch-cnn-visualizations helpers (misc_functions.py) from @gradlens/viz.
// (examples/ is a workspace package, so the imports read as they would in your project.)

import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
/** scijs ndarray, the numpy array analogue (`tensor.numpy()`). */
type NdArray = ReturnType<Tensor['numpy']>;
import * as nn from '@gradlens/nn';
import { models } from '@gradlens/nn';
import { ReLU } from '@gradlens/nn';
import type { Grads } from '@gradlens/nn';
import {
  convert_to_grayscale, get_positive_negative_saliency, preprocess_image, read_image, save_gradient_images,
} from '@gradlens/viz';
import type { Image } from '@gradlens/viz';

/** A model the class can explain: any callable `nn.Module` (typed loosely so callers with their own module types can pass theirs). */
export interface GuidedBackpropModel {
  (input: Tensor): Tensor;
  eval(): unknown;
  zero_grad(): void;
}

// #### 2. Write the GuidedBackprop class.
//
// The code below is a class called GuidedBackProp which produces gradients generated with
// guided back propagation from the given image.

export class GuidedBackprop {
  /**
   * Produces gradients generated with guided back propagation from the given image
   */
  model: nn.Module;
  gradients: Tensor | null;
  forward_relu_outputs: Tensor[];

  constructor(model: GuidedBackpropModel) {
    this.model = model as unknown as nn.Module;
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
    const first_layer = this.model.children()[0]!;
    first_layer.register_backward_hook(hook_function);
  }

  update_relus(): void {
    /**
     * Updates relu activation functions so that it only returns positive gradients
     */
    const relu_hook_function = (module: nn.Module, grad_in: Grads, grad_out: Grads): Grads | undefined => {
      /**
       * If there is a negative gradient, changes it to zero
       */
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

  generate_gradients(input_image: Tensor, target_class: number): NdArray {
    this.backward_pass(input_image, target_class);

    // Convert Pytorch variable to numpy array
    // [0] to get rid of the first channel (1,3,224,224)
    const gradients_as_arr = this.gradients!.data.numpy().pick(0);
    return gradients_as_arr;
  }

  /**
   * `generate_gradients` for a model and image on a device (`model.to('gpujs-webgpu')`): the
   * forward and backward passes are the same synchronous code; only reading the gradient back
   * is asynchronous (PyTorch's `.cpu()`, awaited).
   */
  async generate_gradients_async(input_image: Tensor, target_class: number): Promise<NdArray> {
    this.backward_pass(input_image, target_class);
    return (await this.gradients!.cpu()).numpy().pick(0);
  }

  /** The notebook's forward and backward lines; the first layer's hook stores `this.gradients`. */
  backward_pass(input_image: Tensor, target_class: number): void {
    // Forward pass
    const model_output = this.model(input_image);

    // Zero gradients
    this.model.zero_grad();

    // Target for backprop
    const one_hot_output = torch.FloatTensor(1, model_output.size(-1)).zero_();
    torch.setitem(one_hot_output, [0, target_class], 1); // one_hot_output[0][target_class] = 1

    // Backward pass (the target goes where the output is, as `.to(device)` in PyTorch)
    model_output.backward(one_hot_output.to(model_output.device));
  }
}

// ---- get_params (pytorch-cnn-visualizations' get_example_params, taking the model) ----------

type ExampleList = [img_path: string, target_class: number][];

function get_params(
  example_index: number,
  model: nn.Module,
  example_list: ExampleList,
): [Image, Tensor, number, string, nn.Module] {
  const img_path = example_list[example_index]![0];
  const target_class = example_list[example_index]![1];
  const file_name_to_export = basename(img_path, extname(img_path));
  // Read image
  const original_image = read_image(img_path);
  // Process image (the face-expression stand-in has face-api's own preprocessing, 112x112)
  const prep_img =
    model instanceof models.FaceExpressionNet
      ? models.preprocess_face_expression(original_image, { requires_grad: true })
      : preprocess_image(original_image);
  const pretrained_model = model;
  return [original_image, prep_img, target_class, file_name_to_export, pretrained_model];
}

// ---- the driver ----------------------------------------------------------------------------

type TorchvisionName = 'alexnet' | 'vgg16' | 'resnet18' | 'resnet50';

/** The seed's fine-tuned ResNet-50 was never published: without `--weights` the bundled facial-expression CNN stands in. */
function load_model(name: TorchvisionName | 'face-expression', num_classes: number, weights: string | undefined): nn.Module {
  if (name === 'face-expression') return models.face_expression() as nn.Module;
  if (!weights) throw new Error(`--model ${name} needs --weights FILE.safetensors`);
  const model = models[name]({ num_classes }) as nn.Module;
  model.load_state_dict(nn.load_safetensors(weights));
  return model;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): [diff: number, scale: number] {
  if (a.length !== b.length) throw new Error(`size mismatch: ${a.length} vs ${b.length}`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return [d, m];
}

function flatOf(x: Tensor | NdArray): Float32Array {
  if (x instanceof torch.Tensor) return Float32Array.from(x.detach()._contiguousData());
  return Float32Array.from(torch.from_numpy(x).contiguous()._contiguousData());
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      weights: { type: 'string' },
      model: { type: 'string' },
      'num-classes': { type: 'string', default: '7' },
      target: { type: 'string' },
      repeat: { type: 'string', default: '0' },
      compare: { type: 'string' },
      'save-grads': { type: 'string' },
      'no-images': { type: 'boolean', default: false },
      device: { type: 'string', default: 'cpu' },
    },
  });
  if (positionals.length > 1) {
    console.error('usage: node --import tsx examples/guided_backprop.ts [IMAGE] [--model face-expression | --weights FILE.safetensors [--model resnet50] [--num-classes 7]] [--target 1] [--repeat N] [--compare REF.safetensors] [--save-grads OUT.safetensors] [--no-images] [--device cpu|gpujs-webgpu]');
    process.exit(2);
  }
  const model_name = (values.model ?? (values.weights ? 'resnet50' : 'face-expression')) as TorchvisionName | 'face-expression';
  const image_path = positionals[0] ?? fileURLToPath(new URL('AF01HAHR.png', import.meta.url));
  // The seed's example list: (image, target class); class 1 is 'happy' for the face-expression net.
  const target = Number(values.target ?? (model_name === 'face-expression' ? 1 : 0));
  const t_load = performance.now();
  const model = load_model(model_name, Number(values['num-classes']), values.weights);
  console.log(`loaded ${model_name}${values.weights ? ` from ${values.weights}` : ''} in ${(performance.now() - t_load).toFixed(0)} ms`);

  // #### 3. Perform Guided Backpropagation on the model.

  // Guided backprop
  const target_example = 0;
  const [original_image, prep_img, target_class, file_name_to_export, pretrained_model] =
    get_params(target_example, model, [[image_path, target]]);
  void original_image;
  void pretrained_model;

  const GBP = new GuidedBackprop(model);

  // --device gpujs-webgpu: PyTorch's `model.to(device)` and `image.to(device)`; values come back
  // with `await t.cpu()` (device readback is asynchronous), hence generate_gradients_async
  const device = await nn.resolve_device(values.device);
  model.to(device);
  const on_device = torch.get_device(device) !== null;
  const image = on_device ? prep_img.detach().to(device).requires_grad_() : prep_img;
  const gradients_of = (x: Tensor): Promise<NdArray> | NdArray =>
    on_device ? GBP.generate_gradients_async(x, target_class) : GBP.generate_gradients(x, target_class);

  // Get gradients
  // Retrieve output from the image
  const output = await model(image).detach().cpu(); // the notebook's `image` is the prep_img of an earlier cell

  // # Do backpropagation to get the derivative of the output based on the image
  const t0 = performance.now();
  const guided_grads = await gradients_of(image);
  const first_ms = performance.now() - t0;

  if (!values['no-images']) {
    // Save colored gradients
    save_gradient_images(guided_grads, file_name_to_export + '_Guided_BP_color');

    // Convert to grayscale
    const grayscale_guided_grads = convert_to_grayscale(guided_grads);

    // Save grayscale gradients
    save_gradient_images(grayscale_guided_grads, file_name_to_export + '_Guided_BP_gray');

    // Positive and negative saliency maps
    const [pos_sal, neg_sal] = get_positive_negative_saliency(guided_grads);
    save_gradient_images(pos_sal, file_name_to_export + '_pos_sal');
    save_gradient_images(neg_sal, file_name_to_export + '_neg_sal');
  }

  console.log(`Guided backprop completed (${device})`);
  const logits = Array.from(flatOf(output));
  console.log('logits', logits.map((v) => +v.toFixed(5)), 'max|grad|', flatOf(guided_grads).reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  console.log(`generate_gradients (forward+backward), first call: ${first_ms.toFixed(0)} ms`);

  if (values['save-grads']) {
    nn.save_safetensors(
      { input: prep_img.detach(), logits: output.detach(), guided: torch.from_numpy(guided_grads).contiguous() },
      values['save-grads'],
    );
  }

  const repeat = Number(values.repeat);
  if (repeat > 0) {
    const times: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const t = performance.now();
      await gradients_of(image);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`generate_gradients x${repeat}: min ${times[0]!.toFixed(0)} ms, median ${times[Math.floor(repeat / 2)]!.toFixed(0)} ms`);
  }

  if (values.compare) {
    const ref = nn.load_safetensors(values.compare);
    const [di, si] = maxAbsDiff(flatOf(prep_img), flatOf(ref.input!));
    console.log(`input (preprocess_image) vs PyTorch: max|diff| ${di.toExponential(3)} (max|x| ${si.toFixed(3)})`);
    const [dl, sl] = maxAbsDiff(flatOf(output), flatOf(ref.logits!));
    console.log(`logits vs PyTorch: max|diff| ${dl.toExponential(3)}, relative to max|logit| ${(dl / sl).toExponential(3)}`);
    const [dg, sg] = maxAbsDiff(flatOf(guided_grads), flatOf(ref.guided!));
    console.log(`guided gradients vs PyTorch: max|diff| ${dg.toExponential(3)}, relative to max|grad| ${(dg / sg).toExponential(3)}`);
    if (di > 0) {
      // Isolate the network from preprocessing: rerun on PyTorch's exact input tensor.
      const x = ref.input!.detach().clone().requires_grad_(true);
      const out2 = model(x);
      const g2 = GBP.generate_gradients(x, target_class);
      const [dl2, sl2] = maxAbsDiff(flatOf(out2), flatOf(ref.logits!));
      const [dg2, sg2] = maxAbsDiff(flatOf(g2), flatOf(ref.guided!));
      console.log(`on PyTorch's input tensor: logits rel ${(dl2 / sl2).toExponential(3)}, guided gradients max|diff| ${dg2.toExponential(3)} rel ${(dg2 / sg2).toExponential(3)}`);
    }
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
