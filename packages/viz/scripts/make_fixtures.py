#!/usr/bin/python3
"""Regenerate the golden fixtures of @gradlens/viz.

Run with Debian's interpreter (python3-numpy, python3-pil, python3-matplotlib):

    /usr/bin/python3 packages/viz/scripts/make_fixtures.py

It re-implements the behaviour of the pytorch-cnn-visualizations helpers
(misc_functions.py) with numpy / PIL / matplotlib only (no torch), and writes

* test/fixtures/**           small .npy / .png / .jpg goldens + manifest.json
* test/fixtures/malformed/** a corpus of broken image files
* src/colormap/tables.ts     the 256-entry matplotlib lookup tables

Everything is deterministic (fixed seeds), so rerunning produces the same files.
"""
import json
import os
import shutil
import struct
import zlib

import matplotlib
import numpy as np
import PIL
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
FIX = os.path.join(PKG, 'test', 'fixtures')
BAD = os.path.join(FIX, 'malformed')
FACE_SRC = os.environ.get('GRADLENS_FACE', os.path.join(PKG, '..', '..', '..', 'shared', 'data', 'AF01HAHR.png'))
FACE = os.path.join(FIX, 'AF01HAHR.png')

CMAPS = ['hsv', 'jet', 'viridis', 'gray', 'seismic']
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

manifest = {
    'versions': {'numpy': np.__version__, 'PIL': PIL.__version__, 'matplotlib': matplotlib.__version__},
}


