/**
 * torchvision architectures: state-dict keys/shapes/dtypes identical to torchvision 0.14's (the
 * key lists in fixtures/parity/keys.json come from make_parity_fixtures.py), torchvision's
 * initialization, module structure the seed's GuidedBackprop relies on, and a forward pass.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import * as nn from '../src/index.ts';
import * as models from '../src/models/index.ts';
import { hashStateDict } from './fixtures/parity/hash_init.ts';

type KeyEntry = [name: string, shape: number[], dtype: string, sum: number];
const KEYS = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/parity/keys.json', import.meta.url)), 'utf8')) as
  Record<string, KeyEntry[]> & { num_classes: number; seed: number };
const NUM_CLASSES = KEYS.num_classes;

const BUILDERS = {
  alexnet: () => models.alexnet({ num_classes: NUM_CLASSES }),
  vgg16: () => models.vgg16({ num_classes: NUM_CLASSES }),
  resnet18: () => models.resnet18({ num_classes: NUM_CLASSES }),
  resnet50: () => models.resnet50({ num_classes: NUM_CLASSES }),
} as const;

const TORCH_DTYPE: Record<string, string> = { float32: 'float32', int64: 'int64' };

function stats(t: torch.Tensor): { mean: number; std: number; maxAbs: number } {
  const v = t.detach()._contiguousData();
  let s = 0;
  let s2 = 0;
  let m = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
    m = Math.max(m, Math.abs(x));
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean), maxAbs: m };
}

describe.each(Object.keys(BUILDERS) as (keyof typeof BUILDERS)[])('%s', (name) => {
  const model = BUILDERS[name]();
  const expected = KEYS[name]!;

  it('state_dict keys, order, shapes and dtypes are torchvision\'s', () => {
    const sd = model.state_dict();
    expect(Object.keys(sd)).toEqual(expected.map((e) => e[0]));
    for (const [k, shape, dtype] of expected) {
      expect(sd[k]!.shape, k).toEqual(shape);
      expect(sd[k]!.dtype, k).toBe(TORCH_DTYPE[dtype]);
    }
    const nParams = model.parameters().reduce((a, p) => a + p.numel(), 0);
    const nExpected = expected.filter(([k]) => !/running_|num_batches/.test(k)).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
    expect(nParams).toBe(nExpected);
  });

  it('loads a torchvision-keyed state dict strictly; wrong shapes and keys are rejected', () => {
    const sd = hashStateDict(model.state_dict(), KEYS.seed);
    model.load_state_dict(sd);
    for (const [k, , , sum] of expected) {
      const got = model.state_dict()[k]!;
      let s = 0;
      for (const v of got.detach()._contiguousData()) s += v;
      expect(Math.abs(s - sum), `${k}: hash weights agree with PyTorch's`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(sum)) + 1e-6);
    }
    const last = expected[expected.length - 1]![0];
    const bad = { ...sd, [last]: torch.zeros(3) };
    expect(() => model.load_state_dict(bad)).toThrow(/size mismatch/);
    const missing = { ...sd };
    delete missing[last];
    expect(() => model.load_state_dict(missing)).toThrow(new RegExp(`Missing key\\(s\\).*${last.replace(/\./g, '\\.')}`, 's'));
    expect(() => model.load_state_dict({ ...sd, extra: torch.zeros(1) })).toThrow(/Unexpected key\(s\) in state_dict: "extra"/);
    // PyTorch collects missing keys with strict=False, but unexpected keys only when strict.
    expect(model.load_state_dict(missing, { strict: false }).missing_keys).toEqual([last]);
  });
});

describe('structure the seed\'s GuidedBackprop relies on', () => {
  it('resnet: children()[0] is conv1; one ReLU module per block, fired once per use', () => {
    const m = models.resnet18({ num_classes: 7 }).eval();
    const kids = m.named_children().map(([k]) => k);
    expect(kids).toEqual(['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'fc']);
    expect(m.children()[0]).toBe(m.conv1);
    const relus = m.modules().filter((x) => x instanceof nn.ReLU);
    expect(relus.length).toBe(1 + 8);
    let calls = 0;
    for (const r of relus) r.register_forward_hook(() => void calls++);
    torch.no_grad(() => m(torch.randn(1, 3, 32, 32)));
    expect(calls).toBe(1 + 8 * 2);
    const r50 = models.resnet50();
    const b = r50.layer1.at(0) as models.Bottleneck;
    expect(b.named_children().map(([k]) => k)).toEqual(['conv1', 'bn1', 'conv2', 'bn2', 'conv3', 'bn3', 'relu', 'downsample']);
    expect(r50.fc.weight.shape).toEqual([1000, 2048]);
  });

  it('alexnet/vgg: features, avgpool, classifier', () => {
    expect(models.alexnet().named_children().map(([k]) => k)).toEqual(['features', 'avgpool', 'classifier']);
    expect(models.vgg16().children()[0]).toBeInstanceOf(nn.Sequential);
  });
});

describe('initialization follows torchvision', () => {
  it('resnet: kaiming_normal_(fan_out) convs, BN weight 1 bias 0, default Linear', () => {
    torch.manual_seed(0);
    const m = models.resnet18({ num_classes: 10 });
    const w = stats(m.layer2.at(0).get_submodule('conv1').get_parameter('weight'));
    const fanOut = 128 * 3 * 3;
    expect(Math.abs(w.mean)).toBeLessThan(0.01);
    expect(w.std / Math.sqrt(2 / fanOut)).toBeCloseTo(1, 1);
    const bn = stats(m.bn1.get_parameter('weight'));
    expect([bn.mean, bn.std]).toEqual([1, 0]);
    expect(stats(m.bn1.get_parameter('bias')).maxAbs).toBe(0);
    const fc = stats(m.fc.weight);
    expect(fc.maxAbs).toBeLessThanOrEqual(1 / Math.sqrt(512));
    expect(fc.std / (1 / Math.sqrt(3 * 512))).toBeCloseTo(1, 1);
    const z = models.resnet18({ zero_init_residual: true });
    expect(stats((z.layer1.at(0) as models.BasicBlock).bn2.get_parameter('weight')).maxAbs).toBe(0);
  });

  it('vgg: kaiming_normal_(fan_out) convs with zero bias, N(0, 0.01) linears with zero bias', () => {
    torch.manual_seed(1);
    const m = models.vgg11({ num_classes: 10 });
    const conv = m.features.at(3) as nn.Conv2d;
    const w = stats(conv.weight);
    expect(w.std / Math.sqrt(2 / (128 * 9))).toBeCloseTo(1, 1);
    expect(stats(conv.bias!).maxAbs).toBe(0);
    const lin = m.classifier.at(6) as nn.Linear;
    expect(stats(lin.weight).std / 0.01).toBeCloseTo(1, 1);
    expect(stats(lin.bias!).maxAbs).toBe(0);
  });

  it('alexnet: PyTorch default init (kaiming_uniform a=√5 bound 1/√fan_in)', () => {
    const m = models.alexnet({ num_classes: 10 });
    const conv = m.features.at(0) as nn.Conv2d;
    expect(stats(conv.weight).maxAbs).toBeLessThanOrEqual(1 / Math.sqrt(3 * 11 * 11));
    expect(stats(conv.bias!).maxAbs).toBeGreaterThan(0);
  });
});

describe('forward at a tiny input', () => {
  it.each(['alexnet', 'resnet18', 'resnet50'] as const)('%s gives [N, num_classes] logits', (name) => {
    const m = BUILDERS[name]().eval();
    const y = torch.no_grad(() => m(torch.randn(2, 3, 64, 64)));
    expect(y.shape).toEqual([2, NUM_CLASSES]);
    expect(Array.from(y._contiguousData()).every(Number.isFinite)).toBe(true);
  });

  it('vgg16_bn and resnet34 build with the torchvision layout', () => {
    const v = models.vgg16_bn({ num_classes: 3 });
    expect(Object.keys(v.state_dict()).slice(0, 7)).toEqual([
      'features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias', 'features.1.running_mean',
      'features.1.running_var', 'features.1.num_batches_tracked',
    ]);
    expect(Object.keys(v.state_dict()).length).toBe(13 * 7 + 6);
    expect(models.resnet34().layer3.length).toBe(6);
  });
});
