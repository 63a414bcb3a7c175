"""Regenerates packages/core/test/fixtures/goldens.json from PyTorch (the spec for gradlens' autograd).

Run with Debian's python3-torch:  /usr/bin/python3 packages/core/scripts/make_goldens.py
Inputs are deterministic formulas (no torch RNG), written into the fixture next to PyTorch's
forward outputs and gradients; goldens.test.ts replays each graph in gradlens and compares.
"""
import json
import os

import torch


def det(shape, salt, scale=1.0, shift=0.0):
    """Deterministic, irregular values in about [-scale, scale] (+shift), exactly representable in float32."""
    n = 1
    for s in shape:
        n *= s
    vals = [(((i * 37 + salt * 11) % 23) - 11) / 11.0 * scale + shift for i in range(n)]
    vals = torch.tensor(vals, dtype=torch.float32).reshape(shape)
    return vals


def leaf(t):
    return t.clone().requires_grad_(True)


def lst(t):
    return t.detach().tolist()


def mlp_guided():
    x, w1, b1, w2 = det([1, 5], 1), det([5, 4], 2, 0.7), det([4], 3, 0.3), det([4, 3], 4, 0.9)
    k = 1
    out = {"inputs": {"x": lst(x), "w1": lst(w1), "b1": lst(b1), "w2": lst(w2)}, "target_class": k}
    for guided in (False, True):
        xs, w1s, b1s, w2s = map(leaf, (x, w1, b1, w2))
        first = xs @ w1s
        h = first + b1s
        a = torch.relu(h)
        y = a @ w2s
        captured = {}
        first.grad_fn.register_hook(lambda gi, go: captured.update(first_grad_in0=gi[0]))
        if guided:
            a.grad_fn.register_hook(lambda gi, go: (torch.clamp(gi[0], min=0.0),))
        one_hot = torch.FloatTensor(1, y.size()[-1]).zero_()
        one_hot[0][k] = 1
        y.backward(gradient=one_hot)
        key = "guided" if guided else "vanilla"
        out[key] = {
            "y": lst(y),
            "x_grad": lst(xs.grad), "w1_grad": lst(w1s.grad), "b1_grad": lst(b1s.grad), "w2_grad": lst(w2s.grad),
            "first_grad_in0": lst(captured["first_grad_in0"]),
        }
    return out


def softmax_gather():
    x, w = det([3, 4], 5), det([4, 5], 6, 0.8)
    target = [[2], [0], [4]]
    xs, ws = leaf(x), leaf(w)
    logits = xs @ ws
    logp = torch.log_softmax(logits, 1)
    nll = -logp.gather(1, torch.tensor(target)).mean()
    p = torch.softmax(logits, 0)
    loss = nll + (p * p).sum() * 0.5
    loss.backward()
    return {"inputs": {"x": lst(x), "w": lst(w), "target": target},
            "loss": loss.item(), "x_grad": lst(xs.grad), "w_grad": lst(ws.grad)}


def broadcast_reduce():
    a, b, c = det([2, 1, 3], 7), det([4, 1], 8, 1.0, 2.5), det([3], 9)
    a_, b_, c_ = leaf(a), leaf(b), leaf(c)
    t = a_ * b_ + a_ / b_ - c_              # [2, 4, 3]
    s = t.sum(dim=1, keepdim=True)          # [2, 1, 3]
    m = t.mean(dim=(0, 2))                  # [4]
    mx = t.amax(dim=2)                      # [2, 4]
    out = (s * s).sum() + (m.exp()).sum() + torch.maximum(mx, torch.zeros(())).sum() + (t.abs() + 0.5).sqrt().sum() * 0.1 + (t.abs() + 1).log().mean()
    out.backward()
    return {"inputs": {"a": lst(a), "b": lst(b), "c": lst(c)},
            "out": out.item(), "a_grad": lst(a_.grad), "b_grad": lst(b_.grad), "c_grad": lst(c_.grad)}


def batched_matmul():
    a, b, v = det([2, 1, 3, 4], 10, 0.5), det([3, 4, 2], 11, 0.5), det([2], 12)
    a_, b_, v_ = leaf(a), leaf(b), leaf(v)
    y = torch.matmul(a_, b_)                # [2, 3, 3, 2]
    z = torch.tanh(y).matmul(v_)            # [2, 3, 3]
    w = torch.sigmoid(z).permute(2, 0, 1).reshape(3, -1)
    out = w.pow(2).sum() + torch.stack([w[0], w[2]], 0).mean() + torch.cat([w[:, 1:3], w[:, 0:1]], 1).select(1, 2).sum()
    out.backward()
    return {"inputs": {"a": lst(a), "b": lst(b), "v": lst(v)},
            "y": lst(y), "out": out.item(), "a_grad": lst(a_.grad), "b_grad": lst(b_.grad), "v_grad": lst(v_.grad)}


def second_order():
    x, y = det([3], 13, 1.0, 0.2), det([3], 14)
    x_, y_ = leaf(x), leaf(y)
    f = (x_ * x_ * x_).sum() + (x_.exp() * y_).sum() + (x_ * y_).pow(2).sum()
    (g,) = torch.autograd.grad(f, x_, create_graph=True)
    h = (g * g).sum()
    hx, hy = torch.autograd.grad(h, [x_, y_])
    return {"inputs": {"x": lst(x), "y": lst(y)}, "f": f.item(), "g": lst(g), "h": h.item(),
            "h_x": lst(hx), "h_y": lst(hy)}


goldens = {
    "torch_version": torch.__version__,
    "mlp_guided": mlp_guided(),
    "softmax_gather": softmax_gather(),
    "broadcast_reduce": broadcast_reduce(),
    "batched_matmul": batched_matmul(),
    "second_order": second_order(),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "goldens.json")
with open(path, "w") as f:
    json.dump(goldens, f, indent=1)
    f.write("\n")
print(f"wrote {os.path.normpath(path)}")
