/**
 * Builds the model once (per worker): architecture, weights, labels, the
 * preprocessing that goes with it, and the explainer (guided or vanilla).
 * Weights that cannot be read or do not fit the architecture throw
 * {@link ModelLoadError} (one line; exit code 2).
 */
import { statSync } from 'node:fs';

import type { Tensor } from '@gradlens/core';
import * as nn from './nn_api.ts';
import * as viz from '@gradlens/viz';
import type { Image } from '@gradlens/viz';

import { GuidedBackprop, VanillaBackprop } from './backprop.ts';
import type { ExplainableModel, Explainer } from './backprop.ts';
import { describe_error, ModelLoadError } from './errors.ts';
import type { RunConfig } from './setup.ts';

export interface Preprocessed {
  /** 1×3×H×W float32, requires_grad. */
  tensor: Tensor;
  /** The input as the network sees it (before normalization), for the report. */
  display: Image;
}

export interface ModelContext {
  /** `face-expression`, `resnet50`, ... */
  name: string;
  model: ExplainableModel;
  labels: string[];
  preprocess(image: Image): Preprocessed;
  explainer: Explainer;
  /** Milliseconds spent building the model and loading its weights. */
  load_ms: number;
  /** Where the weights came from. */
  weights: string;
}

type TorchvisionName = 'alexnet' | 'vgg16' | 'resnet18' | 'resnet50';

// The nn package is typed loosely here on purpose: only the PyTorch-shaped surface is used.
interface AnyModule extends ExplainableModel {
  children(): AnyModule[];
  to(device: string): unknown;
  requires_grad_(requires_grad?: boolean): unknown;
  load_state_dict(sd: Record<string, Tensor>, opts?: { strict?: boolean }): unknown;
  state_dict(): Record<string, Tensor>;
  [k: string]: unknown;
}

/** face-api's preprocessing; the padded, resized pixels are also what the report shows. */
function face_preprocess(image: Image): Preprocessed {
  const hwc = nn.models.face_expression_resize(image);
  const px = new Uint8Array(hwc.length);
  for (let i = 0; i < hwc.length; i++) px[i] = Math.max(0, Math.min(255, Math.round(hwc[i]!)));
  const s = nn.models.FACE_EXPRESSION_INPUT_SIZE;
  return {
    tensor: nn.models.face_expression_tensor(nn.models.face_expression_normalize(hwc)),
    display: viz.make_image('RGB', s, s, px),
  };
}

/**
 * torchvision's VGG/AlexNet are `features → avgpool → flatten → classifier`, so their
 * `children()[0]` is the `features` Sequential, and a legacy backward hook on it would
 * see the last pooling layer, not the image. The same modules (shared weights, shared
 * ReLU instances) laid out flat make `children()[0]` the first convolution, as the
 * seed's GuidedBackprop expects — the forward computation is unchanged.
 */
function flat_for_hooks(model: AnyModule): AnyModule {
  const features = model['features'] as AnyModule;
  const classifier = model['classifier'] as AnyModule;
  const avgpool = model['avgpool'] as AnyModule;
  const parts = [...features.children(), avgpool, new nn.Flatten(), ...classifier.children()] as unknown as nn.Module[];
  return new nn.Sequential(...parts) as unknown as AnyModule;
}

function listKeys(keys: string[], max = 3): string {
  const shown = keys.slice(0, max).map((k) => `'${k}'`).join(', ');
  return keys.length > max ? `${shown}, ... (${keys.length} in all)` : shown;
}

/** A one-line summary of why `sd` cannot be loaded strictly into a model whose state dict is `own`; null when it fits. */
export function state_dict_mismatch(own: Record<string, Tensor>, sd: Record<string, Tensor>): string | null {
  const missing = Object.keys(own).filter((k) => !(k in sd));
  const unexpected = Object.keys(sd).filter((k) => !(k in own));
  const sizes = Object.keys(own)
    .filter((k) => k in sd && (own[k]!.shape.length !== sd[k]!.shape.length || own[k]!.shape.some((d, i) => d !== sd[k]!.shape[i])))
    .map((k) => `size mismatch for ${k}: [${sd[k]!.shape.join(', ')}] in the file, [${own[k]!.shape.join(', ')}] in the model`);
  const parts: string[] = [];
  if (sizes.length > 0) parts.push(sizes.length > 2 ? `${sizes.slice(0, 2).join('; ')}; ... (${sizes.length} size mismatches)` : sizes.join('; '));
  if (missing.length > 0) parts.push(`missing key(s) ${listKeys(missing)}`);
  if (unexpected.length > 0) parts.push(`unexpected key(s) ${listKeys(unexpected)}`);
  return parts.length > 0 ? parts.join('; ') : null;
}

