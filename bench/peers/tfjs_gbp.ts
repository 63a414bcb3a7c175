/**
 * TensorFlow.js peer of `pnpm bench`: guided backprop with @tensorflow/tfjs-backend-wasm.
 *
 *   node --import tsx bench/peers/tfjs_gbp.ts --model resnet50 --weights W.safetensors \
 *       --input X.f32 --runs 7 --warmup 2 --budget 60 [--grad-out G.f32] [--backend wasm|cpu]
 *
 * The models are written with tf ops (NHWC) from the SAME PyTorch state dict the other peers
 * load (bench/.cache/<model>.safetensors, converted OIHW -> HWIO at load). Guided ReLU is
 * `tf.customGrad`: value relu(x), gradient relu(dy) * step(y) — PyTorch's ReLU backward
 * (dy where y > 0) followed by the seed's clamp(min=0). The input gradient comes from
 * `tf.grad(x => model(x))(x, one_hot)`; tfjs only evaluates gradients on the path from the
 * input, so no weight gradients are computed.
 *
 * Two workarounds, both with wasm ops only:
 *  - threads: tfjs disables the threaded wasm build under Node (tfjs issue #3830; forcing
 *    WASM_HAS_MULTITHREAD_SUPPORT fails with ERR_WORKER_PATH), so this peer runs 1 thread.
 *  - the wasm backend has no DepthwiseConv2dNativeBackpropInput kernel (the face-expression
 *    net needs it), so depthwise convs get a tf.customGrad whose input gradient is a depthwise
 *    conv of the (zero-upsampled, for stride 2) gradient with the flipped filter.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';

import { MODELS, REPO, emitResult, parsePeerArgs, peakRssKb, readF32, readSafetensors, timeRuns, writeF32 } from '../lib.ts';
import type { ModelName } from '../lib.ts';

type T4 = tf.Tensor4D;

// emscripten's uncaughtException handler rethrows with its whole minified source: print one line
const fail = (e: unknown): never => { process.stderr.write(`tfjs_gbp: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`); process.exit(1); };
process.prependListener('uncaughtException', fail);
process.prependListener('unhandledRejection', fail);

const args = parsePeerArgs(process.argv.slice(2));
const backend = args.extra.get('backend') ?? 'wasm';
const spec = MODELS[args.model];
const weightsFile = args.extra.get('weights');
const inputFile = args.extra.get('input');
if (!weightsFile || !inputFile) throw new Error('tfjs_gbp: --weights and --input are required');

// tfjs-core's Node (CJS) build registers no gradients; its ESM register_all_gradients cannot
// be loaded by Node. The union package @tensorflow/tfjs (a devDependency of packages/nn, same
// tfjs-core instance) registers them, as it does for every tfjs user.
createRequire(join(REPO, 'packages/nn/package.json'))('@tensorflow/tfjs');

const tSetup = performance.now();
await tf.setBackend(backend);
await tf.ready();

// ---------------------------------------------------------------------------------------------
// weights (PyTorch layouts -> tfjs layouts)
// ---------------------------------------------------------------------------------------------

const sd = readSafetensors(weightsFile);
function raw(k: string): { shape: number[]; data: Float32Array } {
  const t = sd.get(k);
  if (!t || t.dtype !== 'F32') throw new Error(`${weightsFile}: ${k} missing`);
  return { shape: t.shape, data: t.data as Float32Array };
}
const keep = <R extends tf.Tensor>(t: R): R => tf.keep(t);
/** OIHW -> HWIO */
const convW = (k: string): T4 => tf.tidy(() => { const r = raw(k); return keep(tf.transpose(tf.tensor4d(r.data, r.shape as [number, number, number, number]), [2, 3, 1, 0])); });
/** [C,1,KH,KW] -> [KH,KW,C,1] */
const dwW = (k: string): T4 => tf.tidy(() => { const r = raw(k); return keep(tf.transpose(tf.tensor4d(r.data, r.shape as [number, number, number, number]), [2, 3, 0, 1])); });
const vec = (k: string): tf.Tensor1D => tf.tensor1d(raw(k).data);
const mat = (k: string): tf.Tensor2D => { const r = raw(k); return tf.tensor2d(r.data, r.shape as [number, number]); };

// ---------------------------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------------------------

type GradInput = tf.Tensor | tf.GradSaveFunc;

const guidedRelu = tf.customGrad((...a: GradInput[]) => {
  const x = a[0] as tf.Tensor; const save = a[1] as tf.GradSaveFunc;
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.relu(dy), tf.step(saved[0]!)) };
}) as (x: T4) => T4;
const guidedRelu2 = guidedRelu as unknown as (x: tf.Tensor2D) => tf.Tensor2D;

