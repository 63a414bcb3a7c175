/**
 * face-api's input pipeline for its face expression net (FACE_EXPRESSION_NOTES.md §3),
 * tensor path: pad to a centered square with zeros, resize to 112×112 with TF1's
 * legacy bilinear (no half-pixel centers), subtract the mean RGB, divide by 255.
 * No Node or viz imports: it takes any H×W×C uint8 image (viz's `Image` fits).
 */
import { zeros } from '@gradlens/core';
import type { Tensor } from '@gradlens/core';

/** Class names in the order of the net's 7 outputs. */
export const FACE_EXPRESSION_LABELS: readonly string[] = Object.freeze(['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised']);
/** Per-channel mean (R, G, B) face-api subtracts before dividing by 255. */
export const FACE_EXPRESSION_MEAN_RGB: readonly [number, number, number] = [122.782, 117.001, 104.298];
/** Side of the square network input. */
export const FACE_EXPRESSION_INPUT_SIZE = 112;

/**
 * An 8-bit image as an H×W×C ndarray (C = 1, 3 or 4): viz's `Image`, or anything shaped
 * like it. Gray is replicated to RGB and alpha is dropped, as `tf.node.decodeImage(buf, 3)` does.
 */
export interface ImageLike {
  readonly width: number;
  readonly height: number;
  /** H×W×C (or H×W) values 0..255, indexed `get(y, x, c)` like a scijs ndarray. */
  readonly data: { readonly shape: readonly number[]; get(...index: number[]): number };
}

/**
 * Steps 1a-1b of face-api's `toBatchTensor(112, centered)`: the pixels padded to a square
 * (zeros; `round(diff/2)` rows/columns after, the rest before) and resized to 112×112 with
 * `tf.image.resizeBilinear(x, [112,112], alignCorners=false, halfPixelCenters=false)`.
 * Returns the size×size×3 (HWC, RGB) float32 values in 0..255, not rounded.
 */
export function face_expression_resize(image: ImageLike, size = FACE_EXPRESSION_INPUT_SIZE): Float32Array {
  const { width: W, height: H, data } = image;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W <= 0 || H <= 0) throw new Error(`face_expression preprocessing: invalid image size ${W}x${H}`);
  const C = data.shape[2] ?? 1;
  if (data.shape[0] !== H || data.shape[1] !== W || (data.shape.length === 3 && ![1, 3, 4].includes(C))) {
    throw new Error(`face_expression preprocessing: expected an H×W×C (C = 1, 3 or 4) image of ${H}x${W}, got shape [${data.shape.join(', ')}]`);
  }
  // padToSquare(img, isCenterImage = true)
  const S = Math.max(H, W);
  const diff = Math.abs(H - W);
  const prepend = diff - Math.round(diff / 2);
  const top = H < W ? prepend : 0;
  const left = W < H ? prepend : 0;
  const sq = new Float32Array(S * S * 3); // zeros = padding
  const get = data.shape.length === 3 ? (y: number, x: number, c: number): number => data.get(y, x, C === 1 ? 0 : c) : (y: number, x: number): number => data.get(y, x);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = ((y + top) * S + x + left) * 3;
      sq[o] = get(y, x, 0);
      sq[o + 1] = get(y, x, 1);
      sq[o + 2] = get(y, x, 2);
    }
  }
  if (S === size) return sq;
  // tfjs-backend-cpu ResizeBilinear, alignCorners = false, halfPixelCenters = false
  const out = new Float32Array(size * size * 3);
  const ratio = S / size;
  for (let r = 0; r < size; r++) {
    const sr = ratio * r;
    const r0 = Math.max(0, Math.floor(sr));
    const r1 = Math.min(S - 1, Math.ceil(sr));
    const fr = sr - r0;
    for (let q = 0; q < size; q++) {
      const sc = ratio * q;
      const c0 = Math.max(0, Math.floor(sc));
      const c1 = Math.min(S - 1, Math.ceil(sc));
      const fc = sc - c0;
      for (let ch = 0; ch < 3; ch++) {
        const tl = sq[(r0 * S + c0) * 3 + ch]!;
        const tr = sq[(r0 * S + c1) * 3 + ch]!;
        const bl = sq[(r1 * S + c0) * 3 + ch]!;
        const br = sq[(r1 * S + c1) * 3 + ch]!;
        const t = tl + (tr - tl) * fc;
        const b = bl + (br - bl) * fc;
        out[(r * size + q) * 3 + ch] = t + (b - t) * fr;
      }
    }
  }
  return out;
}

/**
 * Step 3: `(x − mean_rgb) / 255` in float32 (tfjs's rounding), from the size×size×3 HWC
 * output of {@link face_expression_resize} to 1×3×size×size NCHW values (C order).
 */
export function face_expression_normalize(hwc: Float32Array, size = FACE_EXPRESSION_INPUT_SIZE): Float32Array {
  const n = size * size;
  if (hwc.length !== 3 * n) throw new Error(`face_expression_normalize: expected ${3 * n} values (${size}x${size}x3), got ${hwc.length}`);
  const out = new Float32Array(3 * n);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f(FACE_EXPRESSION_MEAN_RGB[c]!); // tf.fill(..., 'float32')
    for (let i = 0; i < n; i++) out[c * n + i] = f(f(hwc[i * 3 + c]! - mean) / 255);
  }
  return out;
}

/**
 * The whole preprocessing as numbers: {@link face_expression_resize} then
 * {@link face_expression_normalize}. Returns the 1×3×112×112 values (C order) — the
 * normalized network input (what the reference fixtures hold).
 */
export function preprocess_face_expression_array(image: ImageLike): Float32Array {
  return face_expression_normalize(face_expression_resize(image));
}

/** Options of {@link preprocess_face_expression}. */
export interface FacePreprocessOptions {
  /** Set `requires_grad` on the returned tensor (default true, like viz's `preprocess_image`). */
  requires_grad?: boolean;
}

/**
 * face-api's preprocessing of a face crop as a 1×3×112×112 float32 tensor
 * (`requires_grad` set unless `{requires_grad: false}`), ready for
 * `models.face_expression()` and gradient visualizations.
 */
export function preprocess_face_expression(image: ImageLike, options: FacePreprocessOptions = {}): Tensor {
  return face_expression_tensor(preprocess_face_expression_array(image), options);
}

/** Wraps normalized 1×3×112×112 values (from {@link face_expression_normalize}) as a tensor. */
export function face_expression_tensor(values: Float32Array, options: FacePreprocessOptions = {}): Tensor {
  const S = FACE_EXPRESSION_INPUT_SIZE;
  const t = zeros([1, 3, S, S]);
  (t.numpy().data as Float32Array).set(values);
  if (options.requires_grad ?? true) t.requires_grad_(true);
  return t;
}
