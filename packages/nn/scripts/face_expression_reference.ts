/**
 * Reference outputs of face-api's OWN face expression net (tfjs, cpu backend),
 * written as fixtures for the gradlens port.
 *
 *   cd /work/main && node --import tsx packages/nn/scripts/face_expression_reference.ts [--check]
 *
 * --check: recompute and compare against the committed fixtures instead of writing.
 *
 * How face-api is run: its published ESM build `dist/face-api.esm-nobundle.js`
 * (face-api's own classes FaceExpressionNet / FaceFeatureExtractor / NetInput),
 * with its tfjs imports redirected by `face_api_loader_hooks.mjs` to
 * packages/nn's @tensorflow/tfjs 4.22.0 (cpu backend); the webgl/wasm backend
 * imports become empty modules. (The fully bundled `face-api.esm.js` cannot start
 * in Node: its bundled tfjs platform calls a stubbed `util.TextEncoder`; and
 * `face-api.node.js` needs tfjs-node, which is not installed.)
 *
 * Weights: tfjs's own `tf.io.decodeWeights` on the shipped manifest + .bin, then
 * `net.loadFromWeightMap` - the same path as face-api's `loadFromUri`.
 *
 * Logits and probabilities come from face-api's own `runNet` / `forward`.
 * Intermediate per-block values come from a line-for-line replica of face-api's
 * `denseBlock4` using the params face-api loaded; the script asserts that the
 * replica's logits equal face-api's (max |diff| is reported in the JSON).
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type * as TF from '@tensorflow/tfjs';

const here = dirname(fileURLToPath(import.meta.url));
const nnRoot = resolve(here, '..');
const faceApiRoot = join(nnRoot, 'node_modules/@vladmandic/face-api');
const manifestPath = join(faceApiRoot, 'model/face_expression_model-weights_manifest.json');
const imagePath = resolve(nnRoot, '../../examples/AF01HAHR.png');
const outDir = join(nnRoot, 'test/fixtures/face_expression');
const CHECK = process.argv.includes('--check');

export const LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;
const MEAN_RGB = [122.782, 117.001, 104.298];

// ---- face-api, run through its own ESM build on packages/nn's tfjs -----------------
register(pathToFileURL(join(here, 'face_api_loader_hooks.mjs')).href, import.meta.url);

interface SeparableParams { depthwise_filter: TF.Tensor4D; pointwise_filter: TF.Tensor4D; bias: TF.Tensor1D }
interface ConvParams { filters: TF.Tensor4D; bias: TF.Tensor1D }
interface DenseBlock4Params { conv0: ConvParams | SeparableParams; conv1: SeparableParams; conv2: SeparableParams; conv3: SeparableParams }
interface FeatureParams { dense0: DenseBlock4Params; dense1: DenseBlock4Params; dense2: DenseBlock4Params; dense3: DenseBlock4Params }
interface NetInputLike { toBatchTensor(size: number, center: boolean): TF.Tensor4D }
interface FaceExpressionNetLike {
  loadFromWeightMap(m: TF.NamedTensorMap): void;
  runNet(input: NetInputLike): TF.Tensor2D;
  forward(input: TF.Tensor3D | TF.Tensor4D): Promise<TF.Tensor2D>;
  predictExpressions(input: TF.Tensor3D | TF.Tensor4D): Promise<Record<string, number> & { asSortedArray(): { expression: string; probability: number }[] }>;
  params: { fc: { weights: TF.Tensor2D; bias: TF.Tensor1D } };
  faceFeatureExtractor: { params: FeatureParams };
}
interface FaceApi {
  tf: typeof TF;
  FaceExpressionNet: new () => FaceExpressionNetLike;
  toNetInput(x: TF.Tensor3D | TF.Tensor4D): Promise<NetInputLike>;
  normalize(x: TF.Tensor4D, meanRgb: number[]): TF.Tensor4D;
  FACE_EXPRESSION_LABELS?: readonly string[];
}

const faceapi = (await import(pathToFileURL(join(faceApiRoot, 'dist/face-api.esm-nobundle.js')).href)) as unknown as FaceApi;
const tf = faceapi.tf;
await tf.setBackend('cpu');
await tf.ready();

// ---- weights ---------------------------------------------------------------------
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { paths: string[]; weights: TF.io.WeightsManifestEntry[] }[];
const group = manifest[0]!;
const bin = readFileSync(join(dirname(manifestPath), group.paths[0]!));
const weightMap = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), group.weights);
const weightSums: Record<string, number> = {};
for (const spec of group.weights) weightSums[spec.name] = sumF64(weightMap[spec.name]!.dataSync() as Float32Array);
const net = new faceapi.FaceExpressionNet();
net.loadFromWeightMap(weightMap);

// ---- inputs ----------------------------------------------------------------------
/** mulberry32: deterministic uint32 stream -> [0,1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = 20240607;
const rng = mulberry32(SEED);
const randomPixels = new Float32Array(112 * 112 * 3);
for (let i = 0; i < randomPixels.length; i++) randomPixels[i] = rng() * 255; // NHWC, RGB, [0,255)

function decodePngRgb(path: string): { width: number; height: number; rgb: Int32Array } {
  const req = createRequire(join(nnRoot, '../viz/package.json'));
  const { PNG } = req('pngjs') as { PNG: { sync: { read(b: Buffer): { width: number; height: number; data: Buffer } } } };
  const png = PNG.sync.read(readFileSync(path));
  const rgb = new Int32Array(png.width * png.height * 3);
  for (let p = 0; p < png.width * png.height; p++) {
    rgb[3 * p] = png.data[4 * p]!;
    rgb[3 * p + 1] = png.data[4 * p + 1]!;
    rgb[3 * p + 2] = png.data[4 * p + 2]!;
  }
  return { width: png.width, height: png.height, rgb };
}

// ---- replica of face-api's denseBlock4 (for intermediates) -------------------------
function sep(x: TF.Tensor4D, p: SeparableParams, stride: [number, number]): TF.Tensor4D {
  return tf.add(tf.separableConv2d(x, p.depthwise_filter, p.pointwise_filter, stride, 'same'), p.bias) as TF.Tensor4D;
}
function denseBlock4(x: TF.Tensor4D, p: DenseBlock4Params, isFirst: boolean, taps: Record<string, TF.Tensor4D>, name: string): TF.Tensor4D {
  const out1 = tf.relu(
    isFirst
      ? tf.add(tf.conv2d(x, (p.conv0 as ConvParams).filters, [2, 2], 'same'), (p.conv0 as ConvParams).bias)
      : sep(x, p.conv0 as SeparableParams, [2, 2]),
  ) as TF.Tensor4D;
  const out2 = sep(out1, p.conv1, [1, 1]);
  const in3 = tf.relu(tf.add(out1, out2)) as TF.Tensor4D;
  const out3 = sep(in3, p.conv2, [1, 1]);
  const in4 = tf.relu(tf.add(out1, tf.add(out2, out3))) as TF.Tensor4D;
  const out4 = sep(in4, p.conv3, [1, 1]);
  const out = tf.relu(tf.add(out1, tf.add(out2, tf.add(out3, out4)))) as TF.Tensor4D;
  Object.assign(taps, {
    [`${name}.out1_relu`]: out1, [`${name}.out2`]: out2, [`${name}.in3_relu`]: in3,
    [`${name}.out3`]: out3, [`${name}.in4_relu`]: in4, [`${name}.out4`]: out4, [`${name}.out`]: out,
  });
  return out;
}

function sumF64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}
const round = (x: number): number => Number(x.toPrecision(9));

/** Summary of an NHWC tensor, reported in NCHW terms. */
function summarize(t: TF.Tensor4D): Record<string, unknown> {
  const [n, h, w, c] = t.shape;
  const d = t.dataSync() as Float32Array;
  const channelSums = new Array<number>(c).fill(0);
  for (let i = 0; i < d.length; i++) channelSums[i % c] = channelSums[i % c]! + d[i]!;
  const at = (ch: number, y: number, x: number): number => d[(y * w + x) * c + ch]!;
  const picks: [number, number, number][] = [[0, 0, 0], [0, h - 1, w - 1], [c - 1, Math.floor(h / 2), Math.floor(w / 3)], [Math.floor(c / 2), 1, w - 2]];
  return {
    shape_nchw: [n, c, h, w],
    sum: round(sumF64(d)),
    mean_abs: round(sumF64(Array.from(d, Math.abs)) / d.length),
    channel_sums: channelSums.map(round),
    samples_chw: picks.map(([ch, y, x]) => ({ c: ch, h: y, w: x, value: round(at(ch, y, x)) })),
  };
}

