/**
 * face-api's facial expression CNN (`@vladmandic/face-api`, MIT) as a gradlens module tree,
 * loading face-api's own tfjs weights. Architecture, weight mapping and preprocessing are
 * specified in FACE_EXPRESSION_NOTES.md; the logits match face-api's tfjs forward to ~1e-6.
 *
 * ```ts
 * const model = nn.models.face_expression();          // bundled weights
 * const x = nn.models.preprocess_face_expression(viz.read_image('face.png'));  // 1×3×112×112
 * const probs = torch.softmax(model(x), 1);            // FACE_EXPRESSION_LABELS order
 * ```
 *
 * Layout for hooks: `children()[0]` is the first convolution (3×3 stride 2, with TF's
 * asymmetric 'same' padding [top,bottom,left,right] = [0,1,0,1] inside the conv module) and
 * each of the 16 ReLUs is its own `nn.ReLU`, so the seed's GuidedBackprop works unchanged
 * (`list(model.children())[0]` + `model.modules()`). The dense blocks' skip connections are
 * plain tensor additions in `forward`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type { Tensor } from '@gradlens/core';

import { Module } from '../module.ts';
import { Conv2d } from '../layers/conv.ts';
import { ReLU } from '../layers/activation.ts';
import { Linear } from '../layers/linear.ts';
import { AvgPool2d } from '../layers/pooling.ts';
import { Parameter } from '../parameter.ts';
import * as torch from '@gradlens/core';
import {
  load_tfjs_weights,
  tf_same_padding,
  tfjs_conv_to_torch,
  tfjs_dense_to_torch,
  tfjs_depthwise_to_torch,
} from '../io/tfjs_weights.ts';
import type { TfjsWeight, TfjsWeightMap } from '../io/tfjs_weights.ts';
import { FACE_EXPRESSION_INPUT_SIZE, FACE_EXPRESSION_LABELS } from './face_expression_preprocess.ts';

export {
  FACE_EXPRESSION_INPUT_SIZE,
  FACE_EXPRESSION_LABELS,
  FACE_EXPRESSION_MEAN_RGB,
  face_expression_normalize,
  face_expression_resize,
  face_expression_tensor,
  preprocess_face_expression,
  preprocess_face_expression_array,
} from './face_expression_preprocess.ts';
export type { FacePreprocessOptions, ImageLike } from './face_expression_preprocess.ts';

type Pad4 = [number, number, number, number];

/** TF 'same' padding of a 3×3 conv on a square `size` input, as [top, bottom, left, right]. */
function same3(size: number, stride: number): Pad4 | number {
  const [a, b] = tf_same_padding(size, 3, stride);
  return a === b ? a : [a, b, a, b];
}

/**
 * tfjs `separableConv2d(x, depthwise, pointwise, stride, 'same') + bias`: a depthwise 3×3
 * convolution (no bias; the stride and TF 'same' padding) then a pointwise 1×1 with bias.
 */
export class SeparableConv2d extends Module {
  depthwise: Conv2d;
  pointwise: Conv2d;

  constructor(in_channels: number, out_channels: number, stride: number, in_size: number) {
    super();
    this.depthwise = new Conv2d(in_channels, in_channels, 3, { stride, padding: same3(in_size, stride), groups: in_channels, bias: false });
    this.pointwise = new Conv2d(in_channels, out_channels, 1);
  }

  forward(x: Tensor): Tensor {
    return this.pointwise(this.depthwise(x));
  }
}

/**
 * face-api's `denseBlock4` after its first convolution: given `out1` (the first conv's ReLU
 * output), three separable convs whose running sums feed the next one:
 * `in3 = relu(out1 + out2)`, `in4 = relu(out1 + (out2 + out3))`, `out = relu(out1 + (out2 + (out3 + out4)))`.
 */
export class DenseBlockTail extends Module {
  conv1: SeparableConv2d;
  relu1: ReLU;
  conv2: SeparableConv2d;
  relu2: ReLU;
  conv3: SeparableConv2d;
  relu3: ReLU;

