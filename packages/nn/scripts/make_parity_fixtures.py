#!/usr/bin/python3
"""Regenerate packages/nn/test/fixtures/parity/ with Debian's PyTorch 1.13 + torchvision:

    /usr/bin/python3 packages/nn/scripts/make_parity_fixtures.py

No weights are committed: every model gets the counter-hash weights of export_torchvision.py
(`hash_state_dict`), which the tests rebuild in TypeScript (test/fixtures/parity/hash_init.ts).
Only PyTorch's outputs are stored:

- keys.json: torchvision state-dict keys, shapes and dtypes of alexnet, vgg16, resnet18, resnet50
  (num_classes=7), plus float64 sums of each hashed tensor (checks the generator agrees).
- <model>_gbp.safetensors: `input` (hash input, 1x3xSxS, from the first input seed that keeps every
  ReLU input furthest from 0 relative to its max, of 64 tried, so float32 noise cannot flip a ReLU
  mask), eval-mode `logits`, `vanilla` (input
  gradient of the seed class, no hooks) and `guided` (the seed's GuidedBackprop.gradients: every
  ReLU hooked with register_backward_hook clamping grad_in[0] at 0, children()[0] hooked to
  capture grad_in[0]; for alexnet/vgg16 children()[0] is `features`, so that is the gradient at
  the input of its last op, the final MaxPool2d, exactly as PyTorch's legacy hook gives it).
- dtypes.safetensors / dtypes.json: F16, BF16, F64, I64 tensors written by torch, and their values.
"""
import json
import os
import sys
import warnings

import numpy as np
import torch
from torch.nn import ReLU

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torchvision import build, hash_input, hash_state_dict, save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'parity')
SEED = 0
NUM_CLASSES = 7
TARGET = 3
SIZES = {'resnet18': 64, 'resnet50': 32, 'alexnet': 64, 'vgg16': 32}


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'examples'))
from guided_backprop import GuidedBackprop  # noqa: E402  (the seed's class, unchanged)


def hashed_model(name):
    torch.manual_seed(SEED)
    model = build(name, NUM_CLASSES)
    hash_state_dict(model, SEED)
    return model.eval()


def relu_margin(model, x):
    """Smallest |ReLU input| (and MaxPool top-2 gap) relative to that input's max |value|, over every call.

    A ReLU input within float32 noise of 0 can flip its mask between implementations, which
    changes the gradient by far more than rounding; inputs with a small margin are rejected.
    """
    margins = []

    def pre_hook(module, args):
        a = args[0].detach().abs()
        margins.append(float(a.min() / a.max()))

    def pool_hook(module, args):
        # Gap between the two largest values of each window: a near-tie can flip the argmax.
        x = args[0].detach()
        k, s, p = module.kernel_size, module.stride, module.padding
        if p:
            x = torch.nn.functional.pad(x, (p, p, p, p), value=float('-inf'))
        cols = torch.nn.functional.unfold(x, k, stride=s)
        top = cols.reshape(x.shape[0], x.shape[1], k * k, -1).topk(2, dim=2).values
        gap = top[:, :, 0] - top[:, :, 1]
        gap = gap[gap > 0]  # exact ties (e.g. ReLU zeros) resolve identically: first index wins
        if gap.numel():
            margins.append(float(gap.min() / args[0].detach().abs().max()))

    handles = [m.register_forward_pre_hook(pre_hook) for m in model.modules() if isinstance(m, ReLU)]
    handles += [m.register_forward_pre_hook(pool_hook) for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return min(margins)


INPUT_SEED_TRIES = 64


def model_fixture(name, keys):
    size = SIZES[name]
    model = hashed_model(name)
    sd = model.state_dict()
    keys[name] = [[k, list(t.shape), str(t.dtype).replace('torch.', ''), float(t.double().sum())] for k, t in sd.items()]

    # Of the first few input seeds, the one whose ReLU inputs stay furthest from 0 (relu_margin).
    margin, input_seed = max((relu_margin(model, torch.from_numpy(hash_input('input', [1, 3, size, size], s))), s)
                             for s in range(INPUT_SEED_TRIES))
    x = torch.from_numpy(hash_input('input', [1, 3, size, size], input_seed))
    keys.setdefault('input_seeds', {})[name] = input_seed
    # Forward + vanilla gradient, no hooks.
    xv = x.clone().requires_grad_(True)
    logits = model(xv)
    one_hot = torch.zeros(1, NUM_CLASSES)
    one_hot[0][TARGET] = 1
    logits.backward(gradient=one_hot)
    # Guided backprop with the seed's class, on a fresh copy of the model.
    gbp = GuidedBackprop(hashed_model(name))
    xg = x.clone().requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        guided = gbp.generate_gradients(xg, TARGET)
    out = {
        'input': x,
        'logits': logits.detach(),
        'vanilla': xv.grad.detach(),
        'guided': torch.from_numpy(np.ascontiguousarray(guided)),
    }
    path = os.path.join(OUT, f'{name}_gbp.safetensors')
    save_safetensors(out, path, {'model': name, 'num_classes': NUM_CLASSES, 'seed': SEED, 'target': TARGET,
                                 'size': size, 'input_seed': input_seed, 'torch': torch.__version__})
    print(f'{name}: input seed {input_seed} (ReLU margin {margin:.1e}) logits {logits.detach().numpy().round(4).tolist()} guided {tuple(guided.shape)} '
          f'max|g| {np.abs(guided).max():.3e} -> {path} ({os.path.getsize(path)} bytes)')


def dtype_fixture():
    g = torch.Generator().manual_seed(1)
    base = torch.randn(2, 3, generator=g) * 100
    t = {
        'f16': torch.cat([base.flatten(), torch.tensor([65504.0, 6e-8, -0.0, -65504.0])]).half().reshape(2, 5),
        'bf16': (base * 1e20).bfloat16(),
        'f64': base.double() / 3,
        'i64': torch.tensor([0, -5, 2 ** 40, 7], dtype=torch.int64),
    }
    save_safetensors(t, os.path.join(OUT, 'dtypes.safetensors'))
    with open(os.path.join(OUT, 'dtypes.json'), 'w') as f:
        json.dump({k: {'shape': list(v.shape), 'values': [float(x) for x in v.double().flatten()]} for k, v in t.items()},
                  f, indent=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(2)
    dtype_fixture()
    keys = {'num_classes': NUM_CLASSES, 'seed': SEED, 'target': TARGET, 'sizes': SIZES, 'torch': torch.__version__}
    names = sys.argv[1:] or list(SIZES)
    for name in names:
        model_fixture(name, keys)
    path = os.path.join(OUT, 'keys.json')
    if os.path.exists(path) and sys.argv[1:]:
        old = json.load(open(path))
        old.setdefault('input_seeds', {}).update(keys.pop('input_seeds'))
        old.update(keys)
        keys = old
    with open(path, 'w') as f:
        json.dump(keys, f, separators=(',', ':'))


if __name__ == '__main__':
    main()