function nhwcToNchw(t: TF.Tensor4D): Float32Array {
  return tf.transpose(t, [0, 3, 1, 2]).dataSync() as Float32Array;
}

interface CaseRecord {
  logits: number[];
  probabilities: number[];
  top: { index: number; label: string; prob: number };
  replica_vs_face_api_max_abs_logit_diff: number;
  [key: string]: unknown;
}

async function runCase(name: string, input: TF.Tensor3D | TF.Tensor4D): Promise<{ record: CaseRecord; inputNchw: Float32Array }> {
  // face-api's own forward
  const netInput = await faceapi.toNetInput(input);
  const logitsT = net.runNet(netInput);
  const logits = Array.from(logitsT.dataSync());
  const probsT = await net.forward(input); // = softmax(runNet(...))
  const probs = Array.from(probsT.dataSync());
  const expr = await net.predictExpressions(input);

  // face-api's exact preprocessing (FaceFeatureExtractor.forwardInput lines 1-3)
  const batch = tf.cast(netInput.toBatchTensor(112, true), 'float32') as TF.Tensor4D;
  const normalized = tf.div(faceapi.normalize(batch, MEAN_RGB), 255) as TF.Tensor4D;

  // replica for intermediates, using face-api's loaded params
  const fp = net.faceFeatureExtractor.params;
  const taps: Record<string, TF.Tensor4D> = {};
  let x = denseBlock4(normalized, fp.dense0, true, taps, 'dense0');
  x = denseBlock4(x, fp.dense1, false, taps, 'dense1');
  x = denseBlock4(x, fp.dense2, false, taps, 'dense2');
  x = denseBlock4(x, fp.dense3, false, taps, 'dense3');
  const pooled = tf.avgPool(x, [7, 7], [2, 2], 'valid') as TF.Tensor4D;
  const replicaLogits = Array.from(tf.add(tf.matMul(pooled.as2D(1, -1), net.params.fc.weights), net.params.fc.bias).dataSync());
  const replicaDiff = Math.max(...replicaLogits.map((v, i) => Math.abs(v - logits[i]!)));
  if (replicaDiff > 1e-5) throw new Error(`${name}: replica logits differ from face-api's by ${replicaDiff}`);

  const top = probs.indexOf(Math.max(...probs));
  const intermediates: Record<string, unknown> = { input_normalized: summarize(normalized) };
  for (const [k, v] of Object.entries(taps)) intermediates[k] = summarize(v);
  intermediates['avgpool'] = summarize(pooled);
  return {
    inputNchw: nhwcToNchw(normalized),
    record: {
      logits: logits.map(round),
      probabilities: probs.map(round),
      face_api_predictExpressions: Object.fromEntries(LABELS.map((l) => [l, round(expr[l]!)])),
      top: { index: top, label: LABELS[top]!, prob: round(probs[top]!) },
      pooled_features_256: Array.from(pooled.dataSync(), round),
      replica_vs_face_api_max_abs_logit_diff: replicaDiff,
      intermediates,
    },
  };
}

