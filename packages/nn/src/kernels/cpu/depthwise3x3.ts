/**
 * Depthwise 3×3 convolution planes (any stride, dilation, asymmetric padding):
 * the interior (every tap inside the image) runs a register-only loop with
 * the nine weights in locals and three input-row pointers; only the border
 * ring takes bounds checks. Sums are formed in double precision (JS numbers)
 * and rounded once, like the generic depthwise loops.
 *
 * Backward-input with stride 1 is the same plane kernel applied to gradOut
 * with the kernel flipped (padding dilation·2 − pad); backward-weight forms
 * the nine tap sums in one pass over each plane.
 */

/** First output index whose taps from `tap0` on start inside the image (pad may be negative). */
function lo(pad: number, stride: number, out: number): number {
  return pad <= 0 ? 0 : Math.min(out, Math.ceil(pad / stride));
}
/** One past the last output index whose last tap (offset `span`) is inside `size`. */
function hi(size: number, pad: number, span: number, stride: number, out: number, l: number): number {
  const v = size - 1 + pad - span;
  if (v < 0) return l;
  return Math.max(l, Math.min(out, Math.floor(v / stride) + 1));
}

const wb = new Float64Array(9);

/**
 * out[oo + oh·OW + ow] (+)= bias + Σ_{kh,kw} w'[kh,kw]·x[xo + ih·W + iw],
 * ih = oh·sH − pT + kh·dH, iw = ow·sW − pL + kw·dW (taps outside the image
 * are zero), with w' = w[wo..wo+9) or its 180° rotation when `flip`.
 */
export function dw3x3Plane(
  x: Float32Array, xo: number, H: number, W: number,
  w: Float32Array, wo: number, flip: boolean,
  out: Float32Array, oo: number, OH: number, OW: number,
  sH: number, sW: number, pT: number, pL: number, dH: number, dW: number,
  bias: number, accumulate: boolean,
): void {
  for (let t = 0; t < 9; t++) wb[t] = w[wo + (flip ? 8 - t : t)]!;
  const w0 = wb[0]!, w1 = wb[1]!, w2 = wb[2]!, w3 = wb[3]!, w4 = wb[4]!, w5 = wb[5]!, w6 = wb[6]!, w7 = wb[7]!, w8 = wb[8]!;
  const ohLo = lo(pT, sH, OH), ohHi = hi(H, pT, 2 * dH, sH, OH, ohLo);
  const owLo = lo(pL, sW, OW), owHi = hi(W, pL, 2 * dW, sW, OW, owLo);
  const d1 = dW, d2 = 2 * dW, rowStep = dH * W;
  for (let oh = 0; oh < OH; oh++) {
    const o = oo + oh * OW;
    if (oh < ohLo || oh >= ohHi) {
      for (let ow = 0; ow < OW; ow++) border(x, xo, H, W, out, o, oh, ow, sH, sW, pT, pL, dH, dW, bias, accumulate);
      continue;
    }
    for (let ow = 0; ow < owLo; ow++) border(x, xo, H, W, out, o, oh, ow, sH, sW, pT, pL, dH, dW, bias, accumulate);
    const r0 = xo + (oh * sH - pT) * W - pL, r1 = r0 + rowStep, r2 = r1 + rowStep;
    if (accumulate) {
      for (let ow = owLo, s = owLo * sW; ow < owHi; ow++, s += sW) {
        out[o + ow] = out[o + ow]! + bias +
          w0 * x[r0 + s]! + w1 * x[r0 + s + d1]! + w2 * x[r0 + s + d2]! +
          w3 * x[r1 + s]! + w4 * x[r1 + s + d1]! + w5 * x[r1 + s + d2]! +
          w6 * x[r2 + s]! + w7 * x[r2 + s + d1]! + w8 * x[r2 + s + d2]!;
      }
    } else if (sW === 1 && d1 === 1) {
      // sliding window: each input value is loaded once per row
      let s = owLo;
      let a0 = x[r0 + s]!, a1 = x[r0 + s + 1]!, b0 = x[r1 + s]!, b1 = x[r1 + s + 1]!, c0 = x[r2 + s]!, c1 = x[r2 + s + 1]!;
      for (let ow = owLo; ow < owHi; ow++, s++) {
        const a2 = x[r0 + s + 2]!, b2 = x[r1 + s + 2]!, c2 = x[r2 + s + 2]!;
        out[o + ow] = bias + w0 * a0 + w1 * a1 + w2 * a2 + w3 * b0 + w4 * b1 + w5 * b2 + w6 * c0 + w7 * c1 + w8 * c2;
        a0 = a1; a1 = a2; b0 = b1; b1 = b2; c0 = c1; c1 = c2;
      }
    } else {
      for (let ow = owLo, s = owLo * sW; ow < owHi; ow++, s += sW) {
        out[o + ow] = bias +
          w0 * x[r0 + s]! + w1 * x[r0 + s + d1]! + w2 * x[r0 + s + d2]! +
          w3 * x[r1 + s]! + w4 * x[r1 + s + d1]! + w5 * x[r1 + s + d2]! +
          w6 * x[r2 + s]! + w7 * x[r2 + s + d1]! + w8 * x[r2 + s + d2]!;
      }
    }
    for (let ow = owHi; ow < OW; ow++) border(x, xo, H, W, out, o, oh, ow, sH, sW, pT, pL, dH, dW, bias, accumulate);
  }
}

