#!/usr/bin/python3
"""Export torchvision model weights (random, seeded) to safetensors for gradlens.

Run with Debian's PyTorch (python3-torch, python3-torchvision), not a venv python:

    /usr/bin/python3 packages/nn/scripts/export_torchvision.py \
        --model resnet50 --num-classes 7 --seed 0 --out /tmp/resnet50_7.safetensors

--init torch (default): torch.manual_seed(seed), then torchvision's own initialisation
    (what `torchvision.models.resnet50(num_classes=7)` gives after seeding).
--init hash: the counter-hash weights of `hash_state_dict` below, which gradlens reproduces
    bit for bit in TypeScript (packages/nn/test/fixtures/parity/hash_init.ts), so tests can
    build the same network without torch and without committing weights.
--keys-json FILE: also write {model: [[key, shape, dtype], ...]} for the state dict.

The safetensors file is written by hand (struct + json; the `safetensors` package is not
needed): tensors in state_dict order, header padded with spaces to 8 bytes, F32 / I64 data.
"""
import argparse
import json
import math
import os
import struct
import sys
import tempfile

import numpy as np

MODELS = ('alexnet', 'vgg16', 'resnet18', 'resnet50')

# ---------------------------------------------------------------------------------------------
# Counter-based hash weights (keep identical to hash_init.ts)
# ---------------------------------------------------------------------------------------------

M32 = 0xFFFFFFFF


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode('utf-8'):
        h ^= b
        h = (h * 0x01000193) & M32
    return h


def _fmix32(x):
    """murmur3's finalizer on a uint32 numpy array (wrapping arithmetic)."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    x = x ^ (x >> np.uint32(16))
    return x


def hash_uniform(name, n, seed):
    """n float32 values in [-1, 1) (multiples of 2^-23), a pure function of (name, index, seed)."""
    key = np.uint32(fnv1a32(name))
    s = np.uint32((seed * 0x85EBCA77) & M32)
    j = np.arange(1, n + 1, dtype=np.uint64).astype(np.uint32)  # counter j+1, mod 2^32
    x = (j * np.uint32(0x9E3779B1)) ^ key ^ s
    x = _fmix32(_fmix32(x) ^ key)
    u = (x >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
    return np.float32(2.0) * u - np.float32(1.0)


def hash_rule(name, shape):
    """(scale, offset) of a state-dict entry: value = float32(float32(v * scale) + offset)."""
    if name.endswith('running_var'):
        return 0.25, 1.0
    if name.endswith('running_mean'):
        return 0.1, 0.0
    if len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        return math.sqrt(3.0 / fan_in), 0.0  # variance 1/fan_in
    if name.endswith('weight'):
        return 0.2, 1.0  # BatchNorm gamma
    return 0.1, 0.0  # biases, BatchNorm beta


def hash_tensor(name, shape, seed):
    n = int(np.prod(shape)) if len(shape) else 1
    scale, offset = hash_rule(name, shape)
    v = hash_uniform(name, n, seed)
    out = v * np.float32(scale) + np.float32(offset)  # float32 multiply then float32 add
    return out.astype(np.float32).reshape(shape)


def hash_state_dict(model, seed):
    """Overwrites every float parameter/buffer of model with hash weights; num_batches_tracked → 0."""
    import torch
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.dtype == torch.int64:
                t.zero_()
            else:
                t.copy_(torch.from_numpy(hash_tensor(name, list(t.shape), seed)))


def hash_input(name, shape, seed, scale=2.0):
    """An input tensor from the same generator (values in [-scale, scale))."""
    n = int(np.prod(shape))
    return (hash_uniform(name, n, seed) * np.float32(scale)).astype(np.float32).reshape(shape)


# ---------------------------------------------------------------------------------------------
# safetensors writer
# ---------------------------------------------------------------------------------------------

_DT = {'torch.float32': 'F32', 'torch.float64': 'F64', 'torch.float16': 'F16', 'torch.bfloat16': 'BF16',
       'torch.int64': 'I64', 'torch.int32': 'I32', 'torch.uint8': 'U8', 'torch.bool': 'BOOL'}


def _to_bytes(t):
    import torch
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype('<i2').tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()


def save_safetensors(tensors, path, metadata=None):
    """tensors: ordered dict name -> torch.Tensor. Written atomically (temp file + rename)."""
    header = {}
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    off = 0
    for name, t in tensors.items():
        b = _to_bytes(t)
        header[name] = {'dtype': _DT[str(t.dtype)], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((-(8 + len(h))) % 8)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix='.' + os.path.basename(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(struct.pack('<Q', len(h)))
            f.write(h)
            for b in blobs:
                f.write(b)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_safetensors_np(path):
    """Minimal reader (F32/F64/I64 only) for checks: name -> numpy array."""
    with open(path, 'rb') as f:
        buf = f.read()
    (n,) = struct.unpack('<Q', buf[:8])
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    np_dt = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8'}
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        out[name] = np.frombuffer(buf[base + a:base + b], dtype=np_dt[e['dtype']]).reshape(e['shape'])
    return out


# ---------------------------------------------------------------------------------------------


def build(model_name, num_classes):
    import torchvision
    return getattr(torchvision.models, model_name)(num_classes=num_classes)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', required=True, choices=MODELS)
    p.add_argument('--num-classes', type=int, default=1000)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--init', choices=('torch', 'hash'), default='torch')
    p.add_argument('--out', help='output .safetensors file')
    p.add_argument('--keys-json', help='also write the state-dict keys/shapes/dtypes as JSON')
    args = p.parse_args(argv)
    import torch
    torch.manual_seed(args.seed)
    model = build(args.model, args.num_classes)
    if args.init == 'hash':
        hash_state_dict(model, args.seed)
    sd = model.state_dict()
    if args.out:
        save_safetensors(sd, args.out, {'format': 'pt', 'model': args.model, 'num_classes': args.num_classes,
                                        'seed': args.seed, 'init': args.init, 'torch': torch.__version__})
        print(f'wrote {args.out}: {len(sd)} tensors, {sum(t.numel() for t in sd.values())} values', file=sys.stderr)
    if args.keys_json:
        with open(args.keys_json, 'w') as f:
            json.dump({args.model: [[k, list(t.shape), str(t.dtype).replace('torch.', '')] for k, t in sd.items()]}, f)


if __name__ == '__main__':
    main()
