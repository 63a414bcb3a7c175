/**
 * Shared pieces of `pnpm bench`: model table, FLOP count, the cache layout,
 * a minimal safetensors reader/writer (F32/I64, independent of gradlens so
 * the peers never depend on code under test), RSS, and the result protocol.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(BENCH_DIR, '..');
export const CACHE = join(BENCH_DIR, '.cache');
export const OUT_DIR = join(CACHE, 'out');

export type ModelName = 'resnet50' | 'alexnet' | 'vgg16' | 'face_expression';
export const ALL_MODELS: ModelName[] = ['resnet50', 'alexnet', 'vgg16', 'face_expression'];

export interface ModelSpec {
  name: ModelName;
  /** Input side (square). */
  size: number;
  classes: number;
  /** Class whose score is back-propagated (one-hot, as in the seed). */
  target: number;
  /** Input values are uniform in [-scale, scale). */
  inputScale: number;
}

export const MODELS: Record<ModelName, ModelSpec> = {
  resnet50: { name: 'resnet50', size: 224, classes: 7, target: 3, inputScale: 2 },
  alexnet: { name: 'alexnet', size: 224, classes: 1000, target: 3, inputScale: 2 },
  vgg16: { name: 'vgg16', size: 224, classes: 1000, target: 3, inputScale: 2 },
  face_expression: { name: 'face_expression', size: 112, classes: 7, target: 3, inputScale: 0.5 },
};

export const weightsPath = (m: ModelName): string => join(CACHE, `${m}.safetensors`);
export const inputPath = (m: ModelName): string => join(CACHE, `input_${m}.f32`);
export const gradPath = (peer: string, m: ModelName): string => join(OUT_DIR, `${peer}__${m}.f32`);

// ---------------------------------------------------------------------------------------------
// Deterministic input (mulberry32, seed 0): 1×3×S×S float32, little-endian, C order
// ---------------------------------------------------------------------------------------------

export function makeInput(spec: ModelSpec, seed = 0): Float32Array {
  let a = seed >>> 0;
  const n = 3 * spec.size * spec.size;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (2 * u - 1) * spec.inputScale;
  }
  return out;
}

export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function writeF32(path: string, a: Float32Array): void {
  writeFileSync(path, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
}

// ---------------------------------------------------------------------------------------------
// safetensors (F32 / I64 only)
// ---------------------------------------------------------------------------------------------

export interface StTensor { shape: number[]; dtype: 'F32' | 'I64'; data: Float32Array | BigInt64Array }

export function readSafetensors(path: string): Map<string, StTensor> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + n;
  const out = new Map<string, StTensor>();
  for (const [k, e] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const [a, b] = e.data_offsets;
    const bytes = buf.buffer.slice(buf.byteOffset + base + a, buf.byteOffset + base + b);
    if (e.dtype === 'F32') out.set(k, { shape: e.shape, dtype: 'F32', data: new Float32Array(bytes) });
    else if (e.dtype === 'I64') out.set(k, { shape: e.shape, dtype: 'I64', data: new BigInt64Array(bytes) });
    else throw new Error(`${path}: ${k}: dtype ${e.dtype} not supported by the bench reader`);
  }
  return out;
}