// ---- run ---------------------------------------------------------------------------
const rand = await runCase('random', tf.tensor4d(randomPixels, [1, 112, 112, 3], 'float32'));
const img = decodePngRgb(imagePath);
const face = await runCase('AF01HAHR', tf.tensor3d(img.rgb, [img.height, img.width, 3], 'int32'));

const files = { random: 'random_input_nchw_f32.bin', af01hahr: 'af01hahr_input_nchw_f32.bin' };
const reference = {
  generated_by: 'packages/nn/scripts/face_expression_reference.ts (face-api 1.7.15 dist/face-api.esm-nobundle.js on @tensorflow/tfjs ' + tf.version_core + ', backend ' + tf.getBackend() + ')',
  labels: LABELS,
  input_files: {
    layout: 'NCHW [1,3,112,112], float32 little-endian, channel order R,G,B; values are the NETWORK input, i.e. already normalized: (pixel - mean_rgb) / 255',
    mean_rgb: MEAN_RGB,
    random: files.random,
    af01hahr: files.af01hahr,
  },
  weights: {
    manifest: 'node_modules/@vladmandic/face-api/model/face_expression_model-weights_manifest.json',
    count: group.weights.length,
    sums_float64: Object.fromEntries(Object.entries(weightSums).map(([k, v]) => [k, round(v)])),
  },
  cases: {
    random: {
      description: `mulberry32(seed=${SEED}) stream, raw pixel value = u*255 (u in [0,1)), filled in NHWC order [1,112,112,3] (float32, R,G,B); passed to face-api as a float32 Tensor4D (112x112 -> no pad, no resize)`,
      input_file: files.random,
      ...rand.record,
    },
    af01hahr: {
      description: `${imagePath.split('/').pop()} (${img.width}x${img.height} RGB PNG) decoded to an int32 Tensor3D [H,W,3] like tf.node.decodeImage, passed to face-api as the face crop: padToSquare (no-op, already square) + tf.image.resizeBilinear to 112x112 (alignCorners=false, halfPixelCenters=false), then (x - mean_rgb)/255`,
      source_size: [img.height, img.width],
      input_file: files.af01hahr,
      ...face.record,
    },
  },
  notes: {
    intermediates: 'NHWC tfjs tensors summarized in NCHW terms: shape_nchw, sum (float64 over all elements), mean_abs, channel_sums[c], samples_chw (value at [0,c,h,w]). dense*.out1_relu = relu(conv0(x)); out2/out3/out4 = raw separable conv outputs (pre-sum, no relu); in3_relu = relu(out1+out2); in4_relu = relu(out1+out2+out3); out = relu(out1+out2+out3+out4).',
    logits: 'fc output before softmax (face-api runNet); probabilities = softmax(logits) from face-api forward().',
  },
};

