/**
 * torchvision's VGG (torchvision/models/vgg.py, v0.14), ported line for line: `features`
 * built from the configuration lists, `avgpool`, `classifier`; same state-dict keys and
 * initialization (kaiming_normal_ fan_out convs, N(0, 0.01) linears, zero biases).
 */
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from './_nn.ts';

/** torchvision's `VGG(...)` keyword arguments. */
export interface VGGOptions {
  num_classes?: number;
  init_weights?: boolean;
  dropout?: number;
}

export class VGG extends nn.Module {
  features: nn.Sequential;
  avgpool: nn.AdaptiveAvgPool2d;
  classifier: nn.Sequential;

  constructor(features: nn.Sequential, opts: VGGOptions = {}) {
    super();
    const { num_classes = 1000, init_weights = true, dropout = 0.5 } = opts;
    this.features = features;
    this.avgpool = new nn.AdaptiveAvgPool2d([7, 7]);
    this.classifier = new nn.Sequential(
      new nn.Linear(512 * 7 * 7, 4096),
      new nn.ReLU({ inplace: true }),
      new nn.Dropout(dropout),
      new nn.Linear(4096, 4096),
      new nn.ReLU({ inplace: true }),
      new nn.Dropout(dropout),
      new nn.Linear(4096, num_classes),
    );
    if (init_weights) {
      for (const m of this.modules()) {
        if (m instanceof nn.Conv2d) {
          nn.init.kaiming_normal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
          if (m.bias !== null) nn.init.constant_(m.bias, 0);
        } else if (m instanceof nn.BatchNorm2d) {
          nn.init.constant_(m.weight!, 1);
          nn.init.constant_(m.bias!, 0);
        } else if (m instanceof nn.Linear) {
          nn.init.normal_(m.weight, 0, 0.01);
          if (m.bias !== null) nn.init.constant_(m.bias, 0);
        }
      }
    }
  }

  forward(x: Tensor): Tensor {
    x = this.features(x);
    x = this.avgpool(x);
    x = torch.flatten(x, 1);
    x = this.classifier(x);
    return x;
  }
}

export type VGGConfig = (number | 'M')[];

export function make_layers(cfg: VGGConfig, batch_norm = false): nn.Sequential {
  const layers: nn.Module[] = [];
  let in_channels = 3;
  for (const v of cfg) {
    if (v === 'M') {
      layers.push(new nn.MaxPool2d(2, { stride: 2 }));
    } else {
      const conv2d = new nn.Conv2d(in_channels, v, 3, { padding: 1 });
      if (batch_norm) layers.push(conv2d, new nn.BatchNorm2d(v), new nn.ReLU({ inplace: true }));
      else layers.push(conv2d, new nn.ReLU({ inplace: true }));
      in_channels = v;
    }
  }
  return new nn.Sequential(...layers);
}

export const cfgs: Record<'A' | 'B' | 'D' | 'E', VGGConfig> = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

function _vgg(cfg: keyof typeof cfgs, batch_norm: boolean, opts: VGGOptions): VGG {
  return new VGG(make_layers(cfgs[cfg], batch_norm), opts);
}

/** VGG-11 (Very Deep Convolutional Networks for Large-Scale Image Recognition). */
export const vgg11 = (opts: VGGOptions = {}): VGG => _vgg('A', false, opts);
/** VGG-11 with batch normalization. */
export const vgg11_bn = (opts: VGGOptions = {}): VGG => _vgg('A', true, opts);
/** VGG-13. */
export const vgg13 = (opts: VGGOptions = {}): VGG => _vgg('B', false, opts);
/** VGG-13 with batch normalization. */
export const vgg13_bn = (opts: VGGOptions = {}): VGG => _vgg('B', true, opts);
/** VGG-16. */
export const vgg16 = (opts: VGGOptions = {}): VGG => _vgg('D', false, opts);
/** VGG-16 with batch normalization. */
export const vgg16_bn = (opts: VGGOptions = {}): VGG => _vgg('D', true, opts);
/** VGG-19. */
export const vgg19 = (opts: VGGOptions = {}): VGG => _vgg('E', false, opts);
/** VGG-19 with batch normalization. */
export const vgg19_bn = (opts: VGGOptions = {}): VGG => _vgg('E', true, opts);
