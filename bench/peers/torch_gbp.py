#!/usr/bin/python3
"""PyTorch peer of `pnpm bench`: the seed's GuidedBackprop on one model, timed.

Run with Debian's PyTorch (/usr/bin/python3). Called by bench/run.ts, one process per model
(so VmHWM is this model's peak RSS):

    /usr/bin/python3 bench/peers/torch_gbp.py --model resnet50 --weights W.safetensors \
        --input X.f32 --size 224 --classes 7 --target 3 --runs 7 --warmup 2 --budget 60 \
        [--threads 2] [--grad-out G.f32] [--no-param-grads]

GuidedBackprop below is the seed notebook's class (/work/shared/seed/guided_backprop_saliency.md)
unchanged except for tabs -> spaces: legacy `register_backward_hook` on every nn.ReLU returning
clamp(grad_in[0], min=0), and a backward hook on `list(model.children())[0]` keeping grad_in[0].
The input is a leaf with requires_grad=True (as the seed's preprocess_image makes it), and the
model's parameters require grad (so PyTorch also computes weight gradients, as in the seed);
--no-param-grads turns that off (requires_grad_(False) on every parameter) for a reference row.

Prints `@@RESULT {json}` as its last line.
"""
import argparse
import json
import os
import sys
import time

T_START = time.perf_counter()

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import ReLU

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'packages', 'nn', 'scripts'))
from export_torchvision import load_safetensors_np  # noqa: E402


# ---------------------------------------------------------------------------------------------
# The seed's class
# ---------------------------------------------------------------------------------------------

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'examples'))
from guided_backprop import GuidedBackprop  # noqa: E402  (the seed's class, unchanged)


# ---------------------------------------------------------------------------------------------
# face-api's FaceExpressionNet in PyTorch (packages/nn/src/models/FACE_EXPRESSION_NOTES.md)
# ---------------------------------------------------------------------------------------------

class SamePadConv(nn.Conv2d):
    """Conv2d with TensorFlow 'same' padding (asymmetric on stride 2), padding done inside."""
    def forward(self, x):
        k, s = self.kernel_size[0], self.stride[0]
        h = x.shape[-1]
        out = -(-h // s)
        total = max(0, (out - 1) * s + k - h)
        b = total // 2
        if total:
            x = F.pad(x, (b, total - b, b, total - b))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


class SepConv(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.depthwise = SamePadConv(cin, cin, 3, stride=stride, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class DenseBlock4(nn.Module):
    def __init__(self, cin, cout, first):
        super().__init__()
        self.conv0 = SamePadConv(cin, cout, 3, stride=2) if first else SepConv(cin, cout, 2)
        self.conv1 = SepConv(cout, cout, 1)
        self.conv2 = SepConv(cout, cout, 1)
        self.conv3 = SepConv(cout, cout, 1)
        self.relu0, self.relu1, self.relu2, self.relu3 = ReLU(), ReLU(), ReLU(), ReLU()

    def forward(self, x):
        out1 = self.relu0(self.conv0(x))
        out2 = self.conv1(out1)
        in3 = self.relu1(out1 + out2)
        out3 = self.conv2(in3)
        in4 = self.relu2(out1 + (out2 + out3))
        out4 = self.conv3(in4)
        return self.relu3(out1 + (out2 + (out3 + out4)))


class FaceExpressionNet(nn.Module):
    """children()[0] is the first convolution (the seed's first-layer hook sees the image gradient)."""
    def __init__(self, num_classes=7):
        super().__init__()
        self.first = SamePadConv(3, 32, 3, stride=2)
        self.dense0 = DenseBlock4(3, 32, True)
        self.dense0.conv0 = self.first  # the same module, so it is not counted twice
        self.dense1 = DenseBlock4(32, 64, False)
        self.dense2 = DenseBlock4(64, 128, False)
        self.dense3 = DenseBlock4(128, 256, False)
        self.fc = nn.Linear(256, num_classes)

    def forward(self, x):
        x = self.dense3(self.dense2(self.dense1(self.dense0(x))))
        x = F.avg_pool2d(x, 7, 2)
        return self.fc(x.flatten(1))

    def load_face_api(self, sd):
        sd = dict(sd)
        sd['first.weight'] = sd['dense0.conv0.weight']
        sd['first.bias'] = sd['dense0.conv0.bias']
        return self.load_state_dict(sd, strict=True)


def build(name, classes):
    if name == 'face_expression':
        return FaceExpressionNet(classes)
    import torchvision
    return getattr(torchvision.models, name)(num_classes=classes)


def peak_rss_kb():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True)
    p.add_argument('--weights', required=True)
    p.add_argument('--input', required=True)
    p.add_argument('--size', type=int, required=True)
    p.add_argument('--classes', type=int, required=True)
    p.add_argument('--target', type=int, default=0)
    p.add_argument('--runs', type=int, default=7)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--min-runs', type=int, default=3)
    p.add_argument('--budget', type=float, default=60.0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--grad-out')
    p.add_argument('--no-param-grads', action='store_true')
    p.add_argument('--peer', default='torch')
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    model = build(a.model, a.classes)
    sd = {k: torch.from_numpy(v.copy()) for k, v in load_safetensors_np(a.weights).items()}
    if a.model == 'face_expression':
        model.load_face_api(sd)
    else:
        model.load_state_dict(sd, strict=True)
    if a.no_param_grads:
        for q in model.parameters():
            q.requires_grad_(False)
    x = np.fromfile(a.input, dtype='<f4').reshape(1, 3, a.size, a.size)
    prep_img = torch.from_numpy(x.copy()).requires_grad_(True)
    GBP = GuidedBackprop(model)
    setup_ms = (time.perf_counter() - t0) * 1000

    import warnings
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        g = GBP.generate_gradients(prep_img, a.target)  # first call: warm-up 0
    for w in caught:
        msg = 'torch warning: ' + str(w.message).split('.')[0]
        if msg not in notes:
            notes.append(msg)
    notes.append(f'first-layer hook grad_in[0] shape {list(g.shape)}')
    warnings.simplefilter('ignore')
    warm = []
    for _ in range(max(0, a.warmup - 1)):
        prep_img.grad = None
        t = time.perf_counter()
        GBP.generate_gradients(prep_img, a.target)
        warm.append((time.perf_counter() - t) * 1000)
    times = []
    tstart = time.perf_counter()
    while len(times) < a.runs:
        prep_img.grad = None
        t = time.perf_counter()
        GBP.generate_gradients(prep_img, a.target)
        times.append((time.perf_counter() - t) * 1000)
        if len(times) >= a.min_runs and time.perf_counter() - tstart > a.budget:
            break
    if a.grad_out:
        # the guided gradient w.r.t. the image, from the input leaf's .grad: the seed's hook
        # output is that only when children()[0] is a single-node first conv (resnet50); for
        # alexnet/vgg16 children()[0] is the `features` Sequential, and the face net's first
        # conv pads first, so the legacy hook sees an inner node's input instead
        prep_img.grad = None
        GBP.generate_gradients(prep_img, a.target)
        np.ascontiguousarray(prep_img.grad.numpy()[0], dtype='<f4').tofile(a.grad_out)
    res = {
        'peer': a.peer, 'model': a.model, 'times_ms': times, 'warmup_ms': warm, 'peak_rss_kb': peak_rss_kb(),
        'threads': torch.get_num_threads(), 'notes': notes, 'setup_ms': setup_ms,
        'versions': {'torch': torch.__version__, 'python': sys.version.split()[0]},
    }
    print('@@RESULT ' + json.dumps(res), flush=True)


if __name__ == '__main__':
    main()