function border(
  x: Float32Array, xo: number, H: number, W: number, out: Float32Array, o: number, oh: number, ow: number,
  sH: number, sW: number, pT: number, pL: number, dH: number, dW: number, bias: number, accumulate: boolean,
): void {
  let s = bias;
  for (let kh = 0; kh < 3; kh++) {
    const ih = oh * sH - pT + kh * dH;
    if (ih < 0 || ih >= H) continue;
    for (let kw = 0; kw < 3; kw++) {
      const iw = ow * sW - pL + kw * dW;
      if (iw < 0 || iw >= W) continue;
      s += wb[kh * 3 + kw]! * x[xo + ih * W + iw]!;
    }
  }
  out[o + ow] = accumulate ? out[o + ow]! + s : s;
}

const gb = new Float64Array(9);

/** gw[go9 + t] = Σ_{oh,ow} gy[gyo + oh·OW + ow]·x[tap t of (oh, ow)] added over calls when `accumulate`. */
export function dw3x3WeightPlane(
  x: Float32Array, xo: number, H: number, W: number,
  gy: Float32Array, gyo: number, OH: number, OW: number,
  sH: number, sW: number, pT: number, pL: number, dH: number, dW: number,
  sums: Float64Array,
): void {
  const ohLo = lo(pT, sH, OH), ohHi = hi(H, pT, 2 * dH, sH, OH, ohLo);
  const owLo = lo(pL, sW, OW), owHi = hi(W, pL, 2 * dW, sW, OW, owLo);
  const d1 = dW, d2 = 2 * dW, rowStep = dH * W;
  gb.fill(0);
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0;
  for (let oh = 0; oh < OH; oh++) {
    const g = gyo + oh * OW;
    if (oh < ohLo || oh >= ohHi) {
      for (let ow = 0; ow < OW; ow++) wBorder(x, xo, H, W, gy[g + ow]!, oh, ow, sH, sW, pT, pL, dH, dW);
      continue;
    }
    for (let ow = 0; ow < owLo; ow++) wBorder(x, xo, H, W, gy[g + ow]!, oh, ow, sH, sW, pT, pL, dH, dW);
    const r0 = xo + (oh * sH - pT) * W - pL, r1 = r0 + rowStep, r2 = r1 + rowStep;
    for (let ow = owLo, s = owLo * sW; ow < owHi; ow++, s += sW) {
      const v = gy[g + ow]!;
      a0 += v * x[r0 + s]!; a1 += v * x[r0 + s + d1]!; a2 += v * x[r0 + s + d2]!;
      a3 += v * x[r1 + s]!; a4 += v * x[r1 + s + d1]!; a5 += v * x[r1 + s + d2]!;
      a6 += v * x[r2 + s]!; a7 += v * x[r2 + s + d1]!; a8 += v * x[r2 + s + d2]!;
    }
    for (let ow = owHi; ow < OW; ow++) wBorder(x, xo, H, W, gy[g + ow]!, oh, ow, sH, sW, pT, pL, dH, dW);
  }
  sums[0] = sums[0]! + a0 + gb[0]!; sums[1] = sums[1]! + a1 + gb[1]!; sums[2] = sums[2]! + a2 + gb[2]!;
  sums[3] = sums[3]! + a3 + gb[3]!; sums[4] = sums[4]! + a4 + gb[4]!; sums[5] = sums[5]! + a5 + gb[5]!;
  sums[6] = sums[6]! + a6 + gb[6]!; sums[7] = sums[7]! + a7 + gb[7]!; sums[8] = sums[8]! + a8 + gb[8]!;
}

function wBorder(
  x: Float32Array, xo: number, H: number, W: number, v: number, oh: number, ow: number,
  sH: number, sW: number, pT: number, pL: number, dH: number, dW: number,
): void {
  for (let kh = 0; kh < 3; kh++) {
    const ih = oh * sH - pT + kh * dH;
    if (ih < 0 || ih >= H) continue;
    for (let kw = 0; kw < 3; kw++) {
      const iw = ow * sW - pL + kw * dW;
      if (iw < 0 || iw >= W) continue;
      gb[kh * 3 + kw] = gb[kh * 3 + kw]! + v * x[xo + ih * W + iw]!;
    }
  }
}
