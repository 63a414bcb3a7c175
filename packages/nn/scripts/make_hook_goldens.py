#!/usr/bin/python3
"""Goldens for gradlens nn hook tests, computed with PyTorch (Debian's python3-torch 1.13).

Run: /usr/bin/python3 packages/nn/scripts/make_hook_goldens.py
Writes packages/nn/test/fixtures/hooks/{hooks,guided_backprop}.json (small: inputs, weights, results).
"""
import json
import os
import sys
import warnings

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'hooks')
os.makedirs(OUT, exist_ok=True)


def t(x):
    return None if x is None else {'shape': list(x.shape), 'data': [float(v) for v in x.detach().reshape(-1).tolist()]}


def shapes(gs):
    return [None if g is None else list(g.shape) for g in gs]


cases = {}
torch.manual_seed(0)

# a. legacy vs full hook on a multi-op module: sigmoid(3x) + legacy sees only SigmoidBackward0
class MultiOp(nn.Module):
    def forward(self, x):
        return torch.sigmoid(x * 3.0)

x = torch.randn(2, 3, requires_grad=True)
g_out = torch.randn(2, 3)
rec = {}
m = MultiOp()
m.register_backward_hook(lambda mod, gi, go: rec.update(legacy_gi=t(gi[0]), legacy_go=t(go[0]), legacy_n=len(gi)))
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    m(x).backward(g_out)
    rec['legacy_warnings'] = [str(wi.message) for wi in w]
m2 = MultiOp()
m2.register_full_backward_hook(lambda mod, gi, go: rec.update(full_gi=t(gi[0]), full_go=t(go[0]), full_n=len(gi)))
x.grad = None
m2(x).backward(g_out)
rec['x_grad'] = t(x.grad)
cases['multi_op'] = {'x': t(x), 'g_out': t(g_out), **rec}

# b. legacy replacement on ReLU (guided-style clamp, doubled)
x = torch.randn(2, 4, requires_grad=True)
g_out = torch.randn(2, 4)
r = nn.ReLU()
r.register_backward_hook(lambda mod, gi, go: (torch.clamp(gi[0], min=0.0) * 2,))
r(x * 1.5).backward(g_out)
cases['relu_replace'] = {'x': t(x), 'g_out': t(g_out), 'x_grad': t(x.grad)}

# c. full hook replacement on a multi-op module, plus removal (second hook removed before backward)
x = torch.randn(3, 2, requires_grad=True)
g_out = torch.randn(3, 2)
m = MultiOp()
m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0.5,))
h = m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 100.0,))
h.remove()
m(x).backward(g_out)
cases['full_replace'] = {'x': t(x), 'g_out': t(g_out), 'x_grad': t(x.grad)}

# d. ordering of forward / backward hooks incl. global hooks
events = []
class Lin(nn.Module):
    def forward(self, x):
        events.append('forward')
        return torch.tanh(x) * 2.0
lm = Lin()
hs = [
    nn.modules.module.register_module_forward_pre_hook(lambda mod, a: events.append('global_pre')),
    nn.modules.module.register_module_forward_hook(lambda mod, a, o: events.append('global_fwd')),
    nn.modules.module.register_module_full_backward_hook(lambda mod, gi, go: events.append('global_bwd')),
]
lm.register_forward_pre_hook(lambda mod, a: events.append('pre1'))
lm.register_forward_pre_hook(lambda mod, a: events.append('pre2'))
lm.register_forward_hook(lambda mod, a, o: events.append('fwd1'))
lm.register_forward_hook(lambda mod, a, o: events.append('fwd2'))
lm.register_full_backward_hook(lambda mod, gi, go: events.append('bwd1'))
lm.register_full_backward_hook(lambda mod, gi, go: events.append('bwd2'))
x = torch.randn(2, requires_grad=True)
lm(x).sum().backward()
for hh in hs:
    hh.remove()
cases['ordering'] = {'events': events}

# e. one ReLU module reused twice: legacy hook fires once per use, each on its own ReluBackward0
calls = []
relu = nn.ReLU()
relu.register_backward_hook(lambda mod, gi, go: calls.append({'gi': t(gi[0]), 'go': t(go[0])}))
class Reuse(nn.Module):
    def __init__(self):
        super().__init__()
        self.relu = relu
    def forward(self, x):
        return self.relu(self.relu(x) * -1.0 + 0.5) * 3.0
x = torch.randn(2, 3, requires_grad=True)
Reuse()(x).sum().backward()
cases['reuse'] = {'x': t(x), 'calls': calls, 'x_grad': t(x.grad)}

# f. forward hook replacing the output, forward pre-hook replacing the input
x = torch.randn(2, 2)
m = MultiOp()
m.register_forward_pre_hook(lambda mod, a: (a[0] + 1.0,))
m.register_forward_hook(lambda mod, a, o: o * 2.0)
cases['forward_replace'] = {'x': t(x), 'y': t(m(x))}

# g. legacy hook on Linear: grad_input = (bias, input, weight.t()) of AddmmBackward0; conv: (input, weight, bias)
torch.manual_seed(1)
lin = nn.Linear(3, 4)
rec = {}
lin.register_backward_hook(lambda mod, gi, go: rec.update(lin_gi=[t(g) for g in gi], lin_go=t(go[0])))
x = torch.randn(2, 3, requires_grad=True)
lin(x).backward(torch.ones(2, 4))
conv = nn.Conv2d(2, 3, 3, bias=False)
conv.register_backward_hook(lambda mod, gi, go: rec.update(conv_gi_shapes=shapes(gi)))
xc = torch.randn(1, 2, 4, 4)
conv(xc).sum().backward()
cases['linear_conv_legacy'] = {'weight': t(lin.weight), 'bias': t(lin.bias), 'x': t(x), **rec}

# h. full hook: second input not requiring grad gets zeros (PyTorch 1.13), non-tensor arg None
class Two(nn.Module):
    def forward(self, a, b):
        return a * b + a
rec = {}
tw = Two()
tw.register_full_backward_hook(lambda mod, gi, go: rec.update(gi=[t(g) for g in gi]))
a = torch.randn(2, 2, requires_grad=True)
b = torch.randn(2, 2)
tw(a, b).sum().backward()
cases['two_inputs'] = {'a': t(a), 'b': t(b), **rec}

with open(os.path.join(OUT, 'hooks.json'), 'w') as f:
    json.dump(cases, f)

# ---- the seed's GuidedBackprop on a small Sequential CNN ------------------------------------
torch.manual_seed(123)
model = nn.Sequential(
    nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 8, 3, stride=1, padding=1, bias=False), nn.ReLU(), nn.AvgPool2d(2),
    nn.Conv2d(8, 8, 1), nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5),
)
with torch.no_grad():
    bn = model[1]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 1.5)
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.2, 0.2)


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'examples'))
from guided_backprop import GuidedBackprop  # noqa: E402  (the seed's class, unchanged)


x = torch.randn(1, 3, 8, 8, requires_grad=True)
sd = {k: t(v) for k, v in model.state_dict().items()}
gbp = GuidedBackprop(model)
with torch.no_grad():
    logits = model(x)
grads = gbp.generate_gradients(x, 2)
golden = {
    'state_dict': sd,
    'input': t(x),
    'target_class': 2,
    'logits': t(logits),
    'guided_grads': t(torch.from_numpy(grads)),
    'repr': repr(model),
}
with open(os.path.join(OUT, 'guided_backprop.json'), 'w') as f:
    json.dump(golden, f)
print('wrote', OUT)
