/**
 * torchvision's AlexNet (torchvision/models/alexnet.py, v0.14), ported line for line: same
 * module tree, state-dict keys (`features.0.weight`, ..., `classifier.6.bias`), PyTorch's
 * default layer initialization, and forward.
 */
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from './_nn.ts';

/** torchvision's `AlexNet(...)` keyword arguments. */
export interface AlexNetOptions {
  num_classes?: number;
  dropout?: number;
}

export class AlexNet extends nn.Module {
  features: nn.Sequential;
  avgpool: nn.AdaptiveAvgPool2d;
  classifier: nn.Sequential;

  constructor(opts: AlexNetOptions = {}) {
    super();
    const { num_classes = 1000, dropout = 0.5 } = opts;
    this.features = new nn.Sequential(
      new nn.Conv2d(3, 64, 11, { stride: 4, padding: 2 }),
      new nn.ReLU({ inplace: true }),
      new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(64, 192, 5, { padding: 2 }),
      new nn.ReLU({ inplace: true }),
      new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(192, 384, 3, { padding: 1 }),
      new nn.ReLU({ inplace: true }),
      new nn.Conv2d(384, 256, 3, { padding: 1 }),
      new nn.ReLU({ inplace: true }),
      new nn.Conv2d(256, 256, 3, { padding: 1 }),
      new nn.ReLU({ inplace: true }),
      new nn.MaxPool2d(3, { stride: 2 }),
    );
    this.avgpool = new nn.AdaptiveAvgPool2d([6, 6]);
    this.classifier = new nn.Sequential(
      new nn.Dropout(dropout),
      new nn.Linear(256 * 6 * 6, 4096),
      new nn.ReLU({ inplace: true }),
      new nn.Dropout(dropout),
      new nn.Linear(4096, 4096),
      new nn.ReLU({ inplace: true }),
      new nn.Linear(4096, num_classes),
    );
  }

  forward(x: Tensor): Tensor {
    x = this.features(x);
    x = this.avgpool(x);
    x = torch.flatten(x, 1);
    x = this.classifier(x);
    return x;
  }
}

/** AlexNet (One weird trick for parallelizing convolutional neural networks). */
export function alexnet(opts: AlexNetOptions = {}): AlexNet {
  return new AlexNet(opts);
}
