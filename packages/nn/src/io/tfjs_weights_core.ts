/**
 * Environment-independent part of the TensorFlow.js weights reader: parses a
 * tfjs weights manifest (the `*-weights_manifest.json` of face-api, or the
 * `weightsManifest` field of a tfjs `model.json`) and decodes the shard bytes
 * into float32 arrays. No Node imports here, so browsers can use
 * `decode_tfjs_weights` directly; `tfjs_weights.ts` adds the file-system loader.
 *
 * Format (tfjs-core `io/types.ts`, `io/io_utils.ts#decodeWeights`):
 * - a manifest is an array of groups `{paths: string[], weights: WeightSpec[]}`;
 * - a group's shard files (`paths`) are concatenated in order, and its weights
 *   are stored one after the other in that byte stream, in manifest order, with
 *   no alignment padding;
 * - a weight with `quantization: {dtype: 'uint8'|'uint16', scale, min}` stores
 *   one unsigned integer per value, dequantized as `q * scale + min` (computed
 *   in float64, then rounded to float32 - bit-identical to tfjs);
 *   `quantization: {dtype: 'float16'}` stores IEEE half floats;
 * - everything is little-endian.
 */

/** Element dtypes this reader decodes (all returned as float32). */
export type TfjsWeightDtype = 'float32' | 'int32' | 'bool';

/** Storage dtypes of quantized weights. */
export type TfjsQuantizationDtype = 'uint8' | 'uint16' | 'float16';

export interface TfjsQuantization {
  /** Storage dtype. Legacy manifests sometimes omit it; `{min, scale}` alone is read as uint8. */
  dtype: TfjsQuantizationDtype;
  /** Multiplier for uint8/uint16 quantization. */
  scale?: number;
  /** Offset (the possibly nudged minimum) for uint8/uint16 quantization. */
  min?: number;
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: TfjsWeightDtype;
  quantization?: TfjsQuantization;
  group?: string;
}

export interface TfjsManifestGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export type TfjsWeightsManifest = TfjsManifestGroup[];

/** One decoded weight: row-major (C order) data with the manifest's shape. */
export interface TfjsWeight {
  shape: number[];
  data: Float32Array;
}

/** Decoded weights by manifest name, in manifest order. */
export type TfjsWeightMap = Map<string, TfjsWeight>;

/** Bytes of one shard. */
export type ShardBytes = ArrayBuffer | ArrayBufferView;

/**
 * Shards for `decode_tfjs_weights`: either one entry per manifest path, in
 * manifest order across all groups (group 0's paths, then group 1's, ...), or a
 * map from the path string exactly as written in the manifest to its bytes.
 */
export type ShardSource = ReadonlyArray<ShardBytes> | ReadonlyMap<string, ShardBytes>;

/** Every error this reader throws. `source` names the manifest (file or caller label). */
export class TfjsWeightsError extends Error {
  readonly source: string;
  constructor(source: string, message: string) {
    super(`tfjs weights (${source}): ${message}`);
    this.name = 'TfjsWeightsError';
    this.source = source;
  }
}

const QUANT_BYTES: Record<TfjsQuantizationDtype, number> = { uint8: 1, uint16: 2, float16: 2 };
const DTYPE_BYTES: Record<TfjsWeightDtype, number> = { float32: 4, int32: 4, bool: 1 };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Parse manifest text; a JSON syntax error becomes a TfjsWeightsError naming `source`. */
export function parse_tfjs_manifest_text(text: string, source: string): TfjsWeightsManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TfjsWeightsError(source, `manifest is not valid JSON: ${(e as Error).message}`);
  }
  return parse_tfjs_manifest(json, source);
}

/**
 * Validate an already-parsed manifest. Accepts the bare group array or a tfjs
 * `model.json` object with a `weightsManifest` field.
 */