  constructor(channels: number, size: number) {
    super();
    this.conv1 = new SeparableConv2d(channels, channels, 1, size);
    this.relu1 = new ReLU();
    this.conv2 = new SeparableConv2d(channels, channels, 1, size);
    this.relu2 = new ReLU();
    this.conv3 = new SeparableConv2d(channels, channels, 1, size);
    this.relu3 = new ReLU();
  }

  forward(out1: Tensor): Tensor {
    const out2 = this.conv1(out1);
    const in3 = this.relu1(out1.add(out2));
    const out3 = this.conv2(in3);
    const in4 = this.relu2(out1.add(out2.add(out3)));
    const out4 = this.conv3(in4);
    return this.relu3(out1.add(out2.add(out3.add(out4))));
  }
}

/** A whole `denseBlock4` with a stride-2 depthwise-separable first convolution (dense1..3). */
export class DenseBlock extends Module {
  conv0: SeparableConv2d;
  relu0: ReLU;
  tail: DenseBlockTail;

  constructor(in_channels: number, out_channels: number, in_size: number) {
    super();
    this.conv0 = new SeparableConv2d(in_channels, out_channels, 2, in_size);
    this.relu0 = new ReLU();
    this.tail = new DenseBlockTail(out_channels, Math.ceil(in_size / 2));
  }

  forward(x: Tensor): Tensor {
    return this.tail(this.relu0(this.conv0(x)));
  }
}

/**
 * The face expression net: input the normalized 1×3×112×112 tensor of
 * {@link preprocess_face_expression}, output the 7 logits (softmax them for face-api's
 * probabilities), in {@link FACE_EXPRESSION_LABELS} order.
 *
 * Children, in order: `conv0` (dense0's regular 3×3 stride-2 conv, pad [0,1,0,1]), `relu0`,
 * `dense0` (the rest of dense0), `dense1`..`dense3`, `avgpool` (7×7, stride 2), `fc`.
 */
export class FaceExpressionNet extends Module {
  conv0: Conv2d;
  relu0: ReLU;
  dense0: DenseBlockTail;
  dense1: DenseBlock;
  dense2: DenseBlock;
  dense3: DenseBlock;
  avgpool: AvgPool2d;
  fc: Linear;

  constructor() {
    super();
    const S = FACE_EXPRESSION_INPUT_SIZE;
    this.conv0 = new Conv2d(3, 32, 3, { stride: 2, padding: same3(S, 2) });
    this.relu0 = new ReLU();
    this.dense0 = new DenseBlockTail(32, S / 2);
    this.dense1 = new DenseBlock(32, 64, S / 2);
    this.dense2 = new DenseBlock(64, 128, S / 4);
    this.dense3 = new DenseBlock(128, 256, S / 8);
    this.avgpool = new AvgPool2d(7, { stride: 2 });
    this.fc = new Linear(256, FACE_EXPRESSION_LABELS.length);
  }

  forward(x: Tensor): Tensor {
    x = this.dense0(this.relu0(this.conv0(x)));
    x = this.dense1(x);
    x = this.dense2(x);
    x = this.dense3(x);
    x = this.avgpool(x);
    return this.fc(x.flatten(1));
  }
}

/** The weights manifest bundled with the installed `@vladmandic/face-api` package. */
export function face_expression_manifest_path(): string {
  const req = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = req.resolve('@vladmandic/face-api/package.json');
  } catch {
    throw new Error('face_expression: the @vladmandic/face-api package (which holds the weights) is not installed; run pnpm install');
  }
  const manifest = join(dirname(pkg), 'model', 'face_expression_model-weights_manifest.json');
  if (!existsSync(manifest)) throw new Error(`face_expression: ${manifest} is missing from the installed @vladmandic/face-api`);
  return manifest;
}

