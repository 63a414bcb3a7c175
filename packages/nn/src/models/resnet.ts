/**
 * torchvision's ResNet (torchvision/models/resnet.py, v0.14), ported line for line: same module
 * tree, field order, state-dict keys, initialization and forward (one `relu` module per block,
 * used two or three times, inplace; `out += identity` in place).
 *
 * ```ts
 * const model = nn.models.resnet50({ num_classes: 7 });
 * model.load_state_dict(nn.load_safetensors('resnet50.safetensors'));
 * ```
 */
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from './_nn.ts';

type NormLayer = (num_features: number) => nn.Module;

/** 3x3 convolution with padding. */
function conv3x3(in_planes: number, out_planes: number, stride = 1, groups = 1, dilation = 1): nn.Conv2d {
  return new nn.Conv2d(in_planes, out_planes, 3, { stride, padding: dilation, groups, bias: false, dilation });
}

/** 1x1 convolution. */
function conv1x1(in_planes: number, out_planes: number, stride = 1): nn.Conv2d {
  return new nn.Conv2d(in_planes, out_planes, 1, { stride, bias: false });
}

/** Options shared by the block constructors (torchvision's keyword arguments). */
export interface BlockOptions {
  stride?: number;
  downsample?: nn.Module | null;
  groups?: number;
  base_width?: number;
  dilation?: number;
  norm_layer?: NormLayer | null;
}

export class BasicBlock extends nn.Module {
  static readonly expansion = 1;
  conv1: nn.Conv2d;
  bn1: nn.Module;
  relu: nn.ReLU;
  conv2: nn.Conv2d;
  bn2: nn.Module;
  downsample: nn.Module | null;
  stride: number;

  constructor(inplanes: number, planes: number, opts: BlockOptions = {}) {
    super();
    const { stride = 1, downsample = null, groups = 1, base_width = 64, dilation = 1 } = opts;
    const norm_layer: NormLayer = opts.norm_layer ?? ((n) => new nn.BatchNorm2d(n));
    if (groups !== 1 || base_width !== 64) throw new Error('BasicBlock only supports groups=1 and base_width=64');
    if (dilation > 1) throw new Error('Dilation > 1 not supported in BasicBlock');
    // Both self.conv1 and self.downsample layers downsample the input when stride != 1
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = norm_layer(planes);
    this.relu = new nn.ReLU({ inplace: true });
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = norm_layer(planes);
    this.downsample = downsample;
    this.stride = stride;
  }

  forward(x: Tensor): Tensor {
    let identity = x;

    let out = this.conv1(x);
    out = this.bn1(out);
    out = this.relu(out);

    out = this.conv2(out);
    out = this.bn2(out);

    if (this.downsample !== null) identity = this.downsample(x);

    out.add_(identity); // out += identity
    out = this.relu(out);

    return out;
  }
}

/**
 * Bottleneck in torchvision places the stride for downsampling at the 3x3 convolution (conv2)
 * while the original implementation places it at the first 1x1 convolution (conv1): ResNet V1.5.
 */
export class Bottleneck extends nn.Module {
  static readonly expansion = 4;
  conv1: nn.Conv2d;
  bn1: nn.Module;
  conv2: nn.Conv2d;
  bn2: nn.Module;
  conv3: nn.Conv2d;
  bn3: nn.Module;
  relu: nn.ReLU;
  downsample: nn.Module | null;
  stride: number;

  constructor(inplanes: number, planes: number, opts: BlockOptions = {}) {
    super();
    const { stride = 1, downsample = null, groups = 1, base_width = 64, dilation = 1 } = opts;
    const norm_layer: NormLayer = opts.norm_layer ?? ((n) => new nn.BatchNorm2d(n));
    const width = Math.floor(planes * (base_width / 64.0)) * groups;
    // Both self.conv2 and self.downsample layers downsample the input when stride != 1
    this.conv1 = conv1x1(inplanes, width);
    this.bn1 = norm_layer(width);
    this.conv2 = conv3x3(width, width, stride, groups, dilation);
    this.bn2 = norm_layer(width);
    this.conv3 = conv1x1(width, planes * Bottleneck.expansion);
    this.bn3 = norm_layer(planes * Bottleneck.expansion);
    this.relu = new nn.ReLU({ inplace: true });
    this.downsample = downsample;
    this.stride = stride;
  }

  forward(x: Tensor): Tensor {
    let identity = x;

    let out = this.conv1(x);
    out = this.bn1(out);
    out = this.relu(out);

    out = this.conv2(out);
    out = this.bn2(out);
    out = this.relu(out);

    out = this.conv3(out);
    out = this.bn3(out);

    if (this.downsample !== null) identity = this.downsample(x);

    out.add_(identity); // out += identity
    out = this.relu(out);

    return out;
  }
}

type BlockClass = (typeof BasicBlock | typeof Bottleneck) & { expansion: number };

/** torchvision's `ResNet(...)` keyword arguments. */
export interface ResNetOptions {
  num_classes?: number;
  zero_init_residual?: boolean;
  groups?: number;
  width_per_group?: number;
  replace_stride_with_dilation?: [boolean, boolean, boolean] | null;
  norm_layer?: NormLayer | null;
}