export function parse_tfjs_manifest(json: unknown, source = '<manifest>'): TfjsWeightsManifest {
  const groupsRaw: unknown = isRecord(json) && 'weightsManifest' in json ? json['weightsManifest'] : json;
  if (!Array.isArray(groupsRaw)) {
    throw new TfjsWeightsError(source, 'malformed manifest: expected an array of {paths, weights} groups (or a model.json with "weightsManifest")');
  }
  const seen = new Set<string>();
  return groupsRaw.map((g: unknown, gi: number): TfjsManifestGroup => {
    if (!isRecord(g)) throw new TfjsWeightsError(source, `malformed manifest: group ${gi} is not an object`);
    const paths = g['paths'];
    const weights = g['weights'];
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
      throw new TfjsWeightsError(source, `malformed manifest: group ${gi} has no "paths" string array`);
    }
    if (!Array.isArray(weights)) {
      throw new TfjsWeightsError(source, `malformed manifest: group ${gi} has no "weights" array`);
    }
    const specs = weights.map((w: unknown, wi: number): TfjsWeightSpec => {
      if (!isRecord(w)) throw new TfjsWeightsError(source, `malformed manifest: group ${gi} weight ${wi} is not an object`);
      const name = w['name'];
      if (typeof name !== 'string') throw new TfjsWeightsError(source, `malformed manifest: group ${gi} weight ${wi} has no string "name"`);
      const shape = w['shape'];
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        throw new TfjsWeightsError(source, `malformed manifest: weight '${name}' has an invalid "shape" ${JSON.stringify(shape)}`);
      }
      const dtype = w['dtype'];
      if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
        throw new TfjsWeightsError(source, `weight '${name}' has unsupported dtype ${JSON.stringify(dtype)} (supported: float32, int32, bool)`);
      }
      if (seen.has(name)) throw new TfjsWeightsError(source, `malformed manifest: duplicate weight name '${name}'`);
      seen.add(name);
      const spec: TfjsWeightSpec = { name, shape: shape as number[], dtype };
      if (typeof w['group'] === 'string') spec.group = w['group'];
      const q = w['quantization'];
      if (q !== undefined && q !== null) spec.quantization = parseQuantization(q, name, dtype, source);
      return spec;
    });
    return { paths: paths as string[], weights: specs };
  });
}

function parseQuantization(q: unknown, name: string, dtype: TfjsWeightDtype, source: string): TfjsQuantization {
  if (!isRecord(q)) throw new TfjsWeightsError(source, `weight '${name}' has a malformed "quantization" (not an object)`);
  const hasMinScale = typeof q['min'] === 'number' && typeof q['scale'] === 'number';
  // Legacy form {min, scale} without a dtype: 8-bit affine quantization.
  const qd: unknown = q['dtype'] === undefined && hasMinScale ? 'uint8' : q['dtype'];
  if (qd === 'uint8' || qd === 'uint16') {
    if (!hasMinScale) {
      throw new TfjsWeightsError(source, `weight '${name}' is quantized as ${qd} but lacks numeric "min" and "scale"`);
    }
    if (dtype === 'bool') throw new TfjsWeightsError(source, `weight '${name}': quantized bool weights are not supported`);
    return { dtype: qd, min: q['min'] as number, scale: q['scale'] as number };
  }
  if (qd === 'float16') {
    if (dtype !== 'float32') {
      throw new TfjsWeightsError(source, `weight '${name}' is float16-quantized but has dtype ${dtype}; tfjs only allows float32`);
    }
    return { dtype: 'float16' };
  }
  throw new TfjsWeightsError(source, `weight '${name}' has unknown quantization dtype ${JSON.stringify(qd)} (supported: uint8, uint16, float16)`);
}

/** Number of elements of a shape (1 for a scalar). */
export function shape_size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes a weight occupies in its group's byte stream. */
export function tfjs_weight_byte_length(spec: TfjsWeightSpec): number {
  const per = spec.quantization ? QUANT_BYTES[spec.quantization.dtype] : DTYPE_BYTES[spec.dtype];
  return shape_size(spec.shape) * per;
}