function take(w: TfjsWeightMap, name: string, shape: readonly number[], used: Set<string>, source: string): TfjsWeight {
  const t = w.get(name);
  if (!t) throw new Error(`face_expression weights (${source}): missing tensor '${name}'`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`face_expression weights (${source}): '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  used.add(name);
  return t;
}

function assign(p: Parameter | null, w: TfjsWeight, what: string): void {
  if (!p) throw new Error(`face_expression: ${what} has no parameter`);
  const shape = p.shape;
  if (shape.length !== w.shape.length || shape.some((d, i) => d !== w.shape[i])) {
    throw new Error(`face_expression: ${what} expects [${shape.join(', ')}], converted weight is [${w.shape.join(', ')}]`);
  }
  const src = torch.zeros(w.shape);
  (src.numpy().data as Float32Array).set(w.data);
  torch.no_grad(() => p.copy_(src));
}

/**
 * Loads face-api's tfjs weights (already decoded, tfjs layouts) into a {@link FaceExpressionNet},
 * converting layouts (FACE_EXPRESSION_NOTES.md §2). Every tensor must be present with its exact
 * shape, and none may be left over.
 */
export function load_face_expression_weights(model: FaceExpressionNet, w: TfjsWeightMap, source = '<weights>'): void {
  const used = new Set<string>();
  const conv = (m: Conv2d, name: string, cin: number, cout: number): void => {
    assign(m.weight, tfjs_conv_to_torch(take(w, `${name}/filters`, [3, 3, cin, cout], used, source)), `${name}/filters`);
    assign(m.bias, take(w, `${name}/bias`, [cout], used, source), `${name}/bias`);
  };
  const sep = (m: SeparableConv2d, name: string, cin: number, cout: number): void => {
    assign(m.depthwise.weight, tfjs_depthwise_to_torch(take(w, `${name}/depthwise_filter`, [3, 3, cin, 1], used, source)), `${name}/depthwise_filter`);
    assign(m.pointwise.weight, tfjs_conv_to_torch(take(w, `${name}/pointwise_filter`, [1, 1, cin, cout], used, source)), `${name}/pointwise_filter`);
    assign(m.pointwise.bias, take(w, `${name}/bias`, [cout], used, source), `${name}/bias`);
  };
  const tail = (t: DenseBlockTail, block: string, c: number): void => {
    sep(t.conv1, `${block}/conv1`, c, c);
    sep(t.conv2, `${block}/conv2`, c, c);
    sep(t.conv3, `${block}/conv3`, c, c);
  };
  conv(model.conv0, 'dense0/conv0', 3, 32);
  tail(model.dense0, 'dense0', 32);
  const blocks: [DenseBlock, string, number, number][] = [
    [model.dense1, 'dense1', 32, 64],
    [model.dense2, 'dense2', 64, 128],
    [model.dense3, 'dense3', 128, 256],
  ];
  for (const [b, name, cin, cout] of blocks) {
    sep(b.conv0, `${name}/conv0`, cin, cout);
    tail(b.tail, name, cout);
  }
  const n = FACE_EXPRESSION_LABELS.length;
  assign(model.fc.weight, tfjs_dense_to_torch(take(w, 'fc/weights', [256, n], used, source)), 'fc/weights');
  assign(model.fc.bias, take(w, 'fc/bias', [n], used, source), 'fc/bias');
  const extra = [...w.keys()].filter((k) => !used.has(k));
  if (extra.length > 0) throw new Error(`face_expression weights (${source}): unexpected tensor(s) ${extra.map((k) => `'${k}'`).join(', ')}`);
}

/** Options of {@link face_expression}. */
export interface FaceExpressionOptions {
  /**
   * A face expression tfjs weights manifest (`face_expression_model-weights_manifest.json`);
   * default: the one bundled with the installed `@vladmandic/face-api`.
   */
  manifest?: string;
  /** Already decoded tfjs weights (e.g. from `decode_tfjs_weights` in a browser); overrides `manifest`. */
  weights?: TfjsWeightMap;
}

/**
 * face-api's trained facial expression classifier (7 classes: {@link FACE_EXPRESSION_LABELS}),
 * in eval mode. Feed it {@link preprocess_face_expression}'s output.
 */
export function face_expression(options: FaceExpressionOptions = {}): FaceExpressionNet {
  const model = new FaceExpressionNet();
  if (options.weights) {
    load_face_expression_weights(model, options.weights, '<weights>');
  } else {
    const manifest = options.manifest ?? face_expression_manifest_path();
    load_face_expression_weights(model, load_tfjs_weights(manifest), manifest);
  }
  model.eval();
  return model;
}
