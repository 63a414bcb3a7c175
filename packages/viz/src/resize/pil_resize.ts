import { make_image, packed_pixels } from '../image.ts';
import type { Image } from '../image.ts';
import { KERNELS } from './filters.ts';
import type { KernelFilter, ResampleFilter } from './filters.ts';

/** Fixed-point precision of Pillow's 8-bit resampler: 32 - 8 - 2 bits. */
const PRECISION_BITS = 22;

interface Coeffs {
  ksize: number;
  /** [xmin, count] per output pixel. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  kk: Int32Array;
}

/**
 * Per-output-pixel filter windows and weights, as Pillow's precompute_coeffs:
 * the support is widened by the downscale factor (antialiasing), window ends
 * are rounded, weights are normalised to sum 1, then converted to 22-bit fixed
 * point rounding half away from zero.
 */
function precomputeCoeffs(inSize: number, in0: number, in1: number, outSize: number, filter: KernelFilter): Coeffs {
  const scale = (in1 - in0) / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      let v = x < xmax ? k[x]! : 0;
      if (x < xmax && ww !== 0.0) v /= ww;
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over rows [y0, y0 + rows) of a packed W×H×C buffer. */
function resampleHorizontal(src: Uint8Array, inW: number, c: number, y0: number, rows: number, outW: number, co: Coeffs): Uint8Array {
  const out = new Uint8Array(outW * rows * c);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < rows; yy++) {
    const rowIn = (yy + y0) * inW * c;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = co.bounds[xx * 2]!;
      const xmax = co.bounds[xx * 2 + 1]!;
      const kOff = xx * co.ksize;
      for (let ch = 0; ch < c; ch++) {
        let ss = half;
        for (let x = 0; x < xmax; x++) ss += src[rowIn + (x + xmin) * c + ch]! * co.kk[kOff + x]!;
        out[(yy * outW + xx) * c + ch] = clip8(ss);
      }
    }
  }
  return out;
}

/** Vertical pass of a packed W×H×C buffer to outH rows. */
function resampleVertical(src: Uint8Array, w: number, c: number, outH: number, co: Coeffs): Uint8Array {
  const out = new Uint8Array(w * outH * c);
  const half = 1 << (PRECISION_BITS - 1);
  const rowLen = w * c;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = co.bounds[yy * 2]!;
    const ymax = co.bounds[yy * 2 + 1]!;
    const kOff = yy * co.ksize;
    for (let i = 0; i < rowLen; i++) {
      let ss = half;
      for (let y = 0; y < ymax; y++) ss += src[(y + ymin) * rowLen + i]! * co.kk[kOff + y]!;
      out[yy * rowLen + i] = clip8(ss);
    }
  }
  return out;
}

/** Pillow's ImagingScaleAffine: nearest neighbour with an accumulated double step. */
function resizeNearest(src: Uint8Array, inW: number, inH: number, c: number, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH * c);
  const ax = inW / outW;
  const ay = inH / outH;
  const coord = (v: number): number => (v < 0.0 ? -1 : Math.trunc(v));
  const xin = new Int32Array(outW);
  let xo = ax * 0.5;
  for (let x = 0; x < outW; x++) {
    xin[x] = Math.min(coord(xo), inW - 1);
    xo += ax;
  }
  let yo = ay * 0.5;
  for (let y = 0; y < outH; y++) {
    const yi = Math.min(coord(yo), inH - 1);
    for (let x = 0; x < outW; x++) {
      const i = (yi * inW + xin[x]!) * c;
      const o = (y * outW + x) * c;
      for (let ch = 0; ch < c; ch++) out[o + ch] = src[i + ch]!;
    }
    yo += ay;
  }
  return out;
}

/**
 * `PIL.Image.resize(size, filter)` for 8-bit L and RGB images (RGBA only with
 * `nearest`): a two-pass separable convolution in Pillow's 22-bit fixed point,
 * horizontal pass first, with the filter support scaled by the downscale
 * factor. Matches Pillow within ±1 grey level (bit-exact in practice; only the
 * last bits of libm's sin/cos can differ). `size` is `[width, height]`, as in PIL.
 */
export function resize(image: Image, size: readonly [number, number], filter: ResampleFilter = 'bicubic'): Image {
  const [outW, outH] = size;
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW <= 0 || outH <= 0) {
    throw new Error(`resize: invalid target size ${outW}x${outH}`);
  }
  const inW = image.width;
  const inH = image.height;
  const c = image.data.shape[2]!;
  const src = packed_pixels(image);
  if (outW === inW && outH === inH) return make_image(image.mode, inW, inH, src.slice());
  if (filter === 'nearest') return make_image(image.mode, outW, outH, resizeNearest(src, inW, inH, c, outW, outH));
  if (image.mode === 'RGBA') {
    throw new Error(`resize: the '${filter}' filter is not implemented for RGBA images (PIL premultiplies alpha); convert to RGB or use 'nearest'`);
  }
  const kernel = KERNELS[filter];
  if (kernel === undefined) throw new Error(`resize: unknown filter '${String(filter)}'`);
  const needH = outW !== inW;
  const needV = outH !== inH;
  const vert = precomputeCoeffs(inH, 0, inH, outH, kernel);
  let buf = src;
  let w = inW;
  if (needH) {
    const horiz = precomputeCoeffs(inW, 0, inW, outW, kernel);
    const first = vert.bounds[0]!;
    const last = vert.bounds[outH * 2 - 2]! + vert.bounds[outH * 2 - 1]!;
    for (let i = 0; i < outH; i++) vert.bounds[i * 2] = vert.bounds[i * 2]! - first;
    buf = resampleHorizontal(src, inW, c, needV ? first : 0, needV ? last - first : inH, outW, horiz);
    w = outW;
  }
  if (needV) buf = resampleVertical(buf, w, c, outH, vert);
  return make_image(image.mode, outW, outH, buf);
}