def out(*parts):
    p = os.path.join(FIX, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def save_npy(name, arr):
    np.save(out(name + '.npy'), np.ascontiguousarray(arr), allow_pickle=False)


def get_cmap(name):
    return matplotlib.colormaps[name]


# ---------------------------------------------------------------- the helpers
# Re-statements of the behaviour of misc_functions.py (numpy semantics kept:
# in-place float32 arithmetic, astype truncation, percentile defaults).

def grayscale(g):
    s = np.sum(np.abs(g), axis=0)
    hi = np.percentile(s, 99)
    lo = np.min(s)
    s = np.clip((s - lo) / (hi - lo), 0, 1)
    return np.expand_dims(s, axis=0)


def fmt(a):
    if a.ndim == 2:
        a = np.expand_dims(a, axis=0)
    if a.shape[0] == 1:
        a = np.repeat(a, 3, axis=0)
    if a.shape[0] == 3:
        a = a.transpose(1, 2, 0)
    if np.max(a) <= 1:
        a = (a * 255).astype(np.uint8)
    return a


def save_img(im, path):
    if isinstance(im, (np.ndarray, np.generic)):
        im = Image.fromarray(fmt(im))
    im.save(path)


def save_grad(g, path):
    g = g - g.min()
    g /= g.max()
    save_img(g, path)


def saliency(g):
    return np.maximum(0, g) / g.max(), np.maximum(0, -g) / -g.min()


def preprocess(pil_im, resize_im=True):
    if resize_im:
        pil_im = pil_im.resize((224, 224), Image.LANCZOS)
    a = np.float32(pil_im).transpose(2, 0, 1)
    for c in range(a.shape[0]):
        a[c] /= 255
        a[c] -= MEAN[c]
        a[c] /= STD[c]
    return a[None]


def recreate(batched):
    r = batched[0].copy()
    rev_mean = [-0.485, -0.456, -0.406]
    rev_std = [1 / 0.229, 1 / 0.224, 1 / 0.225]
    for c in range(3):
        r[c] /= rev_std[c]
        r[c] -= rev_mean[c]
    r[r > 1] = 1
    r[r < 0] = 0
    r = np.round(r * 255)
    return np.uint8(r).transpose(1, 2, 0)


def colormap_on_image(org_im, activation, name):
    cm = get_cmap(name)
    no_trans = cm(activation)
    heat = no_trans.copy()
    heat[:, :, 3] = 0.4
    heat = Image.fromarray((heat * 255).astype(np.uint8))
    no_trans = Image.fromarray((no_trans * 255).astype(np.uint8))
    on = Image.new('RGBA', org_im.size)
    on = Image.alpha_composite(on, org_im.convert('RGBA'))
    on = Image.alpha_composite(on, heat)
    return no_trans, on


# ------------------------------------------------------------------ fixtures

def make_gradients():
    rng = np.random.default_rng(1234)
    g = rng.standard_normal((3, 24, 20)).astype(np.float32) * np.float32(1e-3)
    g[rng.random((3, 24, 20)) < 0.3] = 0  # ReLU-like sparsity
    g64 = rng.standard_normal((3, 16, 12)) * 5.0
    save_npy('grad_f32', g)
    save_npy('grad_f64', g64)
    for tag, arr in (('f32', g), ('f64', g64)):
        gray = grayscale(arr)
        save_npy(f'gray_{tag}', gray)
        pos, neg = saliency(arr)
        save_npy(f'pos_{tag}', pos)
        save_npy(f'neg_{tag}', neg)
        save_grad(arr.copy(), out(f'saved_{tag}_color.png'))
        save_grad(gray.copy(), out(f'saved_{tag}_gray.png'))
        save_grad(pos.copy(), out(f'saved_{tag}_pos_sal.png'))
        save_grad(neg.copy(), out(f'saved_{tag}_neg_sal.png'))
    manifest['gray_dtype'] = str(grayscale(g).dtype)


def make_format():
    rng = np.random.default_rng(7)
    cases = {
        'hw_f64': rng.random((5, 7)),
        'chw1_f32': rng.random((1, 5, 7)).astype(np.float32),
        'chw3_f32': rng.random((3, 5, 7)).astype(np.float32),
        'hwc_u8': rng.integers(0, 256, (5, 7, 3)).astype(np.uint8),
        'chw3_big_f64': rng.random((3, 5, 7)) * 10,
    }
    # values right at the truncation edges
    edge = np.array([0, 1, 0.5, 1 / 255, 2 / 255, 254.5 / 255, 0.99999994, 0.003921568, 0.1, 0.7],
                    dtype=np.float32).reshape(1, 2, 5)
    cases['edges_f32'] = edge
    cases['edges_f64'] = edge.astype(np.float64)
    for k, v in cases.items():
        save_npy(f'fmt_in_{k}', v)
        save_npy(f'fmt_out_{k}', fmt(v))
    for k in ('hw_f64', 'chw1_f32', 'chw3_f32', 'hwc_u8', 'edges_f32'):
        save_img(cases[k], out(f'save_{k}.png'))


def make_preprocess(face):
    ramp = np.zeros((16, 16, 3), dtype=np.uint8)
    rng = np.random.default_rng(3)
    for c in range(3):
        ramp[:, :, c] = rng.permutation(256).reshape(16, 16)
    Image.fromarray(ramp).save(out('ramp16.png'))
    p = preprocess(Image.fromarray(ramp), resize_im=False)
    save_npy('prep_ramp16', p)
    save_npy('recreate_ramp16', recreate(p))
    z = (rng.standard_normal((1, 3, 16, 12)) * 1.5).astype(np.float32)
    save_npy('recreate_in_rand', z)
    save_npy('recreate_out_rand', recreate(z))
    pf = preprocess(face)
    assert pf.shape == (1, 3, 224, 224)
    save_npy('prep_face_sub7', pf[0, :, ::7, ::7])
    manifest['prep_face'] = {
        'sum': float(pf.astype(np.float64).sum()),
        'min': float(pf.min()),
        'max': float(pf.max()),
    }


FILTERS = {
    'nearest': Image.NEAREST,
    'box': Image.BOX,
    'bilinear': Image.BILINEAR,
    'hamming': Image.HAMMING,
    'bicubic': Image.BICUBIC,
    'lanczos': Image.LANCZOS,
}


def make_resize(face):
    crop = face.crop((50, 60, 98, 100))  # 48 x 40
    crop.save(out('face_crop48x40.png'))
    gray = face.convert('L')
    gray.save(out('face_gray.png'))
    gcrop = crop.convert('L')
    cases = []
    for fname, f in FILTERS.items():
        for mode, src, srcname in (('RGB', face, 'face'), ('L', gray, 'face_gray')):
            for size in ((64, 48), (37, 53)):
                cases.append((srcname, f'{srcname}_{fname}_{size[0]}x{size[1]}', src.resize(size, f), fname, size))
        for src, srcname in ((crop, 'face_crop48x40'), (gcrop, 'face_crop48x40_gray')):
            size = (101, 87)
            cases.append((srcname, f'{srcname}_{fname}_{size[0]}x{size[1]}', src.resize(size, f), fname, size))
    # the preprocess path: 160x160 -> 224x224 LANCZOS
    cases.append(('face', 'face_lanczos_224x224', face.resize((224, 224), Image.LANCZOS), 'lanczos', (224, 224)))
    entries = []
    for srcname, name, im, fname, size in cases:
        im.save(out('resize', name + '.png'))
        entries.append({'src': srcname, 'out': 'resize/' + name + '.png', 'filter': fname, 'size': list(size)})
    gcrop.save(out('face_crop48x40_gray.png'))
    manifest['resize'] = entries


def make_colormaps():
    tables = {}
    for name in CMAPS:
        lut = get_cmap(name)(np.arange(256))
        assert np.all(lut[:, 3] == 1.0)
        tables[name] = [[float(v) for v in row[:3]] for row in lut]
    lines = [
        '// Generated by packages/viz/scripts/make_fixtures.py from matplotlib '
        + matplotlib.__version__ + ' -- do not edit.',
        '// 256-entry RGB lookup tables (alpha is 1 everywhere) of the colormaps viz knows by name.',
        '',
        '/** The colormap names with a built-in lookup table. */',
        'export const COLORMAP_NAMES = ' + json.dumps(CMAPS) + ' as const;',
        '',
        '/** A colormap name with a built-in lookup table. */',
        'export type ColormapName = (typeof COLORMAP_NAMES)[number];',
        '',
        '/** Flat [r0, g0, b0, r1, ...] float64 lookup tables, 256 entries each, as matplotlib computes them. */',
        'export const COLORMAP_TABLES: Readonly<Record<ColormapName, readonly number[]>> = {',
    ]
    for name in CMAPS:
        flat = [repr(v) for row in tables[name] for v in row]
        lines.append(f'  {name}: [' + ','.join(flat) + '],')
    lines.append('};')
    lines.append('')
    with open(os.path.join(PKG, 'src', 'colormap', 'tables.ts'), 'w') as fh:
        fh.write('\n'.join(lines))

    # colormap lookups on edge inputs
    f = np.array([0, 1, 0.5, 1 / 256, 1 / 256 - 1e-12, 255 / 256, 255 / 256 - 1e-12, 0.9999999, -0.001, -1.5, 1.0001, 7,
                  np.nan, 0.25, 0.75, 1e-300], dtype=np.float64)
    i = np.array([0, 1, 127, 128, 255, -1, -300, 256, 1000, 42], dtype=np.int64)
    u = np.arange(256, dtype=np.uint8)
    f32 = np.linspace(-0.1, 1.1, 97, dtype=np.float32)
    save_npy('cmap_in_f64', f)
    save_npy('cmap_in_i64', i)
    save_npy('cmap_in_f32', f32)
    for name in CMAPS:
        cm = get_cmap(name)
        save_npy(f'cmap_{name}_f64', cm(f))
        save_npy(f'cmap_{name}_i64', cm(i))
        save_npy(f'cmap_{name}_u8', cm(u))
        save_npy(f'cmap_{name}_f32', cm(f32))


def make_cam(face):
    h, w = face.size[1], face.size[0]
    yy, xx = np.mgrid[0:h, 0:w]
    act = np.exp(-(((xx - 70) / 35.0) ** 2 + ((yy - 90) / 25.0) ** 2))
    act = (act - act.min()) / (act.max() - act.min())
    # as Grad-CAM produces it: uint8 map / 255 (float64 values k/255)
    act_u8_full = np.uint8(act * 255)
    save_npy('cam_act_full_u8', act_u8_full)
    act = act_u8_full / 255
    heat, on = colormap_on_image(face, act, 'hsv')
    heat.save(out('cam', 'hsv_heatmap.png'))
    on.save(out('cam', 'hsv_on_image.png'))
    save_img(act, out('cam', 'hsv_grayscale.png'))  # the third file of save_class_activation_images
    crop = face.crop((50, 60, 98, 100))
    rng = np.random.default_rng(11)
    act_u8 = rng.integers(0, 256, (40, 48)).astype(np.uint8)
    act_f32 = rng.random((40, 48)).astype(np.float32)
    act_f32[0, :6] = [0, 1, -0.5, 1.5, 0.99999994, np.nan]
    save_npy('cam_act_u8', act_u8)
    save_npy('cam_act_f32', act_f32)
    for name in CMAPS:
        for tag, a in (('u8', act_u8), ('f32', act_f32)):
            heat, on = colormap_on_image(crop, a, name)
            heat.save(out('cam', f'{name}_{tag}_heatmap.png'))
            on.save(out('cam', f'{name}_{tag}_on_image.png'))
    # alpha_composite on arbitrary RGBA pairs (every alpha edge case)
    dst = rng.integers(0, 256, (16, 16, 4)).astype(np.uint8)
    src = rng.integers(0, 256, (16, 16, 4)).astype(np.uint8)
    dst[0, :, 3] = 0
    src[1, :, 3] = 0
    dst[2, :, 3] = 255
    src[3, :, 3] = 255
    src[4, :, 3] = 1
    dst[5, :, 3] = 1
    save_npy('composite_dst', dst)
    save_npy('composite_src', src)
    save_npy('composite_out', np.asarray(Image.alpha_composite(Image.fromarray(dst), Image.fromarray(src))))


# ----------------------------------------------------------- PNG/JPEG readers

def chunk(tag, data):
    c = struct.pack('>I', len(data)) + tag + data
    return c + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)


