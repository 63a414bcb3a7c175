"""Prints the PyTorch behaviours gradlens' core tests assert, so they can be re-checked.

Run with Debian's python3-torch:  /usr/bin/python3 packages/core/scripts/pytorch_semantics.py
Each line is `name: observed`; the README's "Checked against PyTorch" section summarises them.
"""
import torch

torch.set_printoptions(precision=6)


def show(name, fn):
    try:
        print(f"{name}: {fn()}")
    except Exception as e:  # noqa: BLE001 - we want the message
        print(f"{name}: raises {type(e).__name__}: {str(e).splitlines()[0]}")


def hook_order():
    log = []
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: log.append("tensor_hook") or g * 10)
    y.grad_fn.register_prehook(lambda go: log.append("node_prehook")) if hasattr(y.grad_fn, "register_prehook") else None
    y.grad_fn.register_hook(lambda gi, go: log.append("node_posthook"))
    x.register_hook(lambda g: log.append(f"leaf_hook grad_is_none={x.grad is None}"))
    y.sum().backward()
    return f"{log} y.grad={y.grad.tolist()} x.grad={x.grad.tolist()}"


def retain_then_hook():
    x = torch.tensor([1.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    return f"y.grad={y.grad.tolist()} (2.x gives 10: retain_grad runs last)"


def posthook_replace_keep():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    y = x.relu()
    y.grad_fn.register_hook(lambda gi, go: None)
    y.sum().backward()
    a = x.grad.tolist()
    x.grad = None
    y = x.relu()
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 3,))
    y.sum().backward()
    return f"None keeps {a}; replacement gives {x.grad.tolist()}"


def posthook_wrong_count():
    x = torch.tensor([1.0], requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
    y.sum().backward()


def posthook_wrong_shape():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: (torch.ones(3),))
    y.sum().backward()


def tensor_hook_wrong_shape():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: torch.ones(3))
    y.sum().backward()