export function writeSafetensors(path: string, tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const [k, t] of tensors) {
    const len = t.data.byteLength;
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + len] };
    off += len;
  }
  let h = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((8 + h.length) % 8)) % 8;
  h = Buffer.concat([h, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const parts = [len, h, ...[...tensors.values()].map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
  const tmp = `${path}.tmp${process.pid}`;
  writeFileSync(tmp, Buffer.concat(parts));
  renameSync(tmp, path);
}

// ---------------------------------------------------------------------------------------------
// FLOPs: conv2d and linear layers only, 2 FLOPs per multiply-accumulate, batch 1.
// ---------------------------------------------------------------------------------------------

export interface LayerFlops { name: string; macs: number }

const convOut = (h: number, k: number, s: number, p0: number, p1 = p0): number => Math.floor((h + p0 + p1 - k) / s) + 1;

/** Forward conv/linear MACs of each layer, from the architecture (not from any framework). */
export function layerMacs(m: ModelName): LayerFlops[] {
  const L: LayerFlops[] = [];
  const conv = (name: string, cin: number, cout: number, k: number, hout: number, groups = 1): void => {
    L.push({ name, macs: (cin / groups) * k * k * cout * hout * hout });
  };
  const fc = (name: string, i: number, o: number): void => { L.push({ name, macs: i * o }); };
  const spec = MODELS[m];
  if (m === 'alexnet') {
    let h = convOut(224, 11, 4, 2); conv('features.0', 3, 64, 11, h); // 55
    h = convOut(h, 3, 2, 0); // maxpool -> 27
    conv('features.3', 64, 192, 5, h); h = convOut(h, 3, 2, 0); // 13
    conv('features.6', 192, 384, 3, h); conv('features.8', 384, 256, 3, h); conv('features.10', 256, 256, 3, h);
    fc('classifier.1', 256 * 6 * 6, 4096); fc('classifier.4', 4096, 4096); fc('classifier.6', 4096, spec.classes);
  } else if (m === 'vgg16') {
    const cfg: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];
    let h = 224; let c = 3; let i = 0;
    for (const v of cfg) {
      if (v === 'M') { h /= 2; i += 1; continue; }
      conv(`features.${i}`, c, v, 3, h); c = v; i += 2;
    }
    fc('classifier.0', 512 * 7 * 7, 4096); fc('classifier.3', 4096, 4096); fc('classifier.6', 4096, spec.classes);
  } else if (m === 'resnet50') {
    let h = convOut(224, 7, 2, 3); conv('conv1', 3, 64, 7, h); // 112
    h = convOut(h, 3, 2, 1); // 56
    let cin = 64;
    const layers: [number, number, number][] = [[64, 3, 1], [128, 4, 2], [256, 6, 2], [512, 3, 2]];
    layers.forEach(([w, blocks, stride], li) => {
      for (let b = 0; b < blocks; b++) {
        const s = b === 0 ? stride : 1;
        const p = `layer${li + 1}.${b}`;
        conv(`${p}.conv1`, cin, w, 1, h);
        const ho = convOut(h, 3, s, 1);
        conv(`${p}.conv2`, w, w, 3, ho);
        conv(`${p}.conv3`, w, w * 4, 1, ho);
        if (b === 0) conv(`${p}.downsample.0`, cin, w * 4, 1, ho);
        cin = w * 4; h = ho;
      }
    });
    fc('fc', 2048, spec.classes);
  } else {
    // face-api FaceExpressionNet (packages/nn/src/models/FACE_EXPRESSION_NOTES.md §1)
    let h = 112; let c = 3;
    const chans = [32, 64, 128, 256];
    chans.forEach((o, b) => {
      h = Math.ceil(h / 2);
      if (b === 0) conv(`dense0.conv0`, 3, 32, 3, h);
      else { conv(`dense${b}.conv0.depthwise`, c, c, 3, h, c); conv(`dense${b}.conv0.pointwise`, c, o, 1, h); }
      for (let k = 1; k <= 3; k++) { conv(`dense${b}.conv${k}.depthwise`, o, o, 3, h, o); conv(`dense${b}.conv${k}.pointwise`, o, o, 1, h); }
      c = o;
    });
    fc('fc', 256, spec.classes);
  }
  return L;
}

/** Forward conv+linear FLOPs (2 per MAC). */
export const forwardFlops = (m: ModelName): number => 2 * layerMacs(m).reduce((s, l) => s + l.macs, 0);
/** The work credited to one guided-backprop run: forward + gradient w.r.t. the layer inputs = 2 × forward. */
export const gbpFlops = (m: ModelName): number => 2 * forwardFlops(m);

// ---------------------------------------------------------------------------------------------
// Peer side: RSS, timing loop, result line
// ---------------------------------------------------------------------------------------------

/** Peak resident set size of this process in KiB (VmHWM), or null. */
export function peakRssKb(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch { /* not Linux */ }
  return Math.round(process.resourceUsage().maxRSS);
}

export interface PeerArgs {
  model: ModelName; runs: number; warmup: number; budget: number; minRuns: number; gradOut: string | null; extra: Map<string, string>;
}

export function parsePeerArgs(argv: string[]): PeerArgs {
  const get = (k: string): string | undefined => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : undefined; };
  const extra = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) if (argv[i]!.startsWith('--') && argv[i + 1] !== undefined) extra.set(argv[i]!.slice(2), argv[i + 1]!);
  return {
    model: (get('model') ?? 'resnet50') as ModelName,
    runs: Number(get('runs') ?? 7),
    warmup: Number(get('warmup') ?? 2),
    budget: Number(get('budget') ?? 60),
    minRuns: Number(get('min-runs') ?? 3),
    gradOut: get('grad-out') ?? null,
    extra,
  };
}

/**
 * Warm-up, then up to `runs` timed runs; stops early (never below `minRuns`) once the
 * timed runs have used `budget` seconds, so a slow peer does fewer runs (reported as n).
 * A peer whose first warm-up run alone takes over half the budget skips the other warm-ups
 * and may stop after 1 timed run.
 */
export async function timeRuns(f: () => unknown | Promise<unknown>, a: PeerArgs): Promise<{ times: number[]; warm: number[] }> {
  const warm: number[] = [];
  let minRuns = a.minRuns;
  for (let i = 0; i < a.warmup; i++) {
    const t = performance.now(); await f(); warm.push(performance.now() - t);
    if (warm[0]! / 1000 > a.budget / 2) { minRuns = 1; break; }
  }
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < a.runs) {
    const t = performance.now(); await f(); times.push(performance.now() - t);
    if (times.length >= Math.min(minRuns, a.runs) && (performance.now() - t0) / 1000 > a.budget) break;
  }
  return { times, warm };
}

export interface PeerResult {
  peer: string;
  /** How the row is shown when it differs from `peer` (e.g. 'gpujs-webgpu (SwiftShader, software)'). */
  label?: string;
  model: ModelName;
  /** Timed runs in ms (after warm-up). */
  times_ms: number[];
  warmup_ms: number[];
  peak_rss_kb: number | null;
  threads: number | string;
  /** e.g. first-layer hook output shape, backend details. */
  notes?: string[];
  /** Load + build time, ms. */
  setup_ms?: number;
  versions?: Record<string, string>;
}

export function emitResult(r: PeerResult): void {
  process.stdout.write(`@@RESULT ${JSON.stringify(r)}\n`);
}