def raw_png(width, height, depth, ctype, rows, extra=b'', interlace=0, plte=None):
    """rows: list of bytes per scanline (already packed), filter byte added here."""
    sig = b'\x89PNG\r\n\x1a\n'
    ihdr = struct.pack('>IIBBBBB', width, height, depth, ctype, 0, 0, interlace)
    body = b''.join(b'\x00' + r for r in rows)
    data = sig + chunk(b'IHDR', ihdr)
    if plte is not None:
        data += chunk(b'PLTE', plte)
    data += extra + chunk(b'IDAT', zlib.compress(body)) + chunk(b'IEND', b'')
    return data


def pack_bits(vals, depth):
    out_b = bytearray()
    per = 8 // depth
    for i in range(0, len(vals), per):
        byte = 0
        grp = list(vals[i:i + per]) + [0] * (per - len(vals[i:i + per]))
        for v in grp:
            byte = (byte << depth) | int(v)
        out_b.append(byte)
    return bytes(out_b)


def adam7_rows(arr):
    """Concatenated scanlines of the 7 Adam7 passes of an 8-bit H x W x C array."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        sub = arr[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        rows.extend(r.tobytes() for r in sub)
    return rows


def make_png_variants(face):
    crop = face.crop((60, 50, 92, 74))  # 32 x 24
    rgb = np.asarray(crop)
    h, w = rgb.shape[:2]
    d = out('png', 'x')[:-1]
    variants = {}
    crop.save(d + 'rgb8.png')
    a = np.dstack([rgb, (np.arange(h * w).reshape(h, w) * 7 % 256).astype(np.uint8)])
    Image.fromarray(a, 'RGBA').save(d + 'rgba8.png')
    crop.convert('L').save(d + 'l8.png')
    crop.convert('LA').save(d + 'la8.png')
    p = crop.convert('P', palette=Image.ADAPTIVE, colors=200)
    p.info['transparency'] = 3
    p.save(d + 'p8_trns.png', transparency=3)
    crop.convert('P', palette=Image.ADAPTIVE, colors=16).save(d + 'p4.png', bits=4)
    gray = np.asarray(crop.convert('L'))
    for depth in (1, 2, 4):
        q = (gray.astype(np.int32) * ((1 << depth) - 1) + 127) // 255
        rows = [pack_bits(r, depth) for r in q]
        with open(d + f'l{depth}.png', 'wb') as fh:
            fh.write(raw_png(w, h, depth, 0, rows))
    rgb16 = (rgb.astype(np.uint16) * 257 + (np.arange(w, dtype=np.uint16) * 3)[None, :, None]).astype('>u2')
    with open(d + 'rgb16.png', 'wb') as fh:
        fh.write(raw_png(w, h, 16, 2, [r.tobytes() for r in rgb16]))
    rgba16 = np.dstack([rgb16, np.full((h, w), 40000, dtype='>u2')]).astype('>u2')
    with open(d + 'rgba16.png', 'wb') as fh:
        fh.write(raw_png(w, h, 16, 6, [r.tobytes() for r in rgba16]))
    # RGB with a tRNS colour key: PIL keeps the colour in convert('RGB')
    key = rgb[0, 0]
    with open(d + 'rgb8_trns.png', 'wb') as fh:
        fh.write(raw_png(w, h, 8, 2, [r.tobytes() for r in rgb],
                         extra=chunk(b'tRNS', struct.pack('>HHH', *[int(v) for v in key]))))
    with open(d + 'l8_trns.png', 'wb') as fh:
        fh.write(raw_png(w, h, 8, 0, [r.tobytes() for r in gray],
                         extra=chunk(b'tRNS', struct.pack('>H', int(gray[0, 0])))))
    with open(d + 'rgb8_adam7.png', 'wb') as fh:
        fh.write(raw_png(w, h, 8, 2, adam7_rows(rgb), interlace=1))
    # 16-bit gray: PIL opens it as mode "I" and convert('RGB') clips at 255 (a saturated
    # image). viz deliberately keeps the high byte instead, as PIL does for 16-bit RGB(A);
    # this golden is that choice (computed with numpy), not PIL's output.
    g16 = (gray.astype(np.uint16) * 257 + (np.arange(w, dtype=np.uint16) * 5)[None, :]).astype('>u2')
    with open(out('png16gray', 'l16.png'), 'wb') as fh:
        fh.write(raw_png(w, h, 16, 0, [r.tobytes() for r in g16]))
    hb = (g16.astype(np.uint16) >> 8).astype(np.uint8)
    save_npy('png16gray/l16.highbyte', np.dstack([hb, hb, hb]))
    for name in sorted(os.listdir(os.path.dirname(d + 'x'))):
        if not name.endswith('.png'):
            continue
        im = Image.open(d + name)
        variants[name] = im.mode
        save_npy('png/' + name[:-4] + '.rgb', np.asarray(im.convert('RGB')))
    manifest['png_variants'] = variants


def exif_with_orientation(o):
    ex = Image.Exif()
    ex[0x0112] = o
    return ex.tobytes()


def make_jpegs(face):
    crop = face.crop((50, 60, 98, 100))  # 48 x 40
    d = out('jpeg', 'x')[:-1]
    crop.save(d + 'face_q95_420.jpg', quality=95)
    crop.save(d + 'face_q95_444.jpg', quality=95, subsampling=0)
    crop.convert('L').save(d + 'face_gray.jpg', quality=95)
    crop.save(d + 'face_progressive.jpg', quality=90, progressive=True)
    # an asymmetric 24x16 picture: four coloured quadrants and a marker
    arr = np.zeros((16, 24, 3), dtype=np.uint8)
    arr[:8, :12] = (230, 30, 30)
    arr[:8, 12:] = (30, 230, 30)
    arr[8:, :12] = (30, 30, 230)
    arr[8:, 12:] = (230, 230, 30)
    arr[0:4, 0:4] = (255, 255, 255)
    base = Image.fromarray(arr)
    for o in range(1, 9):
        base.save(d + f'orient{o}.jpg', quality=100, subsampling=0, exif=exif_with_orientation(o))
    for name in sorted(os.listdir(os.path.dirname(d + 'x'))):
        if not name.endswith('.jpg'):
            continue
        im = Image.open(d + name)
        im = ImageOps.exif_transpose(im)
        save_npy('jpeg/' + name[:-4] + '.rgb', np.asarray(im.convert('RGB')))


def make_malformed(face):
    os.makedirs(BAD, exist_ok=True)
    small = open(os.path.join(FIX, 'png', 'rgb8.png'), 'rb').read()
    jpg = open(os.path.join(FIX, 'jpeg', 'face_q95_420.jpg'), 'rb').read()

    def w(name, data):
        with open(os.path.join(BAD, name), 'wb') as fh:
            fh.write(data)

    w('empty.png', b'')
    w('empty.jpg', b'')
    w('truncated.png', small[:len(small) * 2 // 5])
    w('truncated_header.png', small[:20])
    w('wrong_magic.png', b'this is not an image, just text pretending to be one\n')
    w('gif_magic.png', b'GIF89a' + b'\x01\x00\x01\x00\x80\x00\x00' + b'\x00' * 20)
    ihdr0 = struct.pack('>IIBBBBB', 0, 24, 8, 2, 0, 0, 0)
    w('zero_width.png', b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr0) + small[33:])
    huge = struct.pack('>IIBBBBB', 100000, 100000, 8, 2, 0, 0, 0)
    w('huge_ihdr.png', b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', huge) + small[33:])
    # bad CRC: flip one byte inside the first IDAT payload, keep the stored CRC
    b = bytearray(small)
    idat = b.find(b'IDAT')
    b[idat + 10] ^= 0xFF
    w('bad_crc.png', bytes(b))
    b = bytearray(small)
    b[29] ^= 0xFF  # inside the IHDR CRC
    w('bad_ihdr_crc.png', bytes(b))
    # corrupt zlib stream with a matching CRC (fails in inflate, not CRC)
    ln = struct.unpack('>I', small[idat - 4:idat])[0]
    payload = bytearray(small[idat + 4:idat + 4 + ln])
    for k in range(2, min(len(payload), 40)):
        payload[k] = 0xFF
    fixed = small[:idat - 4] + chunk(b'IDAT', bytes(payload)) + small[idat + 8 + ln:]
    w('bad_zlib.png', fixed)
    w('no_idat.png', small[:33] + chunk(b'IEND', b''))
    w('truncated.jpg', jpg[:len(jpg) * 3 // 5])
    w('truncated_header.jpg', jpg[:30])
    w('garbage.jpg', b'\xff\xd8\xff' + bytes(range(256)) * 4)
    # SOF0 declaring 65535 x 65535
    j = bytearray(jpg)
    sof = j.find(b'\xff\xc0')
    j[sof + 5:sof + 9] = struct.pack('>HH', 65535, 65535)
    w('huge_sof.jpg', bytes(j))
    j = bytearray(jpg)
    j[sof + 5:sof + 7] = struct.pack('>H', 0)
    w('zero_height.jpg', bytes(j))
    w('bmp_magic.png', b'BM' + b'\x00' * 60)


def main():
    os.makedirs(FIX, exist_ok=True)
    if os.path.abspath(FACE_SRC) != os.path.abspath(FACE) and os.path.exists(FACE_SRC):
        shutil.copyfile(FACE_SRC, FACE)
    face = Image.open(FACE).convert('RGB')
    make_gradients()
    make_format()
    make_preprocess(face)
    make_resize(face)
    make_colormaps()
    make_cam(face)
    make_png_variants(face)
    make_jpegs(face)
    make_malformed(face)
    with open(os.path.join(FIX, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.write('\n')


if __name__ == '__main__':
    main()