/** IEEE 754 binary16 -> number. */
export function float16_to_float32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function toU8(b: ShardBytes): Uint8Array {
  return b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Decode one weight from `bytes` (exactly `tfjs_weight_byte_length(spec)` bytes),
 * returning float32 values. int32/bool weights are converted to float.
 */
export function decode_tfjs_weight(spec: TfjsWeightSpec, bytes: Uint8Array): Float32Array {
  const n = shape_size(spec.shape);
  // Copy into an aligned buffer so typed views are legal whatever the offset.
  const buf = bytes.slice().buffer;
  const dv = new DataView(buf);
  const out = new Float32Array(n);
  const q = spec.quantization;
  if (q) {
    if (q.dtype === 'float16') {
      for (let i = 0; i < n; i++) out[i] = float16_to_float32(dv.getUint16(2 * i, true));
      return out;
    }
    const scale = q.scale as number;
    const min = q.min as number;
    const u16 = q.dtype === 'uint16';
    const round = spec.dtype === 'int32'; // tfjs: Math.round(q*scale+min) for int32 weights
    for (let i = 0; i < n; i++) {
      const v = u16 ? dv.getUint16(2 * i, true) : dv.getUint8(i);
      const x = v * scale + min;
      out[i] = round ? Math.round(x) : x;
    }
    return out;
  }
  switch (spec.dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      return out;
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i) ? 1 : 0;
      return out;
  }
}

/**
 * Decode all weights of a manifest from already-loaded shard bytes (browser-friendly).
 * Each group's shards are concatenated in order; the total must equal the bytes its
 * weights declare, otherwise a TfjsWeightsError names the group and its shard paths.
 */
export function decode_tfjs_weights(manifestJson: unknown, shards: ShardSource, source = '<manifest>'): TfjsWeightMap {
  const manifest = parse_tfjs_manifest(manifestJson, source);
  const out: TfjsWeightMap = new Map();
  let flatIndex = 0;
  const totalPaths = manifest.reduce((s, g) => s + g.paths.length, 0);
  if (!isMap(shards) && shards.length !== totalPaths) {
    throw new TfjsWeightsError(source, `expected ${totalPaths} shard buffer(s) (one per manifest path, in order), got ${shards.length}`);
  }
  manifest.forEach((group, gi) => {
    const parts: Uint8Array[] = group.paths.map((p) => {
      const b = isMap(shards) ? shards.get(p) : shards[flatIndex];
      flatIndex++;
      if (b === undefined) throw new TfjsWeightsError(source, `missing shard '${p}' (group ${gi})`);
      return toU8(b);
    });
    decodeGroup(group, gi, parts, source, out);
  });
  return out;
}

function isMap(s: ShardSource): s is ReadonlyMap<string, ShardBytes> {
  return s instanceof Map;
}

/** Decode one group from its shard parts into `out`. Exported for the Node loader. */
export function decode_tfjs_group(
  group: TfjsManifestGroup,
  groupIndex: number,
  parts: readonly Uint8Array[],
  source: string,
  out: TfjsWeightMap,
): void {
  decodeGroup(group, groupIndex, parts, source, out);
}

function decodeGroup(group: TfjsManifestGroup, gi: number, parts: readonly Uint8Array[], source: string, out: TfjsWeightMap): void {
  const have = parts.reduce((s, p) => s + p.byteLength, 0);
  const need = group.weights.reduce((s, w) => s + tfjs_weight_byte_length(w), 0);
  if (have !== need) {
    throw new TfjsWeightsError(
      source,
      `size mismatch in group ${gi}: shard(s) [${group.paths.join(', ')}] hold ${have} bytes but the manifest's ${group.weights.length} weight(s) need ${need} bytes`,
    );
  }
  let all: Uint8Array;
  if (parts.length === 1) {
    all = parts[0] as Uint8Array;
  } else {
    all = new Uint8Array(have);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.byteLength;
    }
  }
  let offset = 0;
  for (const spec of group.weights) {
    const len = tfjs_weight_byte_length(spec);
    out.set(spec.name, { shape: spec.shape.slice(), data: decode_tfjs_weight(spec, all.subarray(offset, offset + len)) });
    offset += len;
  }
}

