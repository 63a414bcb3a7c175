import { describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from '@gradlens/nn';

class Block extends nn.Module {
  conv1 = new nn.Conv2d(2, 4, 3, { padding: 1, bias: false });
  bn1 = new nn.BatchNorm2d(4);
  relu = new nn.ReLU({ inplace: true });
  forward(x: Tensor): Tensor {
    return this.relu(this.bn1(this.conv1(x)));
  }
}

class Net extends nn.Module {
  layer1 = new nn.Sequential(new Block(), new Block2());
  scale = new nn.Parameter(torch.ones(1));
  fc = new nn.Linear(4, 3);
  forward(x: Tensor): Tensor {
    return this.fc(torch.flatten(this.layer1(x).mean([2, 3]), 1)).mul(this.scale);
  }
}
class Block2 extends nn.Module {
  conv1 = new nn.Conv2d(4, 4, 1);
  forward(x: Tensor): Tensor {
    return this.conv1(x);
  }
}

describe('Module', () => {
  it('is callable, instanceof works, fields register in order', () => {
    const net = new Net();
    expect(typeof net).toBe('function');
    expect(net instanceof Net && net instanceof nn.Module).toBe(true);
    expect(net.children()[0] instanceof nn.Sequential).toBe(true);
    expect(net.named_children().map(([n]) => n)).toEqual(['layer1', 'fc']);
    expect(net.named_parameters().map(([n]) => n)).toEqual([
      'scale', 'layer1.0.conv1.weight', 'layer1.0.bn1.weight', 'layer1.0.bn1.bias', 'layer1.1.conv1.weight', 'layer1.1.conv1.bias', 'fc.weight', 'fc.bias',
    ]);
    expect(net.named_modules().map(([n]) => n)).toEqual(['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'layer1.0.bn1', 'layer1.0.relu', 'layer1.1', 'layer1.1.conv1', 'fc']);
    expect(Object.keys(net._modules)).toEqual(['layer1', 'fc']);
    expect(Object.keys(net.get_submodule('layer1')._modules)).toEqual(['0', '1']);
    expect(net.get_submodule('layer1.0.conv1') instanceof nn.Conv2d).toBe(true);
    expect(() => net.get_submodule('layer1.7')).toThrow('Sequential has no attribute `7`');
    const y = net(torch.randn(2, 2, 5, 5));
    expect(y.shape).toEqual([2, 3]);
  });

  it('reassignment, deletion, add_module, buffers, shared modules', () => {
    const net = new Net();
    net.fc = new nn.Linear(4, 5);
    expect(net.named_children().map(([n]) => n)).toEqual(['layer1', 'fc']);
    expect((net.children()[1] as nn.Linear).out_features).toBe(5);
    net.add_module('extra', new nn.Identity());
    net.register_buffer('stat', torch.zeros(2));
    net.register_buffer('tmp', torch.zeros(1), { persistent: false });
    expect(Object.keys(net.state_dict()).filter((k) => !k.includes('.'))).toEqual(['scale', 'stat']);
    expect(net.named_buffers().map(([n]) => n)).toContain('tmp');
    delete (net as unknown as Record<string, unknown>).extra;
    expect(net.named_children().map(([n]) => n)).toEqual(['layer1', 'fc']);
    const shared = new nn.ReLU();
    const seq = new nn.Sequential(shared, shared, new nn.Linear(1, 1));
    expect(seq.modules().length).toBe(3);
    expect(seq.children().length).toBe(2);
    expect(seq.length).toBe(3);
    expect(seq[1]).toBe(shared);
    expect(seq.at(-1) instanceof nn.Linear).toBe(true);
    expect([...seq].length).toBe(3);
    expect(seq.slice(1).length).toBe(2);
  });

  it('ModuleList / ModuleDict', () => {
    const ml = new nn.ModuleList([new nn.ReLU(), new nn.Tanh()]);
    ml.append(new nn.Sigmoid());
    ml.insert(0, new nn.Identity());
    expect([...ml].map((m) => m._get_name())).toEqual(['Identity', 'ReLU', 'Tanh', 'Sigmoid']);
    expect(ml[3] instanceof nn.Sigmoid).toBe(true);
    expect(ml.length).toBe(4);
    const md = new nn.ModuleDict({ keys: new nn.ReLU(), conv: new nn.Conv2d(1, 1, 1) });
    expect(md.keys()).toEqual(['keys', 'conv']);
    expect(md.get('keys') instanceof nn.ReLU).toBe(true);
    expect(md.named_parameters().map(([n]) => n)).toEqual(['conv.weight', 'conv.bias']);
    expect(() => (ml as unknown as () => void)()).toThrow('Module [ModuleList] is missing the required "forward" function');
  });

  it('train/eval, zero_grad, requires_grad_, apply', () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.get_submodule('layer1.0.bn1').training).toBe(true);
    net(torch.randn(2, 2, 4, 4)).sum().backward();
    expect(net.fc.weight.grad).not.toBeNull();
    net.zero_grad(false);
    expect(net.fc.weight.grad!.abs().sum().item()).toBe(0);
    net.zero_grad();
    expect(net.fc.weight.grad).toBeNull();
    net.requires_grad_(false);
    expect(net.parameters().every((p) => !p.requires_grad)).toBe(true);
    const names: string[] = [];
    net.apply((m) => void names.push(m._get_name()));
    expect(names[names.length - 1]).toBe('Net');
  });

  it('state_dict round trip, BatchNorm num_batches_tracked, PyTorch error text', () => {
    torch.manual_seed(1);
    const a = new Net();
    a(torch.randn(2, 2, 4, 4));
    const sd = a.state_dict();
    expect(Object.keys(sd)).toContain('layer1.0.bn1.num_batches_tracked');
    expect(sd['layer1.0.bn1.num_batches_tracked']!.item()).toBe(1);
    const b = new Net();
    b.load_state_dict(sd);
    a.eval();
    b.eval();
    const x = torch.randn(1, 2, 4, 4);
    expect(b(x).tolist()).toEqual(a(x).tolist());
    const bad = { ...sd, 'fc.weight': torch.zeros(7, 4), 'fc.extra': torch.zeros(1) } as Record<string, Tensor>;
    delete bad['fc.bias'];
    expect(() => b.load_state_dict(bad)).toThrow(
      'Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "fc.bias". \n\tUnexpected key(s) in state_dict: "fc.extra". \n\t' +
        'size mismatch for fc.weight: copying a param with shape torch.Size([7, 4]) from checkpoint, the shape in current model is torch.Size([3, 4]).',
    );
    delete bad['fc.weight'];
    expect(b.load_state_dict(bad, { strict: false })).toEqual({ missing_keys: ['fc.weight', 'fc.bias'], unexpected_keys: [] });
  });

  it('toString like print(model)', () => {
    const net = new Net();
    expect(net.toString()).toBe(
      [
        'Net(',
        '  (layer1): Sequential(',
        '    (0): Block(',
        '      (conv1): Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)',
        '      (bn1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
        '      (relu): ReLU(inplace=True)',
        '    )',
        '    (1): Block2(',
        '      (conv1): Conv2d(4, 4, kernel_size=(1, 1), stride=(1, 1))',
        '    )',
        '  )',
        '  (fc): Linear(in_features=4, out_features=3, bias=True)',
        ')',
      ].join('\n'),
    );
    expect(new nn.Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }).toString()).toBe('Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)');
    expect(new nn.Conv2d(3, 32, 3, { stride: 2, padding: [0, 1, 0, 1] }).toString()).toBe('Conv2d(3, 32, kernel_size=(3, 3), stride=(2, 2), padding=(0, 1, 0, 1))');
    expect(new nn.Dropout().toString()).toBe('Dropout(p=0.5, inplace=False)');
    expect(new nn.AdaptiveAvgPool2d([1, 1]).toString()).toBe('AdaptiveAvgPool2d(output_size=(1, 1))');
  });

  it('default init matches PyTorch bounds; BatchNorm eval uses running stats; Dropout', () => {
    const conv = new nn.Conv2d(4, 8, 3);
    const bound = 1 / Math.sqrt(4 * 9);
    expect(conv.weight.abs().amax().item()).toBeLessThanOrEqual(bound);
    expect(conv.weight.abs().amax().item()).toBeGreaterThan(bound * 0.7);
    expect(conv.bias!.abs().amax().item()).toBeLessThanOrEqual(bound);
    const bn = new nn.BatchNorm2d(2);
    const x = torch.randn(4, 2, 3, 3).mul(3).add(1);
    bn(x);
    const rm = bn.running_mean!.tolist() as number[];
    const mean = x.mean([0, 2, 3]).tolist() as number[];
    rm.forEach((v, i) => expect(v).toBeCloseTo(0.1 * mean[i]!, 5));
    bn.eval();
    const y = bn(x);
    const expected = x.sub(bn.running_mean!.view(1, 2, 1, 1)).div(bn.running_var!.add(1e-5).sqrt().view(1, 2, 1, 1));
    expect(y.sub(expected).abs().amax().item()).toBeLessThan(1e-5);
    const d = new nn.Dropout(0.5);
    const ones = torch.ones(1000);
    const out = d(ones).tolist() as number[];
    expect(out.every((v) => v === 0 || v === 2)).toBe(true);
    d.eval();
    expect(d(ones)).toBe(ones);
  });
});