function load_face_expression(cfg: RunConfig): { model: AnyModule; weights: string } {
  try {
    const manifest = cfg.weights ?? nn.models.face_expression_manifest_path();
    const model = nn.models.face_expression({ manifest }) as unknown as AnyModule;
    return { model, weights: manifest };
  } catch (e) {
    const msg = describe_error(e);
    const from = cfg.weights && !msg.includes(cfg.weights) ? ` from ${cfg.weights}` : '';
    throw new ModelLoadError(`cannot load the face-expression weights${from}: ${msg}`);
  }
}

function load_torchvision(cfg: RunConfig, name: TorchvisionName): { model: AnyModule; weights: string } {
  const path = cfg.weights!;
  try {
    if (statSync(path).isDirectory()) throw new ModelLoadError(`--weights ${path}: is a directory, expected a .safetensors file`);
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`--weights: ${describe_error(e)}`);
  }
  const factory = (nn.models as unknown as Record<string, (o: { num_classes: number }) => AnyModule>)[name];
  if (typeof factory !== 'function') throw new ModelLoadError(`model ${name} is not available in @gradlens/nn`);
  // read the file first: a broken file fails fast, before the (slow) architecture init
  let sd: Record<string, Tensor>;
  try {
    sd = nn.load_safetensors(path);
  } catch (e) {
    throw new ModelLoadError(`--weights ${path}: ${describe_error(e)}`);
  }
  // Every parameter and buffer is loaded (strictly) below: skip the random init, which would be
  // overwritten (for resnet50 it is most of the model-building time).
  const model = nn.init.skip_init(() => factory({ num_classes: cfg.num_classes }));
  const problem = state_dict_mismatch(model.state_dict(), sd);
  if (problem) {
    const hint = /size mismatch for (fc|classifier\.6)\.(weight|bias)/.test(problem) ? ' (for a fine-tuned model, pass --num-classes N or --labels FILE)' : '';
    throw new ModelLoadError(`--weights ${path} do not fit ${name} with ${cfg.num_classes} classes: ${problem}${hint}`);
  }
  try {
    model.load_state_dict(sd);
  } catch (e) {
    throw new ModelLoadError(`--weights ${path} do not fit ${name} with ${cfg.num_classes} classes: ${describe_error(e)}`);
  }
  return { model: name === 'alexnet' || name === 'vgg16' ? flat_for_hooks(model) : model, weights: path };
}

/** Builds the model, its preprocessing and explainer for `cfg`. */
export function load_model_context(cfg: RunConfig): ModelContext {
  const t0 = performance.now();
  // Start the conv engine now: its helper thread spins up and warms its JIT on the other core
  // while this one reads the weights, instead of during the first image's forward pass.
  try {
    nn.kernels.convEngineReady();
  } catch {
    // no engine: the kernels fall back on their own
  }
  const { model, weights } = cfg.model === 'face-expression' ? load_face_expression(cfg) : load_torchvision(cfg, cfg.model);
  model.eval();
  // The kernel backend of every layer (--device; `auto` was resolved, and the backend loaded, before).
  model.to(cfg.device);
  // The CLI reads only the gradient w.r.t. the image: with the parameters frozen, backward skips
  // every weight/bias gradient (a third of the conv work) and the image gradient is unchanged.
  model.requires_grad_(false);
  const preprocess =
    cfg.model === 'face-expression'
      ? face_preprocess
      : (image: Image): Preprocessed => ({
          tensor: viz.preprocess_image(image),
          display: viz.resize(image.mode === 'RGB' ? image : viz.convert_image(image, 'RGB'), [224, 224], 'lanczos'),
        });
  const explainer: Explainer = cfg.method === 'guided' ? new GuidedBackprop(model) : new VanillaBackprop(model);
  return {
    name: cfg.model,
    model,
    labels: cfg.labels,
    preprocess,
    explainer,
    load_ms: performance.now() - t0,
    weights,
  };
}