export class ResNet extends nn.Module {
  /** @internal */ declare _norm_layer: NormLayer;
  /** @internal */ declare _inplanes: number;
  /** @internal */ declare _dilation: number;
  /** @internal */ declare _groups: number;
  /** @internal */ declare _base_width: number;
  conv1: nn.Conv2d;
  bn1: nn.Module;
  relu: nn.ReLU;
  maxpool: nn.MaxPool2d;
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  layer3: nn.Sequential;
  layer4: nn.Sequential;
  avgpool: nn.AdaptiveAvgPool2d;
  fc: nn.Linear;

  constructor(block: BlockClass, layers: [number, number, number, number], opts: ResNetOptions = {}) {
    super();
    const { num_classes = 1000, zero_init_residual = false, groups = 1, width_per_group = 64 } = opts;
    const norm_layer: NormLayer = opts.norm_layer ?? ((n) => new nn.BatchNorm2d(n));
    // Bookkeeping fields are non-enumerable so they stay out of the module registry.
    hidden(this, '_norm_layer', norm_layer);
    hidden(this, '_inplanes', 64);
    hidden(this, '_dilation', 1);
    const replace_stride_with_dilation = opts.replace_stride_with_dilation ?? [false, false, false];
    if (replace_stride_with_dilation.length !== 3) {
      throw new Error(
        `replace_stride_with_dilation should be None or a 3-element tuple, got ${JSON.stringify(replace_stride_with_dilation)}`,
      );
    }
    hidden(this, '_groups', groups);
    hidden(this, '_base_width', width_per_group);
    this.conv1 = new nn.Conv2d(3, this._inplanes, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = norm_layer(this._inplanes);
    this.relu = new nn.ReLU({ inplace: true });
    this.maxpool = new nn.MaxPool2d(3, { stride: 2, padding: 1 });
    this.layer1 = this._make_layer(block, 64, layers[0]);
    this.layer2 = this._make_layer(block, 128, layers[1], 2, replace_stride_with_dilation[0]);
    this.layer3 = this._make_layer(block, 256, layers[2], 2, replace_stride_with_dilation[1]);
    this.layer4 = this._make_layer(block, 512, layers[3], 2, replace_stride_with_dilation[2]);
    this.avgpool = new nn.AdaptiveAvgPool2d([1, 1]);
    this.fc = new nn.Linear(512 * block.expansion, num_classes);

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        nn.init.kaiming_normal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      } else if (m instanceof nn.BatchNorm2d) {
        nn.init.constant_(m.weight!, 1);
        nn.init.constant_(m.bias!, 0);
      }
    }

    // Zero-initialize the last BN in each residual branch, so that the residual branch starts
    // with zeros, and each residual block behaves like an identity.
    if (zero_init_residual) {
      for (const m of this.modules()) {
        if (m instanceof Bottleneck && m.bn3 instanceof nn.BatchNorm2d) nn.init.constant_(m.bn3.weight!, 0);
        else if (m instanceof BasicBlock && m.bn2 instanceof nn.BatchNorm2d) nn.init.constant_(m.bn2.weight!, 0);
      }
    }
  }

  /** @internal */
  _make_layer(block: BlockClass, planes: number, blocks: number, stride = 1, dilate = false): nn.Sequential {
    const norm_layer = this._norm_layer;
    let downsample: nn.Module | null = null;
    const previous_dilation = this._dilation;
    if (dilate) {
      this._dilation *= stride;
      stride = 1;
    }
    if (stride !== 1 || this._inplanes !== planes * block.expansion) {
      downsample = new nn.Sequential(conv1x1(this._inplanes, planes * block.expansion, stride), norm_layer(planes * block.expansion));
    }

    const layers: nn.Module[] = [];
    layers.push(
      new block(this._inplanes, planes, {
        stride, downsample, groups: this._groups, base_width: this._base_width, dilation: previous_dilation, norm_layer,
      }),
    );
    this._inplanes = planes * block.expansion;
    for (let i = 1; i < blocks; i++) {
      layers.push(
        new block(this._inplanes, planes, {
          groups: this._groups, base_width: this._base_width, dilation: this._dilation, norm_layer,
        }),
      );
    }

    return new nn.Sequential(...layers);
  }

  /** @internal */
  _forward_impl(x: Tensor): Tensor {
    // See note [TorchScript super()]
    x = this.conv1(x);
    x = this.bn1(x);
    x = this.relu(x);
    x = this.maxpool(x);

    x = this.layer1(x);
    x = this.layer2(x);
    x = this.layer3(x);
    x = this.layer4(x);

    x = this.avgpool(x);
    x = torch.flatten(x, 1);
    x = this.fc(x);

    return x;
  }

  forward(x: Tensor): Tensor {
    return this._forward_impl(x);
  }
}

function hidden(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: false, configurable: true });
}

/** Options of the `resnetNN()` builders: ResNet's keyword arguments (no pretrained download). */
export type ResNetBuilderOptions = ResNetOptions;

/** ResNet-18 (Deep Residual Learning for Image Recognition). */
export function resnet18(opts: ResNetBuilderOptions = {}): ResNet {
  return new ResNet(BasicBlock, [2, 2, 2, 2], opts);
}

/** ResNet-34. */
export function resnet34(opts: ResNetBuilderOptions = {}): ResNet {
  return new ResNet(BasicBlock, [3, 4, 6, 3], opts);
}

/** ResNet-50 (V1.5: stride in the 3x3 conv). */
export function resnet50(opts: ResNetBuilderOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 6, 3], opts);
}

/** ResNet-101. */
export function resnet101(opts: ResNetBuilderOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 23, 3], opts);
}

/** ResNet-152. */
export function resnet152(opts: ResNetBuilderOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 8, 36, 3], opts);
}
