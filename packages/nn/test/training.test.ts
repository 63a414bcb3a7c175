import { describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import * as nn from '@gradlens/nn';

/** Synthetic task: is the bright blob in the left or right half of an 8×8 image? */
function batch(n: number): [Tensor, Tensor] {
  const x = torch.randn(n, 1, 8, 8).mul(0.3);
  const labels = new Float64Array(n);
  const data = x._contiguousData();
  const r = torch.rand(n, 2)._contiguousData();
  for (let i = 0; i < n; i++) {
    const right = r[2 * i]! > 0.5 ? 1 : 0;
    labels[i] = right;
    const cy = 1 + Math.floor(r[2 * i + 1]! * 6);
    const cx = right ? 5 : 2;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) data[i * 64 + (cy + dy) * 8 + cx + dx]! += 1;
  }
  return [x, torch.tensor(labels, { dtype: 'int64' })];
}

class SmallCNN extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.AdaptiveAvgPool2d([2, 2]),
  );
  classifier = new nn.Sequential(new nn.Flatten(), new nn.Dropout(0.1), new nn.Linear(32, 2));
  forward(x: Tensor): Tensor {
    return this.classifier(this.features(x));
  }
}

function train(opt: (ps: nn.Parameter[]) => nn.optim.Optimizer<object>, steps: number): [number, number] {
  torch.manual_seed(0);
  const model = new SmallCNN();
  const optimizer = opt(model.parameters());
  const lossFn = new nn.CrossEntropyLoss();
  const [vx, vy] = batch(64);
  const evalLoss = (): number => {
    model.eval();
    const l = torch.no_grad(() => lossFn(model(vx), vy)).item();
    model.train();
    return l;
  };
  const start = evalLoss();
  for (let s = 0; s < steps; s++) {
    const [x, y] = batch(16);
    optimizer.zero_grad();
    const loss = lossFn(model(x), y);
    loss.backward();
    optimizer.step();
  }
  return [start, evalLoss()];
}

describe('training', () => {
  it('SGD with momentum drives a small CNN loss well below its start', () => {
    const [start, end] = train((ps) => new nn.optim.SGD(ps, { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 }), 300);
    expect(end).toBeLessThan(start * 0.3);
  });

  it('Adam too', () => {
    const [start, end] = train((ps) => new nn.optim.Adam(ps, { lr: 0.01 }), 150);
    expect(end).toBeLessThan(start * 0.3);
  });

  it('SGD and Adam updates follow PyTorch formulas', () => {
    const p = new nn.Parameter(torch.tensor([1, -2]));
    const sgd = new nn.optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.5 });
    p.grad = torch.tensor([0.5, 1]);
    sgd.step();
    // d = g + wd·p = [1, 0]; buf = d; nesterov: d + 0.9·buf = [1.9, 0]
    expect(p.tolist()).toEqual([1 - 0.19, -2].map((v) => Math.fround(v)));
    const q = new nn.Parameter(torch.tensor([1]));
    const adam = new nn.optim.Adam([q], { lr: 0.1 });
    q.grad = torch.tensor([3]);
    adam.step();
    // first step moves by lr·sign(g) (up to eps)
    expect((q.tolist() as number[])[0]).toBeCloseTo(0.9, 6);
  });
});