type Pad = number | 'same' | [[number, number], [number, number], [number, number], [number, number]];

function conv(prefix: string, stride: number, pad: Pad, bias = true): (x: T4) => T4 {
  const w = convW(`${prefix}.weight`);
  const b = bias ? vec(`${prefix}.bias`) : null;
  return (x) => { const y = tf.conv2d(x, w, stride, pad as never); return b ? tf.add(y, b) : y; };
}

function bn(prefix: string): (x: T4) => T4 {
  const mean = vec(`${prefix}.running_mean`); const variance = vec(`${prefix}.running_var`);
  const scale = vec(`${prefix}.weight`); const offset = vec(`${prefix}.bias`);
  return (x) => tf.batchNorm4d(x, mean, variance, offset, scale, 1e-5);
}

function linear(prefix: string): (x: tf.Tensor2D) => tf.Tensor2D {
  // stored [in, out] as tfjs's dense layers keep it (transposed once, at load)
  const w = tf.tidy(() => keep(tf.transpose(mat(`${prefix}.weight`)))); const b = vec(`${prefix}.bias`);
  return (x) => tf.add(tf.matMul(x, w), b);
}

/** NHWC -> PyTorch's NCHW flatten order. */
const flattenNCHW = (x: T4): tf.Tensor2D => tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [1, -1]);

/**
 * 3×3 depthwise conv, TF 'same' padding (stride 1: [1,1]; stride 2 on even input: [0,1]),
 * with a wasm-only input gradient (see the header).
 */
function depthwise(k: string, stride: 1 | 2): (x: T4) => T4 {
  const w = dwW(k);
  const wFlip = tf.keep(tf.reverse(w, [0, 1]));
  return tf.customGrad((...a: GradInput[]) => {
    const x4 = a[0] as T4;
    (a[1] as tf.GradSaveFunc)([]);
    const [, h, wd, c] = x4.shape;
    return {
      value: tf.depthwiseConv2d(x4, w, stride, 'same'),
      gradFunc: (dy: tf.Tensor) => {
        const d = dy as T4;
        if (stride === 1) return tf.depthwiseConv2d(d, wFlip, 1, 'same');
        // dx = correlate(zero-upsampled dy, flipped w) with padding [2, 0] on each spatial axis
        const [, oh, ow] = d.shape;
        const u = tf.reshape(tf.pad(tf.reshape(d, [1, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]]), [1, 2 * oh, 2 * ow, c]);
        const dx = tf.depthwiseConv2d(u as T4, wFlip, 1, [[0, 0], [2, 0], [2, 0], [0, 0]] as never);
        return dx.shape[1] === h && dx.shape[2] === wd ? dx : tf.slice(dx, [0, 0, 0, 0], [1, h, wd, c]);
      },
    };
  }) as (x: T4) => T4;
}

// ---------------------------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------------------------

function alexnet(): (x: T4) => tf.Tensor2D {
  const c0 = conv('features.0', 4, 2), c3 = conv('features.3', 1, 2), c6 = conv('features.6', 1, 1);
  const c8 = conv('features.8', 1, 1), c10 = conv('features.10', 1, 1);
  const f1 = linear('classifier.1'), f4 = linear('classifier.4'), f6 = linear('classifier.6');
  return (x) => {
    let y = tf.maxPool(guidedRelu(c0(x)), 3, 2, 0);
    y = tf.maxPool(guidedRelu(c3(y)), 3, 2, 0);
    y = guidedRelu(c6(y)); y = guidedRelu(c8(y)); y = tf.maxPool(guidedRelu(c10(y)), 3, 2, 0);
    // AdaptiveAvgPool2d((6, 6)) on 6×6 is the identity; Dropout is the identity in eval mode
    return f6(guidedRelu2(f4(guidedRelu2(f1(flattenNCHW(y))))));
  };
}

function vgg16(): (x: T4) => tf.Tensor2D {
  const cfg: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];
  const layers: ((x: T4) => T4)[] = [];
  let i = 0;
  for (const v of cfg) {
    if (v === 'M') { layers.push((x) => tf.maxPool(x, 2, 2, 0)); i += 1; continue; }
    const c = conv(`features.${i}`, 1, 1);
    layers.push((x) => guidedRelu(c(x)));
    i += 2;
  }
  const f0 = linear('classifier.0'), f3 = linear('classifier.3'), f6 = linear('classifier.6');
  return (x) => {
    let y = x;
    for (const l of layers) y = l(y);
    return f6(guidedRelu2(f3(guidedRelu2(f0(flattenNCHW(y))))));
  };
}

