/**
 * gradlens peer of `pnpm bench`: the seed's GuidedBackprop (examples/guided_backprop.ts, the
 * class the CLI uses) on one model and one kernel backend, timed, in its own process.
 *
 *   node --import tsx bench/gradlens_gbp.ts --model resnet50 --weights W.safetensors \
 *       --input X.f32 --runs 7 --warmup 2 --budget 60 [--backend NAME] [--backend-budget S] \
 *       [--grad-out G.f32]
 *   node --import tsx bench/gradlens_gbp.ts --list-backends   # {"cpu":null,"gpujs-webgpu":"why not",...}
 *
 * torchvision models: `nn.models[name]({num_classes})` + `load_state_dict(nn.load_safetensors(W))`,
 * the same file the PyTorch and tfjs peers load. face_expression: `nn.models.face_expression()`
 * (face-api's own weights, which bench/.cache/face_expression.safetensors was converted from).
 * The input is a leaf with requires_grad (as the seed's preprocess_image makes it); the model's
 * parameters require grad, as in PyTorch.
 *
 * Backends (`--backend`):
 *  - 'cpu': the default kernels; the seed's `generate_gradients` as is.
 *  - a host-memory kernel backend ('gpujs-webasm'): `model.to(await nn.resolve_device(name))`;
 *    tensors stay in host memory, so the run is the seed's `generate_gradients` unchanged.
 *  - a device-resident backend ('gpujs-webgpu', or any device core reports with `get_device`):
 *    `model.to(dev)`, `input.to(dev).requires_grad_()`, the seed's forward / one-hot backward
 *    (the one-hot `.to(dev)`), then `await input.grad.cpu()`: every timed run includes reading
 *    the input gradient back. The row is labelled with the WebGPU adapter, "software" when it is
 *    a software one (SwiftShader, llvmpipe, ...; `isSoftwareAdapter`), so it is never read as
 *    GPU speed.
 * A backend whose `nn.resolve_device` throws is a skip (`@@SKIP {"reason": ...}`), never a number.
 *
 * `--backend-budget S` (0: none): after the first warm-up run, if warm-ups + timed runs would take
 * over S seconds, the peer skips (`@@SKIP`, saying how long one run takes) instead of measuring;
 * when the first run is over the per-run share but a second run fits (one-time kernel
 * compilation), the estimate is taken from the second run. The orchestrator kills the process
 * if the warm-up runs are still going after S seconds.
 *
 * Protocol on stdout: `@@LABEL text`, `@@RUN_START` (first warm-up starts), `@@WARM ms` (each
 * warm-up run), `@@TIMED` (timed runs start), then `@@RESULT json`, or `@@SKIP json`, or
 * `@@MISSING reason` (a piece of the build is not there yet).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { MODELS, REPO, emitResult, parsePeerArgs, peakRssKb, readF32, timeRuns, writeF32 } from './lib.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const argv = process.argv.slice(2);

function missing(reason: string): never {
  process.stdout.write(`@@MISSING ${reason.split('\n')[0]}\n`);
  process.exit(0);
}

/** This (backend, model) is not measured, and why (printed as "skipped: <reason>"). */
function skip(reason: string, label?: string): never {
  process.stdout.write(`@@SKIP ${JSON.stringify({ reason: reason.split('\n')[0], label })}\n`);
  process.exit(0);
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

async function load(rel: string): Promise<Any> {
  const p = join(REPO, rel);
  if (!existsSync(p)) missing(`${rel} does not exist yet`);
  try {
    return await import(p);
  } catch (e) {
    missing(`importing ${rel} failed: ${(e as Error).message}`);
  }
}

const nn = await load('packages/nn/src/index.ts');
const torch = await load('packages/core/src/index.ts');

/** Backends every bench run tries (each resolved with `nn.resolve_device`; one that does not resolve is a skip row). */
const CANDIDATES = ['cpu', 'gpujs-webasm', 'gpujs-webgpu'];

/**
 * Backends to measure, each with null (usable) or why not: the candidates above, plus any device
 * the build reports through a documented device API (`nn.available_devices()` /
 * `torch.available_devices()` / `torch.backends.available()`) or the kernel registry. A backend
 * is usable when `await nn.resolve_device(name)` succeeds (it loads gpu.js / WebGPU on demand).
 */
async function listBackends(): Promise<Record<string, string | null>> {
  const names = new Set<string>(CANDIDATES);
  for (const f of [nn.available_devices, torch.available_devices, torch.backends?.available, nn.backends?.available]) {
    if (typeof f === 'function') {
      try {
        const r = await f();
        for (const d of (Array.isArray(r) ? r : [])) names.add(typeof d === 'string' ? d : String(d?.name ?? d?.type ?? d));
      } catch { /* not usable */ }
    }
  }
  try {
    const k = await import(join(REPO, 'packages/nn/src/kernels/index.ts'));
    for (const b of k.registeredBackends?.() ?? []) names.add(b);
  } catch { /* no registry */ }
  names.delete('auto');
  const out: Record<string, string | null> = {};
  for (const name of names) {
    if (name === 'cpu') { out[name] = null; continue; }
    if (typeof nn.resolve_device !== 'function') { out[name] = 'nn.resolve_device is not in this build'; continue; }
    try {
      await nn.resolve_device(name);
      out[name] = null;
    } catch (e) {
      out[name] = firstLine(e);
    }
  }
  return out;
}

if (argv.includes('--list-backends')) {
  process.stdout.write(`@@BACKENDS ${JSON.stringify(await listBackends())}\n`);
  process.exit(0); // a WebGPU instance (Dawn) may keep the event loop alive
}

const args = parsePeerArgs(argv);
const backend = args.extra.get('backend') ?? 'cpu';
/** Seconds for warm-ups + timed runs of this (backend, model); 0: no budget. */
const backendBudget = Number(args.extra.get('backend-budget') ?? 0);
const spec = MODELS[args.model];
const weightsFile = args.extra.get('weights');
const inputFile = args.extra.get('input');
if (!inputFile) throw new Error('gradlens_gbp: --input is required');

const notes: string[] = [];

/** An export of the nn package index, else (noted) the same thing from its source file. */
async function nnExport(name: string, file: string, key = name): Promise<Any> {
  if (nn[name] !== undefined) return nn[name];
  const p = join(REPO, file);
  if (!existsSync(p)) return undefined;
  try {
    const mod = await import(p);
    if (mod[key] !== undefined) { notes.push(`nn.${name} not exported by @gradlens/nn yet: taken from ${file}`); return mod[key]; }
  } catch (e) { notes.push(`importing ${file} failed: ${(e as Error).message}`); }
  return undefined;
}

/**
 * The seed's GuidedBackprop as ported in examples/guided_backprop.ts (the class the CLI uses);
 * while that file cannot be imported, the same class written out here (noted in the results).
 */
async function guidedBackpropClass(): Promise<Any> {
  try {
    const gb = await import(join(REPO, 'examples/guided_backprop.ts'));
    if (typeof gb.GuidedBackprop === 'function') return gb.GuidedBackprop;
    notes.push('examples/guided_backprop.ts exports no GuidedBackprop: using the bench\'s copy of the seed class');
  } catch (e) {
    notes.push(`examples/guided_backprop.ts not importable (${(e as Error).message.split('\n')[0]}): using the bench's copy of the seed class`);
  }
  const ReLU = nn.ReLU;
  return class GuidedBackprop {
    model: Any; gradients: Any = null; forward_relu_outputs: Any[] = [];
    constructor(model: Any) { this.model = model; this.model.eval(); this.update_relus(); this.hook_layers(); }
    hook_layers(): void {
      const hook_function = (_m: Any, grad_in: Any[]): void => { this.gradients = grad_in[0]; };
      this.model.children()[0].register_backward_hook(hook_function);
    }
    update_relus(): void {
      const relu_hook_function = (module: Any, grad_in: Any[]): Any => (module instanceof ReLU ? [torch.clamp(grad_in[0], { min: 0.0 })] : undefined);
      for (const module of this.model.modules()) if (module instanceof ReLU) module.register_backward_hook(relu_hook_function);
    }
    generate_gradients(input_image: Any, target_class: number): Any {
      const model_output = this.model(input_image);
      this.model.zero_grad();
      const one_hot_output = torch.FloatTensor(1, model_output.size(-1)).zero_();
      torch.setitem(one_hot_output, [0, target_class], 1);
      model_output.backward(one_hot_output);
      return this.gradients.data.numpy().pick(0);
    }
  };
}

const GuidedBackprop = await guidedBackpropClass();
let models: Any = nn.models;
if (models === undefined) {
  models = await import(join(REPO, 'packages/nn/src/models/index.ts')).catch(() => undefined);
  if (models !== undefined) notes.push('nn.models not exported by @gradlens/nn yet: taken from packages/nn/src/models/index.ts');
}

const S = spec.size;

// ---------------------------------------------------------------------------------------------
// the device
// ---------------------------------------------------------------------------------------------

const SOFTWARE_RE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|\bwarp\b/i;

/** 'gpujs-webgpu (SwiftShader, software)' / 'gpujs-webgpu (nvidia / ...)': which adapter the row ran on. */
async function webgpuLabel(dev: Any): Promise<{ label: string; adapter: string; software: boolean | null }> {
  let adapter: Any = null;
  let text = '';
  try {
    const sel = await nn.select_device?.(backend);
    adapter = sel?.adapter ?? null;
    text = sel?.adapter_name ?? '';
  } catch { /* resolve_device worked; select_device is only for the adapter */ }
  const rt: Any = await import(join(REPO, 'packages/nn/src/kernels/gpujs/runtime.ts')).catch(() => null);
  if (adapter === null && rt?.probeWebGPUAdapter) {
    // navigator.gpu is installed by now (resolve_device did it): ask it for the adapter it gives
    try { adapter = (await rt.probeWebGPUAdapter()).adapter ?? null; } catch { /* no adapter info */ }
  }
  if (!text) {
    const name = typeof dev === 'string' ? dev : String(dev?.name ?? backend);
    try { text = String((typeof dev?.describe === 'function' ? dev.describe() : torch.get_device?.(name)?.describe?.()) ?? ''); } catch { /* none */ }
  }
  if (adapter !== null && rt?.formatAdapter) text = rt.formatAdapter(adapter);
  const software: boolean | null = adapter !== null ? adapter.software === true : text ? SOFTWARE_RE.test(text) : null;
  const all = `${text} ${adapter ? `${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}` : ''}`;
  const short = /swiftshader/i.test(all) ? 'SwiftShader' : /llvmpipe/i.test(all) ? 'llvmpipe' : /lavapipe/i.test(all) ? 'lavapipe'
    : /\bwarp\b|basic render/i.test(all) ? 'WARP' : text.replace(/ \(software\)$/, '');
  const label = software === true ? `${backend} (${short || 'adapter'}, software)`
    : software === false ? `${backend} (${short || 'hardware adapter'})`
    : `${backend} (adapter not identified: may be software)`;
  return { label, adapter: text || 'unknown adapter', software };
}

let dev: Any = 'cpu';
let label = `gradlens-${backend}`;
let adapterText = '';
/** Tensors live on the device: the input and the one-hot move there, the gradient is read back. */
let resident = false;
if (backend !== 'cpu') {
  if (typeof nn.resolve_device !== 'function') missing('nn.resolve_device is not in this build');
  try {
    dev = await nn.resolve_device(backend);
  } catch (e) {
    skip(firstLine(e));
  }
  const devName = typeof dev === 'string' ? dev : String(dev?.name ?? backend);
  try { resident = backend === 'gpujs-webgpu' || (typeof torch.get_device === 'function' && torch.get_device(devName) != null); } catch { /* no device registry */ }
  if (backend === 'gpujs-webgpu') {
    const w = await webgpuLabel(dev);
    label = `gradlens-${w.label}`;
    adapterText = w.adapter;
    notes.push(`WebGPU adapter: ${w.adapter}${w.software ? ' — a software rasterizer: CPU speed, not GPU speed' : ''}`);
  }
}
process.stdout.write(`@@LABEL ${label}\n`);

const tSetup = performance.now();
let model: Any;
if (args.model === 'face_expression') {
  const build = models?.face_expression ?? await nnExport('face_expression', 'packages/nn/src/models/face_expression.ts');
  if (typeof build !== 'function') missing('nn.models.face_expression() not available yet');
  model = build();
} else {
  const build = models?.[args.model];
  if (typeof build !== 'function') missing(`nn.models.${args.model}() not available yet`);
  if (!weightsFile) throw new Error('gradlens_gbp: --weights is required');
  const loadSt = await nnExport('load_safetensors', 'packages/nn/src/io/safetensors.ts');
  if (typeof loadSt !== 'function') missing('nn.load_safetensors not available yet');
  model = build({ num_classes: spec.classes });
  model.load_state_dict(loadSt(weightsFile));
}

let input: Any = torch.tensor(readF32(inputFile)).reshape([1, 3, S, S]);
if (backend !== 'cpu') {
  if (typeof model.to !== 'function') missing(`backend ${backend}: no Module.to in this build`);
  try {
    model = model.to(dev) ?? model;
  } catch (e) {
    skip(`model.to(${JSON.stringify(typeof dev === 'string' ? dev : backend)}): ${firstLine(e)}`, label);
  }
  notes.push(`model.to(await nn.resolve_device('${backend}'))`);
}
if (resident) {
  if (typeof input.to !== 'function') skip(`${backend}: Tensor.to(device) is not in this build`, label);
  try {
    input = input.to(dev);
  } catch (e) {
    skip(`input.to(${backend}): ${firstLine(e)}`, label);
  }
  notes.push('input.to(dev), one-hot .to(dev); each timed run ends with await input.grad.cpu() (readback included)');
}
input.requires_grad_(true);
const GBP = new GuidedBackprop(model);
const setupMs = performance.now() - tSetup;

/** A gradient read back from the device: a CPU tensor (or a typed array) → Float32Array. */
function hostArray(g: Any): Float32Array {
  if (g instanceof Float32Array) return g;
  if (ArrayBuffer.isView(g)) return Float32Array.from(g as unknown as ArrayLike<number>);
  if (g && typeof g.tolist === 'function') {
    const t = typeof g.detach === 'function' ? g.detach() : g;
    return Float32Array.from((t.reshape([-1]).tolist() as number[]));
  }
  throw new Error(`cannot read the gradient back: ${typeof g}`);
}

/**
 * One guided-backprop run on a device: the seed's generate_gradients with the one-hot moved to
 * the device, then `await input.grad.cpu()` (the readback waits for the whole backward).
 */
async function runResident(): Promise<unknown> {
  input.grad = null;
  const model_output = model(input);
  model.zero_grad();
  const one_hot_output = torch.FloatTensor(1, model_output.size(-1)).zero_();
  torch.setitem(one_hot_output, [0, spec.target], 1);
  model_output.backward(one_hot_output.to(dev));
  const g = input.grad;
  if (g === null || g === undefined) throw new Error('input.grad is null after backward');
  if (typeof g.cpu !== 'function') throw new Error('Tensor.cpu() is not in this build');
  return await g.cpu();
}

/** One guided-backprop run, as the seed's driver does it (the input's .grad reset between runs). */
function runHost(): unknown {
  input.grad = null;
  return GBP.generate_gradients(input, spec.target);
}
const run: () => unknown = resident ? runResident : runHost;

// ---------------------------------------------------------------------------------------------
// warm-up (with the backend budget), timed runs
// ---------------------------------------------------------------------------------------------

const secs = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);
const warmupRuns = Math.max(1, args.warmup); // the first run is always a warm-up (it also gives the hook's shape)
const planned = warmupRuns + args.runs;
const budgetMs = backendBudget * 1000;
const overBudget = (why: string): never => skip(`${why}; ${warmupRuns} warm-up + ${args.runs} timed = ${planned} runs exceed the ${backendBudget} s budget (--backend-budget to raise)`, label);