if (CHECK) {
  const old = JSON.parse(readFileSync(join(outDir, 'reference.json'), 'utf8')) as typeof reference;
  let worst = 0;
  for (const k of ['random', 'af01hahr'] as const) {
    old.cases[k].logits.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - reference.cases[k].logits[i]!)); });
    const bin = readFileSync(join(outDir, files[k]));
    const prev = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    const cur = k === 'random' ? rand.inputNchw : face.inputNchw;
    for (let i = 0; i < cur.length; i++) worst = Math.max(worst, Math.abs(prev[i]! - cur[i]!));
  }
  console.log(`check: max abs difference vs fixtures = ${worst}`);
  if (worst > 1e-6) process.exit(1);
} else {
  if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
  const le = (a: Float32Array): Buffer => {
    const b = Buffer.alloc(a.length * 4);
    a.forEach((v, i) => b.writeFloatLE(v, i * 4));
    return b;
  };
  writeFileSync(join(outDir, files.random), le(rand.inputNchw));
  writeFileSync(join(outDir, files.af01hahr), le(face.inputNchw));
  // one line per numeric array keeps the file small and diffable
  const json = JSON.stringify(reference, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_m, body: string) => `[${body.replace(/\s+/g, '')}]`);
  writeFileSync(join(outDir, 'reference.json'), json + '\n');
}

for (const k of ['random', 'af01hahr'] as const) {
  const c = reference.cases[k];
  console.log(`${k}: top=${c.top.label} (${c.top.prob})`);
  console.log('  logits        ', c.logits.map((v) => v.toFixed(6)).join(' '));
  console.log('  probabilities ', LABELS.map((l, i) => `${l}=${c.probabilities[i]!.toFixed(6)}`).join(' '));
  console.log('  replica diff  ', c.replica_vs_face_api_max_abs_logit_diff);
}