function resnet50(): (x: T4) => tf.Tensor2D {
  const c1 = conv('conv1', 2, 3, false), b1 = bn('bn1');
  const blocks: ((x: T4) => T4)[] = [];
  ([[64, 3, 1], [128, 4, 2], [256, 6, 2], [512, 3, 2]] as const).forEach(([, n, stride], li) => {
    for (let b = 0; b < n; b++) {
      const p = `layer${li + 1}.${b}`;
      const s = b === 0 ? stride : 1;
      const k1 = conv(`${p}.conv1`, 1, 0, false), n1 = bn(`${p}.bn1`);
      const k2 = conv(`${p}.conv2`, s, 1, false), n2 = bn(`${p}.bn2`);
      const k3 = conv(`${p}.conv3`, 1, 0, false), n3 = bn(`${p}.bn3`);
      const down = b === 0 ? ((d: (x: T4) => T4, e: (x: T4) => T4) => (x: T4) => e(d(x)))(conv(`${p}.downsample.0`, s, 0, false), bn(`${p}.downsample.1`)) : null;
      blocks.push((x) => {
        let y = guidedRelu(n1(k1(x)));
        y = guidedRelu(n2(k2(y)));
        y = n3(k3(y));
        return guidedRelu(tf.add(y, down ? down(x) : x));
      });
    }
  });
  const fc = linear('fc');
  return (x) => {
    let y = tf.maxPool(guidedRelu(b1(c1(x))), 3, 2, 1);
    for (const b of blocks) y = b(y);
    return fc(tf.reshape(tf.mean(y, [1, 2]), [1, -1]));
  };
}

function faceExpression(): (x: T4) => tf.Tensor2D {
  const blocks = [0, 1, 2, 3].map((b) => {
    const sep = (k: number, stride: 1 | 2): ((x: T4) => T4) => {
      const dw = depthwise(`dense${b}.conv${k}.depthwise.weight`, stride);
      const pw = conv(`dense${b}.conv${k}.pointwise`, 1, 0);
      return (x) => pw(dw(x));
    };
    const c0 = b === 0 ? conv('dense0.conv0', 2, 'same') : sep(0, 2);
    const c1 = sep(1, 1), c2 = sep(2, 1), c3 = sep(3, 1);
    return (x: T4): T4 => {
      const out1 = guidedRelu(c0(x));
      const out2 = c1(out1);
      const in3 = guidedRelu(tf.add(out1, out2));
      const out3 = c2(in3);
      const in4 = guidedRelu(tf.add(out1, tf.add(out2, out3)));
      const out4 = c3(in4);
      return guidedRelu(tf.add(out1, tf.add(out2, tf.add(out3, out4))));
    };
  });
  const fc = linear('fc');
  return (x) => {
    let y = x;
    for (const b of blocks) y = b(y);
    return fc(tf.reshape(tf.avgPool(y, 7, 2, 'valid'), [1, -1]));
  };
}

const builders: Record<ModelName, () => (x: T4) => tf.Tensor2D> = { alexnet, vgg16, resnet50, face_expression: faceExpression };

const model = builders[args.model]();
const S = spec.size;
const input = tf.tidy(() => tf.transpose(tf.tensor4d(readF32(inputFile), [1, 3, S, S]), [0, 2, 3, 1])) as T4;
const oneHot = tf.cast(tf.oneHot(tf.tensor1d([spec.target], 'int32'), spec.classes), 'float32') as tf.Tensor2D;
const gradFn = tf.grad((x: tf.Tensor) => model(x as T4));
const setupMs = performance.now() - tSetup;

/** One guided-backprop run: forward + backward to the input; returns the NHWC gradient values. */
function run(): Float32Array {
  return tf.tidy(() => gradFn(input, oneHot).dataSync() as Float32Array);
}

const { times, warm } = await timeRuns(run, args);
if (args.gradOut) {
  const g = tf.tidy(() => tf.transpose(tf.tensor4d(run(), [1, S, S, 3]), [0, 3, 1, 2]).dataSync() as Float32Array);
  writeF32(args.gradOut, g);
}
const mem = tf.memory();
emitResult({
  peer: `tfjs-${backend}`, model: args.model, times_ms: times, warmup_ms: warm, peak_rss_kb: peakRssKb(),
  threads: backend === 'wasm' ? 1 : 1, setup_ms: setupMs,
  notes: [`tfjs tensors alive after runs: ${mem.numTensors} (${(mem.numBytes / 1e6).toFixed(0)} MB, weights + input)`],
  versions: { tfjs: tf.version_core, node: process.version },
});