const warm: number[] = [];
async function warmOne(): Promise<unknown> {
  const t = performance.now();
  const r = await run();
  const ms = performance.now() - t;
  warm.push(ms);
  process.stdout.write(`@@WARM ${ms.toFixed(1)}\n`);
  return r;
}

process.stdout.write('@@RUN_START\n');
let firstShape = '';
try {
  const g = await warmOne();
  firstShape = JSON.stringify(resident ? [...(GBP.gradients?.shape ?? [])].slice(1) : (g as Any)?.shape ?? null);
} catch (e) {
  missing(`GuidedBackprop.generate_gradients failed on ${args.model} (${backend}): ${firstLine(e)}`);
}
notes.push(`first-layer hook grad_in[0] shape ${firstShape}`);
if (budgetMs > 0 && warm[0]! * planned > budgetMs) {
  // the first run may pay one-time costs (gpu.js compiles a kernel per op and shape): look at a second one if it fits
  if (warm[0]! * 2 <= budgetMs) {
    await warmOne();
    if (warm[0]! + warm[1]! * (planned - 1) > budgetMs) overBudget(`one run takes ${secs(warm[1]!)} (the first took ${secs(warm[0]!)})`);
  } else overBudget(`the first run took ${secs(warm[0]!)}`);
}
// unbudgeted, as timeRuns does for the other peers: a first run over half of --budget skips the other warm-ups and allows 1 timed run
const slow = budgetMs === 0 && warm[0]! / 1000 > args.budget / 2;
while (!slow && warm.length < warmupRuns) await warmOne();
const warmTotalMs = warm.reduce((a, b) => a + b, 0);
process.stdout.write('@@TIMED\n');
const { times } = await timeRuns(run, {
  ...args, warmup: 0, minRuns: slow ? 1 : args.minRuns,
  // budgeted: stop early if the timed runs turn out slower than the warm-ups promised
  budget: budgetMs > 0 ? Math.max(1, backendBudget - warmTotalMs / 1000) : args.budget,
});

