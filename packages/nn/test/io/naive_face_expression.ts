/**
 * Test-only, dependency-free NCHW reference of the face expression net written
 * from FACE_EXPRESSION_NOTES.md in PyTorch terms (PyTorch weight layouts, explicit
 * [top,bottom,left,right] zero padding, grouped conv for depthwise). It exists to
 * check that the notes + the tfjs->PyTorch layout helpers reproduce face-api's
 * logits; it is not the gradlens model.
 */
import {
  tf_same_padding,
  tfjs_conv_to_torch,
  tfjs_dense_to_torch,
  tfjs_depthwise_to_torch,
} from '../../src/io/tfjs_weights.ts';
import type { TfjsWeight, TfjsWeightMap } from '../../src/io/tfjs_weights.ts';

export interface Fmap { c: number; h: number; w: number; data: Float32Array }

/** PyTorch F.conv2d(F.pad(x, [l, r, t, b]), weight, bias, stride, groups=groups), batch 1. */
export function conv2d(x: Fmap, weight: TfjsWeight, bias: Float32Array | null, stride: number, pad: [number, number, number, number], groups = 1): Fmap {
  const [o, ipg, kh, kw] = weight.shape as [number, number, number, number];
  const [pt, pb, pl, pr] = pad;
  const oh = Math.floor((x.h + pt + pb - kh) / stride) + 1;
  const ow = Math.floor((x.w + pl + pr - kw) / stride) + 1;
  const opg = o / groups;
  const out = new Float32Array(o * oh * ow);
  const wd = weight.data;
  for (let oc = 0; oc < o; oc++) {
    const g = Math.floor(oc / opg);
    const b = bias ? bias[oc]! : 0;
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        let s = 0;
        for (let ic = 0; ic < ipg; ic++) {
          const cin = g * ipg + ic;
          for (let ky = 0; ky < kh; ky++) {
            const iy = y * stride + ky - pt;
            if (iy < 0 || iy >= x.h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = xx * stride + kx - pl;
              if (ix < 0 || ix >= x.w) continue;
              s += x.data[(cin * x.h + iy) * x.w + ix]! * wd[((oc * ipg + ic) * kh + ky) * kw + kx]!;
            }
          }
        }
        out[(oc * oh + y) * ow + xx] = s + b;
      }
    }
  }
  return { c: o, h: oh, w: ow, data: out };
}

const relu = (a: Fmap): Fmap => ({ ...a, data: a.data.map((v) => (v > 0 ? v : 0)) });
const add = (...xs: Fmap[]): Fmap => {
  const data = new Float32Array(xs[0]!.data.length);
  for (const x of xs) for (let i = 0; i < data.length; i++) data[i] = data[i]! + x.data[i]!;
  return { ...xs[0]!, data };
};

/** [top,bottom,left,right] of TF 'same' for a square map. */
function samePad(size: number, k: number, stride: number): [number, number, number, number] {
  const [a, b] = tf_same_padding(size, k, stride);
  return [a, b, a, b];
}

function get(w: TfjsWeightMap, name: string): TfjsWeight {
  const t = w.get(name);
  if (!t) throw new Error(`missing weight ${name}`);
  return t;
}

/** depthwise 3x3 (groups=C, no bias) then pointwise 1x1 (+bias). */
function separable(x: Fmap, w: TfjsWeightMap, prefix: string, stride: number): Fmap {
  const dw = conv2d(x, tfjs_depthwise_to_torch(get(w, `${prefix}/depthwise_filter`)), null, stride, samePad(x.h, 3, stride), x.c);
  return conv2d(dw, tfjs_conv_to_torch(get(w, `${prefix}/pointwise_filter`)), get(w, `${prefix}/bias`).data, 1, [0, 0, 0, 0]);
}

function denseBlock(x: Fmap, w: TfjsWeightMap, name: string, first: boolean): Fmap {
  const out1 = relu(
    first
      ? conv2d(x, tfjs_conv_to_torch(get(w, `${name}/conv0/filters`)), get(w, `${name}/conv0/bias`).data, 2, samePad(x.h, 3, 2))
      : separable(x, w, `${name}/conv0`, 2),
  );
  const out2 = separable(out1, w, `${name}/conv1`, 1);
  const out3 = separable(relu(add(out1, out2)), w, `${name}/conv2`, 1);
  const out4 = separable(relu(add(out1, out2, out3)), w, `${name}/conv3`, 1);
  return relu(add(out1, out2, out3, out4));
}

/** input: normalized NCHW [1,3,112,112]; returns the 7 logits. */
export function naiveFaceExpressionLogits(input: Float32Array, w: TfjsWeightMap): number[] {
  let x: Fmap = { c: 3, h: 112, w: 112, data: input };
  x = denseBlock(x, w, 'dense0', true);
  x = denseBlock(x, w, 'dense1', false);
  x = denseBlock(x, w, 'dense2', false);
  x = denseBlock(x, w, 'dense3', false);
  // AvgPool2d(7, stride 2, no padding) on 7x7 -> 1x1 == mean over H,W
  const feats = new Float32Array(x.c);
  for (let c = 0; c < x.c; c++) {
    let s = 0;
    for (let i = 0; i < x.h * x.w; i++) s += x.data[c * x.h * x.w + i]!;
    feats[c] = s / (x.h * x.w);
  }
  const fcW = tfjs_dense_to_torch(get(w, 'fc/weights')); // [7,256]
  const fcB = get(w, 'fc/bias').data;
  const logits: number[] = [];
  for (let o = 0; o < 7; o++) {
    let s = fcB[o]!;
    for (let i = 0; i < 256; i++) s += fcW.data[o * 256 + i]! * feats[i]!;
    logits.push(s);
  }
  return logits;
}