def second_backward():
    x = torch.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def second_backward_no_saved():
    x = torch.tensor([1.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    return f"ok, x.grad={x.grad.tolist()}"


def version_counter():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.sigmoid()
    z = y * 1
    y.mul_(2)
    z2 = y.sum()  # noqa: F841
    (y.sum()).backward()


def leaf_inplace():
    x = torch.tensor([1.0], requires_grad=True)
    x.add_(1)


def view_of_leaf_inplace():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x[0:1].add_(1)


def detached_view_inplace():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x[0:1].detach().zero_()
    return f"ok, x={x.tolist()} version={x._version}"


def allow_unused():
    x = torch.tensor([1.0], requires_grad=True)
    w = torch.tensor([1.0], requires_grad=True)
    return torch.autograd.grad((x * 2).sum(), [x, w], allow_unused=True)


def not_allow_unused():
    x = torch.tensor([1.0], requires_grad=True)
    w = torch.tensor([1.0], requires_grad=True)
    return torch.autograd.grad((x * 2).sum(), [x, w])


def create_graph():
    x = torch.tensor([2.0], requires_grad=True)
    (g,) = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    return f"d/dx x^3 at 2 = {g.tolist()} ({g.grad_fn.name()}), d2 = {gg.tolist()}"


def grad_outputs_requires_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    v = torch.tensor([3.0, 4.0], requires_grad=True)
    (g,) = torch.autograd.grad(x * x, x, grad_outputs=v, create_graph=True)
    (gv,) = torch.autograd.grad(g.sum(), v)
    return f"grad wrt v of vjp = {gv.tolist()}"


def accumulation():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    g1 = x.grad
    (x * 3).sum().backward()
    return f"{x.grad.tolist()}, same object: {g1 is x.grad}"


def hook_saved_grad_not_mutated():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    saved = []
    x.register_hook(lambda g: saved.append(g))
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    return f"first hook grad after second backward: {saved[0].tolist()}, x.grad={x.grad.tolist()}"


def create_graph_grad_aliasing():
    a = torch.tensor([1.0], requires_grad=True)
    b = torch.tensor([1.0], requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    return f"a.grad is b.grad: {a.grad is b.grad}, a.grad.grad_fn={a.grad.grad_fn}"


def maximum_tie():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = torch.tensor([1.0, 3.0, 2.0], requires_grad=True)
    torch.maximum(a, b).sum().backward()
    r = f"maximum: a.grad={a.grad.tolist()} b.grad={b.grad.tolist()}"
    a.grad = None
    b.grad = None
    torch.minimum(a, b).sum().backward()
    return r + f"; minimum: a.grad={a.grad.tolist()} b.grad={b.grad.tolist()}"


def amax_ties():
    x = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amax(1).sum().backward()
    r = f"amax(1): {x.grad.tolist()}"
    x.grad = None
    x.max().backward()
    r += f"; max(): {x.grad.tolist()}"
    x.grad = None
    v, i = x.max(1)
    v.sum().backward()
    return r + f"; max(1): indices={i.tolist()} grad={x.grad.tolist()}"


def clamp_boundary():
    x = torch.tensor([0.0, 0.5, 1.0, -1.0, 2.0], requires_grad=True)
    x.clamp(min=0.0, max=1.0).sum().backward()
    r = f"clamp(0,1): {x.grad.tolist()}"
    x.grad = None
    x.clamp(min=0.0).sum().backward()
    return r + f"; clamp(min=0): {x.grad.tolist()}"


def at_zero(name, f):
    x = torch.tensor([0.0], requires_grad=True)
    f(x).sum().backward()
    return x.grad.tolist()


def pow_tensor_exp_zero():
    b = torch.tensor([0.0, 0.0, 2.0], requires_grad=True)
    e = torch.tensor([0.0, 2.0, 0.0], requires_grad=True)
    torch.pow(b, e).sum().backward()
    return f"b.grad={b.grad.tolist()} e.grad={e.grad.tolist()}"


def names():
    x = torch.ones(2, 3, requires_grad=True)
    c = torch.tensor([True, False, True])
    i = torch.tensor([[0], [1]])
    out = {
        "mul": (x * 2).grad_fn.name(),
        "where": torch.where(c, x, x).grad_fn.name(),
        "where next_functions": len(torch.where(c, x, x).grad_fn.next_functions),
        "gather next_functions": len(x.gather(1, i).grad_fn.next_functions),
        "unsqueeze": x.unsqueeze(0).grad_fn.name(),
        "squeeze": x.unsqueeze(0).squeeze(0).grad_fn.name(),
        "flatten": x.flatten().grad_fn.name(),
        "pow scalar base": torch.pow(2.0, x).grad_fn.name(),
        "pow tensor": torch.pow(x, x).grad_fn.name(),
        "sum": x.sum().grad_fn.name(),
        "sum dim": x.sum(1).grad_fn.name(),
        "clamp min": x.clamp(min=0).grad_fn.name(),
        "clamp both": x.clamp(min=0, max=1).grad_fn.name(),
        "max()": x.max().grad_fn.name(),
        "max(dim)": x.max(1)[0].grad_fn.name(),
    }
    return out


def tensor_hook_nonexecuted_leaf():
    x = torch.tensor([1.0], requires_grad=True)
    w = torch.tensor([1.0], requires_grad=True)
    fired = []
    w.register_hook(lambda g: fired.append("w"))
    torch.autograd.grad((x * w).sum(), x)
    return f"hook on leaf not in inputs fired: {bool(fired)}"


def remove_during_backward():
    x = torch.tensor([1.0], requires_grad=True)
    y = x * 2
    calls = []
    h2 = None

    def h1(g):
        calls.append("h1")
        h2.remove()

    h1h = y.register_hook(h1)  # noqa: F841
    h2 = y.register_hook(lambda g: calls.append("h2") or g * 100)
    y.sum().backward()
    return f"calls={calls} x.grad={x.grad.tolist()}"


def custom_function():
    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, None, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, n, b = ctx.saved_tensors
            return g * b, None

    a = torch.tensor([1.0], requires_grad=True)
    b = torch.tensor([2.0], requires_grad=True)
    F.apply(a, b).sum().backward()
    return f"saved with None slot ok; a.grad={a.grad.tolist()} b.grad={b.grad}"


def custom_wrong_count():
    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return (g,)

    a = torch.tensor([1.0], requires_grad=True)
    F.apply(a, a).sum().backward()


def needs_input_grad_no_grad():
    seen = []

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            seen.append(ctx.needs_input_grad)
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return g

    a = torch.tensor([1.0], requires_grad=True)
    F.apply(a)
    with torch.no_grad():
        F.apply(a)
    return seen


def numpy_requires_grad():
    torch.tensor([1.0], requires_grad=True).numpy()


def default_dtype():
    return f"{torch.tensor([1, 2]).dtype} {torch.tensor([1.0, 2]).dtype} {torch.FloatTensor(1, 3).dtype}"


def guided_rule():
    x = torch.tensor([-1.0, 2.0, 3.0, 0.0], requires_grad=True)
    y = x.relu()
    y.grad_fn.register_hook(lambda gi, go: (torch.clamp(gi[0], min=0.0),))
    y.backward(torch.tensor([1.0, -1.0, 2.0, 5.0]))
    return x.grad.tolist()


def post_accumulate():
    return f"register_post_accumulate_grad_hook exists: {hasattr(torch.Tensor, 'register_post_accumulate_grad_hook')}"


def data_version():
    x = torch.tensor([1.0], requires_grad=True)
    y = x.sigmoid()
    y.data.mul_(2)
    y.backward()
    return f"modifying .data is not tracked: x.grad={x.grad.tolist()}"


for name, fn in [
    ("hook order", hook_order),
    ("retain_grad vs hook (1.13)", retain_then_hook),
    ("node posthook None/replace", posthook_replace_keep),
    ("posthook wrong count", posthook_wrong_count),
    ("posthook wrong shape", posthook_wrong_shape),
    ("tensor hook wrong shape", tensor_hook_wrong_shape),
    ("second backward", second_backward),
    ("second backward no saved tensors", second_backward_no_saved),
    ("version counter", version_counter),
    ("leaf in-place", leaf_inplace),
    ("view of leaf in-place", view_of_leaf_inplace),
    ("detached view of leaf in-place", detached_view_inplace),
    ("allow_unused", allow_unused),
    ("unused without allow_unused", not_allow_unused),
    ("create_graph", create_graph),
    ("grad_outputs requiring grad", grad_outputs_requires_grad),
    ("accumulation", accumulation),
    ("hook-captured grad not mutated", hook_saved_grad_not_mutated),
    ("create_graph grad aliasing", create_graph_grad_aliasing),
    ("maximum/minimum tie", maximum_tie),
    ("amax/max ties", amax_ties),
    ("clamp boundary", clamp_boundary),
    ("relu at 0", lambda: at_zero("relu", torch.relu)),
    ("abs at 0", lambda: at_zero("abs", torch.abs)),
    ("sqrt at 0", lambda: at_zero("sqrt", torch.sqrt)),
    ("pow(x,2) at 0", lambda: at_zero("pow", lambda x: x ** 2)),
    ("pow(x,0.5) at 0", lambda: at_zero("pow", lambda x: x ** 0.5)),
    ("pow(x,0) at 0", lambda: at_zero("pow", lambda x: x ** 0)),
    ("pow tensor exponent at 0", pow_tensor_exp_zero),
    ("names", names),
    ("hook on leaf outside autograd.grad inputs", tensor_hook_nonexecuted_leaf),
    ("remove hook during backward", remove_during_backward),
    ("custom Function", custom_function),
    ("custom Function wrong count", custom_wrong_count),
    ("needs_input_grad (grad / no_grad)", needs_input_grad_no_grad),
    ("numpy() on requires_grad", numpy_requires_grad),
    ("default dtypes", default_dtype),
    ("guided backprop rule", guided_rule),
    ("post accumulate hook", post_accumulate),
    (".data not version tracked", data_version),
]:
    show(name, fn)
