/**
 * gradlens peer of `pnpm bench`: the seed's GuidedBackprop (examples/guided_backprop.ts, the
 * class the CLI uses) on one model, timed, in its own process.
 *
 *   node --import tsx bench/gradlens_gbp.ts --model resnet50 --weights W.safetensors \
 *       --input X.f32 --runs 7 --warmup 2 --budget 60 [--backend NAME] [--grad-out G.f32]
 *   node --import tsx bench/gradlens_gbp.ts --list-backends     # JSON list, one line
 *
 * torchvision models: `nn.models[name]({num_classes})` + `load_state_dict(nn.load_safetensors(W))`,
 * the same file the PyTorch and tfjs peers load. face_expression: `nn.models.face_expression()`
 * (face-api's own weights, which bench/.cache/face_expression.safetensors was converted from).
 * The input is a leaf with requires_grad (as the seed's preprocess_image makes it); the model's
 * parameters require grad, as in PyTorch.
 *
 * Backends: whatever the build offers (see `listBackends`); a piece that is not there yet
 * is reported as `@@MISSING <reason>` (the orchestrator prints it; no number is invented).
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

/**
 * Backends to measure: 'cpu' always; then any device the build reports as usable through a
 * documented device API (`nn.available_devices()` / `torch.available_devices()` /
 * `torch.backends.available()`), else any extra kernel-registry backend.
 */
async function listBackends(): Promise<string[]> {
  const out = new Set<string>(['cpu']);
  for (const f of [nn.available_devices, torch.available_devices, torch.backends?.available, nn.backends?.available]) {
    if (typeof f === 'function') {
      try {
        const r = await f();
        for (const d of (Array.isArray(r) ? r : [])) out.add(typeof d === 'string' ? d : String(d?.name ?? d?.type ?? d));
      } catch { /* not usable */ }
    }
  }
  if (out.size === 1) {
    try {
      const k = await import(join(REPO, 'packages/nn/src/kernels/index.ts'));
      for (const b of k.registeredBackends?.() ?? []) out.add(b);
    } catch { /* no registry */ }
  }
  return [...out].filter((b) => b !== 'auto');
}

if (argv.includes('--list-backends')) {
  process.stdout.write(`@@BACKENDS ${JSON.stringify(await listBackends())}\n`);
  process.exit(0);
}

const args = parsePeerArgs(argv);
const backend = args.extra.get('backend') ?? 'cpu';
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

const S = spec.size;
let input: Any = torch.tensor(readF32(inputFile)).reshape([1, 3, S, S]);
if (backend !== 'cpu') {
  // The documented way to move a model and a tensor to a device, if the build has one.
  if (typeof model.to !== 'function' || typeof input.to !== 'function') missing(`backend ${backend}: no Module.to / Tensor.to in this build`);
  model = model.to(backend) ?? model;
  input = input.to(backend);
  notes.push(`model.to('${backend}'), input.to('${backend}')`);
}
input.requires_grad_(true);
const GBP = new GuidedBackprop(model);
const setupMs = performance.now() - tSetup;

/** One guided-backprop run, as the seed's driver does it (the input's .grad reset between runs). */
function run(): unknown {
  input.grad = null;
  return GBP.generate_gradients(input, spec.target);
}

let firstShape = '';
const tFirst = performance.now();
try {
  const g = run();
  firstShape = JSON.stringify((g as Any)?.shape ?? null);
} catch (e) {
  missing(`GuidedBackprop.generate_gradients failed on ${args.model} (${backend}): ${(e as Error).message}`);
}
notes.push(`first-layer hook grad_in[0] shape ${firstShape}`);
const firstMs = performance.now() - tFirst;
const timed = await timeRuns(run, { ...args, warmup: Math.max(0, args.warmup - 1) });
const { times } = timed;
const warm = [firstMs, ...timed.warm];
if (args.gradOut) {
  run();
  const g = input.grad;
  if (g === null || g === undefined) notes.push('input.grad is null: no gradient written');
  else writeF32(args.gradOut, Float32Array.from(g.detach().reshape([-1]).tolist() as number[]));
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
let sha = '';
try { sha = (await import('node:child_process')).execSync('git rev-parse --short HEAD', { cwd: REPO, encoding: 'utf8' }).trim(); } catch { /* no git */ }
emitResult({
  peer: `gradlens-${backend}`, model: args.model, times_ms: times, warmup_ms: warm, peak_rss_kb: peakRssKb(),
  threads, setup_ms: setupMs, notes,
  versions: { node: process.version, gradlens: sha },
});