// ---------------------------------------------------------------------------
// Layout conversion tfjs -> PyTorch
// ---------------------------------------------------------------------------

/** Generic permutation of a row-major tensor: out.shape[i] = shape[perm[i]]. */
export function permute_weight(w: TfjsWeight, perm: readonly number[]): TfjsWeight {
  const { shape, data } = w;
  const r = shape.length;
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`permute_weight: ${JSON.stringify(perm)} is not a permutation of rank ${r}`);
  }
  if (data.length !== shape_size(shape)) {
    throw new Error(`permute_weight: data length ${data.length} does not match shape [${shape.join(',')}]`);
  }
  const outShape = perm.map((p) => shape[p] as number);
  const inStrides = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i] as number;
  }
  const strideForOut = perm.map((p) => inStrides[p] as number);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(r).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src] as number;
    // increment the output multi-index (row-major), tracking the source offset
    for (let d = r - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      src += strideForOut[d] as number;
      if ((idx[d] as number) < (outShape[d] as number)) break;
      src -= (strideForOut[d] as number) * (outShape[d] as number);
      idx[d] = 0;
    }
  }
  return { shape: outShape, data: out };
}

function expectRank(w: TfjsWeight, rank: number, what: string): void {
  if (w.shape.length !== rank) throw new Error(`${what}: expected a rank-${rank} tfjs weight, got shape [${w.shape.join(',')}]`);
}

/** tfjs conv2d filter [KH,KW,IN,OUT] -> PyTorch Conv2d weight [OUT,IN,KH,KW]. Also for 1x1 pointwise filters. */
export function tfjs_conv_to_torch(w: TfjsWeight): TfjsWeight {
  expectRank(w, 4, 'tfjs_conv_to_torch');
  return permute_weight(w, [3, 2, 0, 1]);
}

/**
 * tfjs depthwise filter [KH,KW,IN,MULT] -> PyTorch grouped Conv2d weight
 * [IN*MULT,1,KH,KW] (groups=IN). Output channel `c*MULT + m` (TF's order) is
 * produced from input channel c, which is also PyTorch's grouping.
 */
export function tfjs_depthwise_to_torch(w: TfjsWeight): TfjsWeight {
  expectRank(w, 4, 'tfjs_depthwise_to_torch');
  const [kh, kw, cin, mult] = w.shape as [number, number, number, number];
  const p = permute_weight(w, [2, 3, 0, 1]); // [IN,MULT,KH,KW]
  return { shape: [cin * mult, 1, kh, kw], data: p.data };
}

/** tfjs dense/matMul weight [IN,OUT] -> PyTorch Linear weight [OUT,IN]. */
export function tfjs_dense_to_torch(w: TfjsWeight): TfjsWeight {
  expectRank(w, 2, 'tfjs_dense_to_torch');
  return permute_weight(w, [1, 0]);
}

/**
 * TensorFlow 'same' padding along one spatial axis, as [before, after]
 * (top/bottom or left/right). out = ceil(in/stride); total = max(0, (out-1)*stride
 * + (k-1)*dilation + 1 - in); before = floor(total/2); after = total - before.
 * Asymmetric (extra pad at the bottom/right) when total is odd, e.g. k=3, s=2, in even.
 */
export function tf_same_padding(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(inSize / stride);
  const eff = (kernel - 1) * dilation + 1;
  const total = Math.max(0, (out - 1) * stride + eff - inSize);
  const before = Math.floor(total / 2);
  return [before, total - before];
}