if (args.gradOut) {
  const r = await run();
  if (resident) writeF32(args.gradOut, hostArray(r));
  else {
    const g = input.grad;
    if (g === null || g === undefined) notes.push('input.grad is null: no gradient written');
    else writeF32(args.gradOut, Float32Array.from(g.detach().reshape([-1]).tolist() as number[]));
  }
}
try {
  let n = 0; let withGrad = 0;
  for (const p of model.parameters()) { n++; if (p.grad !== null && p.grad !== undefined) withGrad++; }
  notes.push(`after a run, ${withGrad} of ${n} parameters hold a .grad (weight gradients ${withGrad ? 'computed' : 'skipped'})`);
} catch { /* no parameters() */ }
let threads: number | string = 'unknown';
try {
  const k = await import(join(REPO, 'packages/nn/src/kernels/index.ts'));
  const parts: string[] = [];
  if (typeof k.convThreads === 'function') parts.push(`conv threads ${k.convThreads()}`);
  if (typeof k.sgemmBackend === 'function') parts.push(`sgemm ${k.sgemmBackend()}`);
  if (parts.length) threads = parts.join(', ');
} catch { /* no kernel layer */ }
if (backend === 'gpujs-webasm') {
  threads = `gpu.js webasm 1 thread (f32x4 SIMD), CPU kernels for the ops it lacks${threads === 'unknown' ? '' : ` (${threads})`}`;
  try {
    const g = await import(join(REPO, 'packages/nn/src/kernels/gpujs/host.ts'));
    if (typeof g.gpujsWebasmKernelCount === 'function') notes.push(`${g.gpujsWebasmKernelCount()} gpu.js webasm kernels compiled (one per op and shape, in the first run)`);
  } catch { /* no count */ }
} else if (resident) threads = adapterText ? `device: ${adapterText}` : 'device';
let sha = '';
try { sha = (await import('node:child_process')).execSync('git rev-parse --short HEAD', { cwd: REPO, encoding: 'utf8' }).trim(); } catch { /* no git */ }
emitResult({
  peer: `gradlens-${backend}`, label, model: args.model, times_ms: times, warmup_ms: warm, peak_rss_kb: peakRssKb(),
  threads, setup_ms: setupMs, notes,
  versions: { node: process.version, gradlens: sha },
});
process.exit(0); // a WebGPU instance (Dawn) may keep the event loop alive
