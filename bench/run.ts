/**
 * `pnpm bench`: guided backprop (forward + backward to the input with the ReLU hooks, batch 1,
 * float32) for resnet50 (7 classes) / alexnet / vgg16 at 224×224 and face-api's facial
 * expression net at 112×112, for gradlens (each backend the build offers) next to PyTorch (the
 * seed's GuidedBackprop, Debian's python3-torch) and TensorFlow.js (tfjs-backend-wasm, guided
 * ReLU via tf.customGrad), each (peer, model) in its own process, all in this one run; then
 * the one-image command end to end (`pnpm gbp IMAGE --model resnet50 --weights ...`) next to
 * the PyTorch one-image script. Writes bench/RESULTS.md.
 *
 *   pnpm bench [--models resnet50,alexnet,vgg16,face_expression] [--runs N] [--quick]
 *              [--peers torch,tfjs,gradlens] [--budget SECONDS] [--threads 2]
 *              [--backends cpu,gpujs-webasm,gpujs-webgpu] [--backend-budget SECONDS]
 *              [--no-one-image] [--one-image-runs N] [--direct] [--out FILE]
 *
 * --runs N     timed runs after warm-up (default 7); a slow peer stops early once its timed
 *              runs have used --budget seconds (default 30), never below 3 runs (1 if a single
 *              run exceeds half the budget); the n column says how many were done.
 * --backends L gradlens kernel backends to bench (default: cpu, gpujs-webasm, gpujs-webgpu and
 *              any other the build reports); one whose `nn.resolve_device` fails is a skip row
 *              with the error (gpujs-webgpu: no WebGPU adapter, or not in this build yet). For a
 *              SwiftShader run: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
 *              (labelled "software": CPU speed, not GPU speed).
 * --backend-budget S  seconds for the warm-ups + timed runs of each (gradlens backend other
 *              than cpu, model) (default 60; 0: no limit): the first warm-up run is timed, and
 *              if all the runs would take longer the cell is skipped with a line saying how long
 *              one run takes (never an extrapolated number); a run still going after S seconds
 *              is killed. gpujs-webasm is 10-200× slower than cpu.
 * --direct     also time the CLI as `node packages/cli/bin/gbp.mjs ...` (what `pnpm gbp` runs, without pnpm)
 *              and as `node --import tsx packages/cli/src/main.ts ...` (the sources through tsx, no bundle).
 * --quick      3 runs, 1 warm-up, 12 s budget (20 s backend budget), 1 one-image run (a smoke
 *              test, not a result).
 * --out FILE   where to write the results (default bench/RESULTS.md).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';

import {
  ALL_MODELS, BENCH_DIR, CACHE, MODELS, REPO, forwardFlops, gbpFlops, gradPath, inputPath, layerMacs, readF32, weightsPath,
} from './lib.ts';
import type { ModelName, PeerResult } from './lib.ts';
import { TORCH_PYTHON, ensureTorchStateDict, prepareCache, torchAvailable } from './prepare.ts';

// ---------------------------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const opt = (k: string): string | undefined => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : undefined; };
const flag = (k: string): boolean => argv.includes(`--${k}`);
if (flag('help') || flag('h')) {
  const src = readFileSync(new URL(import.meta.url), 'utf8');
  process.stdout.write(`${/\/\*\*([\s\S]*?)\*\//.exec(src)![1]!.replace(/^ \* ?/gm, '').trim()}\n`);
  process.exit(0);
}
const quick = flag('quick');
const models = (opt('models') ?? ALL_MODELS.join(',')).split(',').map((s) => s.trim().replace('-', '_')).filter(Boolean) as ModelName[];
for (const m of models) if (!(m in MODELS)) { console.error(`--models: unknown model '${m}' (known: ${ALL_MODELS.join(', ')})`); process.exit(2); }
const runs = Number(opt('runs') ?? (quick ? 3 : 7));
const warmup = quick ? 1 : 2;
const budget = Number(opt('budget') ?? (quick ? 12 : 30));
const threads = Number(opt('threads') ?? 2);
const peers = new Set((opt('peers') ?? 'torch,tfjs,gradlens').split(','));
const backendsWanted = opt('backends')?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
const backendBudget = Number(opt('backend-budget') ?? (quick ? 20 : 60));
if (!Number.isFinite(backendBudget) || backendBudget < 0) { console.error('--backend-budget: seconds (0: no limit)'); process.exit(2); }
const oneImage = !flag('no-one-image');
const oneImageRuns = Number(opt('one-image-runs') ?? (quick ? 1 : 3));
const outFile = opt('out') ?? join(BENCH_DIR, 'RESULTS.md');
const PEER_TIMEOUT_S = Number(opt('timeout') ?? 300);

const log = (s = ''): void => { process.stdout.write(`${s}\n`); };
const rel = (p: string): string => relative(REPO, p);
const tStart = performance.now();

// ---------------------------------------------------------------------------------------------
// machine and versions
// ---------------------------------------------------------------------------------------------

function sh(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { cwd: REPO, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
const cpuModel = (() => {
  try {
    const m = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch { /* not Linux */ }
  return cpus()[0]?.model ?? 'unknown';
})();
const gitSha = sh('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown';
const gitDirty = (sh('git', ['status', '--porcelain', '--', 'packages', 'examples']) ?? '').length > 0;
const torchMissing = peers.has('torch') ? torchAvailable() : 'not requested (--peers)';
const torchVersion = torchMissing ? null : sh(TORCH_PYTHON, ['-c', 'import torch, torchvision; print(torch.__version__, "/ torchvision", torchvision.__version__)']);
const tfjsVersion = (() => {
  try { return JSON.parse(readFileSync(join(REPO, 'node_modules/@tensorflow/tfjs-backend-wasm/package.json'), 'utf8')).version as string; } catch { return null; }
})();
const la = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

log(`pnpm bench — ${new Date().toISOString()}`);
log(`machine: ${cpuModel}, ${availableParallelism()} logical cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; load average ${la()}`);
log(`node ${process.version}; torch ${torchVersion ?? `— (${torchMissing})`}; tfjs-backend-wasm ${tfjsVersion ?? '— (not installed)'}; gradlens ${gitSha}${gitDirty ? ' + uncommitted changes' : ''}`);
const busy = loadavg()[0]! > availableParallelism() * 0.75
  ? `the machine was busy when the bench started (1-min load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores): times are inflated and noisy, PyTorch's multi-threaded runs the most; rerun on a quiet machine for absolute numbers.`
  : '';
if (busy) log(`WARNING: ${busy}`);
log(`models ${models.join(', ')}; runs ${runs} after ${warmup} warm-up, budget ${budget} s per (peer, model); backend budget ${backendBudget ? `${backendBudget} s` : 'none'} per (gradlens backend other than cpu, model); threads ${threads}`);
log();

// ---------------------------------------------------------------------------------------------
// cache
// ---------------------------------------------------------------------------------------------

log(`cache ${rel(CACHE)}/:`);
const cacheProblems = await prepareCache(models, log);
for (const [m, p] of cacheProblems) if (p) log(`  ${m}: ${p}`);
rmSync(join(CACHE, 'out'), { recursive: true, force: true });
mkdirSync(join(CACHE, 'out'), { recursive: true });
log();

// ---------------------------------------------------------------------------------------------
// running a peer
// ---------------------------------------------------------------------------------------------

interface Row {
  model: ModelName;
  peer: string;
  /** shown instead of `peer` (e.g. 'gradlens-gpujs-webgpu (SwiftShader, software)') */
  label?: string;
  /** what to show instead of numbers */
  skip?: string;
  r?: PeerResult;
  load?: [string, string];
  parity?: string;
  reference?: boolean;
}

interface Spawned { code: number | null; stdout: string; stderr: string; wall_ms: number; timedOut: boolean }

/** Called with the child's stdout so far on every chunk (and once more, ending in @@CLOSED, when it exits); may kill it, saying why. */
type Watch = (stdout: string, kill: (why: string) => void) => void;

function runProcess(cmd: string, args: string[], timeoutS: number, env: NodeJS.ProcessEnv = {}, watch?: Watch): Promise<Spawned & { killedFor?: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = ''; let timedOut = false; let killedFor: string | undefined;
    const kill = (why: string): void => { if (killedFor === undefined) { killedFor = why; child.kill('SIGKILL'); } };
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); watch?.(stdout, kill); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); if (stderr.length > 200_000) stderr = stderr.slice(-100_000); });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutS * 1000);
    child.on('close', (code) => { clearTimeout(timer); watch?.(stdout + '\n@@CLOSED\n', () => undefined); resolve({ code, stdout, stderr, wall_ms: performance.now() - t0, timedOut, killedFor }); });
  });
}

const lastLine = (s: string): string => s.trim().split('\n').filter((l) => l.trim() && !/^\s+at /.test(l)).slice(-1)[0]?.slice(0, 300) ?? '';

/**
 * Kills a budgeted gradlens peer whose warm-up runs (from `@@RUN_START` to `@@TIMED`) are still
 * going after `budgetS` seconds. The peer itself skips when its first run says the rest will not fit.
 */
function budgetWatch(budgetS: number): Watch {
  let timer: NodeJS.Timeout | null = null;
  let done = false;
  let latest = '';
  return (out, kill) => {
    latest = out;
    if (done) return;
    if (/^@@(TIMED|CLOSED)$/m.test(out)) { done = true; if (timer) clearTimeout(timer); return; }
    if (timer === null && /^@@RUN_START$/m.test(out)) {
      timer = setTimeout(() => {
        const warm = [...latest.matchAll(/^@@WARM (.*)$/gm)].map((m) => Number(m[1]));
        const which = warm.length ? `${warm.length > 1 ? 'warm-up runs took' : 'the first run took'} ${warm.map(fmtMs).join(', ')}, and the next` : 'the first run';
        kill(`${which} had not finished after the ${budgetS} s budget, so ${warmup} warm-up + ${runs} timed = ${warmup + runs} runs exceed it (--backend-budget to raise)`);
      }, budgetS * 1000);
    }
  };
}

async function runPeer(model: ModelName, peer: string, cmd: string, args: string[], budgetS = 0): Promise<Row> {
  const before = la();
  // a budgeted peer may use its budget on top of the setup (loading weights) that --timeout covers
  const timeoutS = PEER_TIMEOUT_S + 1.5 * budgetS;
  const s = await runProcess(cmd, args, timeoutS, { OMP_NUM_THREADS: String(threads) }, budgetS > 0 ? budgetWatch(budgetS) : undefined);
  const load: [string, string] = [before, la()];
  const label = /^@@LABEL (.*)$/m.exec(s.stdout)?.[1];
  if (s.killedFor) return { model, peer, label, skip: `skipped: ${s.killedFor}`, load };
  const sk = /^@@SKIP (.*)$/m.exec(s.stdout);
  if (sk) {
    const j = JSON.parse(sk[1]!) as { reason: string; label?: string };
    return { model, peer, label: j.label ?? label, skip: `skipped: ${j.reason}`, load };
  }
  const miss = /^@@MISSING (.*)$/m.exec(s.stdout);
  if (miss) return { model, peer, label, skip: `not available: ${miss[1]}`, load };
  const res = /^@@RESULT (.*)$/m.exec(s.stdout);
  if (!res) {
    const why = s.timedOut ? `timed out after ${timeoutS} s (--timeout)` : `exited with code ${s.code}: ${lastLine(s.stderr) || lastLine(s.stdout)}`;
    return { model, peer, label, skip: `failed (${why})`, load };
  }
  const r = JSON.parse(res[1]!) as PeerResult;
  return { model, peer, label: r.label ?? label, r, load };
}

const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); const n = s.length; return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2; };
const fmtMs = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);

/** An extra gradlens backend (not the cpu row): compared with gradlens-cpu too. */
const isExtraBackend = (peer: string): boolean => peer.startsWith('gradlens-') && peer !== 'gradlens-cpu';

function describe(row: Row): string {
  const name = (row.label ?? row.peer).padEnd(22);
  if (!row.r) return `${name} ${row.skip}`;
  const t = row.r.times_ms;
  const rss = row.r.peak_rss_kb ? `${(row.r.peak_rss_kb / 1024).toFixed(0)} MB` : '?';
  const gf = gbpFlops(row.model) / (median(t) / 1000) / 1e9;
  const torch = rows.find((r) => r.model === row.model && r.peer === 'torch')?.r;
  const cpu = rows.find((r) => r.model === row.model && r.peer === 'gradlens-cpu')?.r;
  const vs: string[] = [];
  if (torch && row.peer !== 'torch') vs.push(`${(median(t) / median(torch.times_ms)).toFixed(2)}× PyTorch`);
  if (cpu && isExtraBackend(row.peer)) vs.push(`${(median(t) / median(cpu.times_ms)).toFixed(2)}× gradlens-cpu`);
  if (row.parity) vs.push(`Δ grad vs PyTorch ${row.parity}`);
  return `${name} median ${fmtMs(median(t)).padStart(9)}  [${fmtMs(Math.min(...t))} – ${fmtMs(Math.max(...t))}] n=${t.length}  ${gf.toFixed(1)} GFLOP/s  peak RSS ${rss}${vs.length ? `  ${vs.join(', ')}` : ''}  (load ${row.load?.[0]} → ${row.load?.[1]})`;
}

/** max |g − g_ref| / max |g_ref| and cosine similarity of the two input gradients. */
function parity(peer: string, ref: string, model: ModelName): string | undefined {
  const a = gradPath(peer, model); const b = gradPath(ref, model);
  if (!existsSync(a) || !existsSync(b)) return undefined;
  const x = readF32(a); const y = readF32(b);
  if (x.length !== y.length) return `size ${x.length} vs ${y.length}`;
  let d = 0; let m = 0; let xy = 0; let xx = 0; let yy = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i]! - y[i]!)); m = Math.max(m, Math.abs(y[i]!));
    xy += x[i]! * y[i]!; xx += x[i]! * x[i]!; yy += y[i]! * y[i]!;
  }
  const cos = xy / Math.sqrt(xx * yy || 1);
  return `${(d / (m || 1)).toExponential(1)} (cos ${cos.toFixed(6)})`;
}

// ---------------------------------------------------------------------------------------------
// gradlens backends
// ---------------------------------------------------------------------------------------------

const NODE = process.execPath;
const TSX = ['--import', 'tsx'];
/** gradlens backends to bench, each with null (usable: `nn.resolve_device` worked) or why not. */
let gradlensBackends: [string, string | null][] = [];
let gradlensMissing: string | null = null;
if (peers.has('gradlens')) {
  const s = await runProcess(NODE, [...TSX, join(BENCH_DIR, 'gradlens_gbp.ts'), '--list-backends'], 120);
  const b = /^@@BACKENDS (.*)$/m.exec(s.stdout);
  const miss = /^@@MISSING (.*)$/m.exec(s.stdout);
  if (b) {
    const found = JSON.parse(b[1]!) as Record<string, string | null>;
    const names = backendsWanted ?? Object.keys(found);
    gradlensBackends = names.map((n) => [n, found[n] ?? null]); // a name discovery did not list: its peer resolves it (and says why not)
  } else gradlensMissing = miss ? miss[1]! : `backend discovery failed: ${lastLine(s.stderr)}`;
  if (gradlensBackends.length === 0) log(`gradlens backends: none (${gradlensMissing ?? '--backends is empty'})`);
  else {
    log(`gradlens backends: ${gradlensBackends.filter(([, why]) => why === null).map(([n]) => n).join(', ') || 'none usable'}`);
    for (const [n, why] of gradlensBackends) if (why !== null) log(`  ${n}: skipped: ${why}`);
  }
} else gradlensMissing = 'not requested (--peers)';

// ---------------------------------------------------------------------------------------------
// the guided-backprop table
// ---------------------------------------------------------------------------------------------

const rows: Row[] = [];
const common = (m: ModelName): string[] => ['--model', m, '--input', inputPath(m), '--runs', String(runs), '--warmup', String(warmup), '--budget', String(budget)];

for (const m of models) {
  const spec = MODELS[m];
  log(`\n== ${m} (${spec.size}×${spec.size}, ${spec.classes} classes): ${(gbpFlops(m) / 1e9).toFixed(2)} GFLOP per run (2 × ${(forwardFlops(m) / 1e9).toFixed(2)} forward conv/linear)`);
  const weights = weightsPath(m);
  const haveWeights = existsSync(weights);
  const add = (row: Row): void => { rows.push(row); log(`  ${describe(row)}`); };

  // PyTorch
  if (!peers.has('torch')) { /* not requested */ }
  else if (torchMissing) add({ model: m, peer: 'torch', skip: `skipped: ${torchMissing}` });
  else if (!haveWeights) add({ model: m, peer: 'torch', skip: `skipped: no weights (${cacheProblems.get(m)})` });
  else {
    const base = [join(BENCH_DIR, 'peers/torch_gbp.py'), ...common(m), '--weights', weights, '--size', String(spec.size),
      '--classes', String(spec.classes), '--target', String(spec.target), '--threads', String(threads)];
    add(await runPeer(m, 'torch', TORCH_PYTHON, [...base, '--grad-out', gradPath('torch', m)]));
    const ng = await runPeer(m, 'torch (no weight grads)', TORCH_PYTHON, [...base, '--no-param-grads', '--peer', 'torch-nograd']);
    ng.reference = true;
    add(ng);
  }

  // TensorFlow.js (wasm)
  if (!peers.has('tfjs')) { /* not requested */ }
  else if (!tfjsVersion) add({ model: m, peer: 'tfjs-wasm', skip: 'skipped: @tensorflow/tfjs-backend-wasm is not installed' });
  else if (!haveWeights) add({ model: m, peer: 'tfjs-wasm', skip: `skipped: no weights (${cacheProblems.get(m)})` });
  else {
    const row = await runPeer(m, 'tfjs-wasm', NODE, [...TSX, join(BENCH_DIR, 'peers/tfjs_gbp.ts'), ...common(m), '--weights', weights,
      '--backend', 'wasm', '--grad-out', gradPath('tfjs-wasm', m)]);
    row.parity = parity('tfjs-wasm', 'torch', m);
    add(row);
  }

  // gradlens
  if (!peers.has('gradlens')) { /* not requested */ }
  else if (gradlensBackends.length === 0) add({ model: m, peer: 'gradlens', skip: `not available: ${gradlensMissing}` });
  else {
    for (const [b, why] of gradlensBackends) {
      const peer = `gradlens-${b}`;
      if (why !== null) { add({ model: m, peer, skip: `skipped: ${why}` }); continue; }
      // backends other than cpu get the backend budget: skipped (with how long one run takes) when the runs would not fit
      const budgeted = b !== 'cpu' && backendBudget > 0;
      const row = await runPeer(m, peer, NODE, [...TSX, join(BENCH_DIR, 'gradlens_gbp.ts'), ...common(m), '--weights', weights,
        '--backend', b, '--grad-out', gradPath(peer, m), ...(budgeted ? ['--backend-budget', String(backendBudget)] : [])],
      budgeted ? backendBudget : 0);
      if (row.r) row.parity = parity(peer, 'torch', m);
      add(row);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// one image, end to end
// ---------------------------------------------------------------------------------------------

interface E2E { name: string; command: string; times?: number[]; skip?: string; phases?: string; note?: string }
const e2e: E2E[] = [];
const IMAGE = join(REPO, 'examples/AF01HAHR.png');

async function timeCommand(name: string, cmd: string, args: string[], outDir: string, expect: string[], note?: string): Promise<E2E> {
  const command = [cmd === NODE ? 'node' : cmd === TORCH_PYTHON ? TORCH_PYTHON : cmd, ...args].map((a) => (a.startsWith(REPO) ? rel(a) : a)).join(' ');
  const times: number[] = [];
  let phases: string | undefined;
  for (let i = 0; i <= oneImageRuns; i++) { // run 0: untimed (page cache, the CLI's bundle)
    rmSync(outDir, { recursive: true, force: true });
    const s = await runProcess(cmd, args, PEER_TIMEOUT_S);
    if (s.code !== 0 || s.timedOut) {
      return { name, command, skip: s.timedOut ? `timed out after ${PEER_TIMEOUT_S} s` : `failed (exit ${s.code}): ${lastLine(s.stderr) || lastLine(s.stdout)}` };
    }
    const have = existsSync(outDir) ? readdirSync(outDir) : [];
    const lacking = expect.filter((f) => !have.includes(f));
    if (lacking.length) return { name, command, skip: `ran, but did not write ${lacking.join(', ')} (wrote: ${have.join(', ') || 'nothing'})` };
    if (i > 0) times.push(s.wall_ms);
    const ph = /^@@PHASES (.*)$/m.exec(s.stderr);
    if (ph) phases = Object.entries(JSON.parse(ph[1]!) as Record<string, number>).map(([k, v]) => `${k} ${fmtMs(v)}`).join(', ');
    const cliTime = /^\s*time: (.*)$/m.exec(s.stdout); // pnpm gbp's own report
    if (cliTime) phases = `as printed by the CLI: ${cliTime[1]!.trim()}`;
  }
  return { name, command, times, phases, note };
}

if (oneImage && models.includes('resnet50')) {
  log(`\n== one image end to end: ResNet-50 (7 classes), ${rel(IMAGE)}, process start to four PNGs written (${oneImageRuns} timed run${oneImageRuns > 1 ? 's' : ''} after 1 untimed)`);
  const four = ['AF01HAHR_Guided_BP_color.png', 'AF01HAHR_Guided_BP_gray.png', 'AF01HAHR_pos_sal.png', 'AF01HAHR_neg_sal.png'];
  if (!existsSync(weightsPath('resnet50'))) await prepareCache(['resnet50'], log);
  const show = (e: E2E): void => {
    e2e.push(e);
    log(`  ${e.name.padEnd(26)} ${e.times ? `median ${fmtMs(median(e.times))} [${e.times.map(fmtMs).join(', ')}]${e.phases ? `  (${e.phases})` : ''}` : e.skip}`);
  };
  if (torchMissing) show({ name: 'PyTorch script', command: 'bench/peers/torch_one_image.py', skip: `skipped: ${torchMissing}` });
  else {
    const pt = ensureTorchStateDict(log);
    if (!pt) show({ name: 'PyTorch script', command: 'bench/peers/torch_one_image.py', skip: 'skipped: could not write the .pt state dict' });
    else {
      const out = join(CACHE, 'one_image_torch');
      show(await timeCommand('PyTorch script', TORCH_PYTHON, [join(BENCH_DIR, 'peers/torch_one_image.py'), IMAGE, pt, out, '7'], out, four));
    }
  }
  const cliMain = join(REPO, 'packages/cli/src/main.ts');
  if (!peers.has('gradlens')) { /* not requested */ }
  else if (!existsSync(cliMain)) show({ name: 'pnpm gbp', command: 'pnpm gbp', skip: 'not available: packages/cli/src/main.ts does not exist yet' });
  else {
    const out = join(CACHE, 'one_image_gbp');
    const cliArgs = [IMAGE, '--model', 'resnet50', '--weights', weightsPath('resnet50'), '--num-classes', '7', '--out', out];
    show(await timeCommand('pnpm gbp', 'pnpm', ['--silent', 'gbp', ...cliArgs], out, four));
    if (flag('direct')) {
      show(await timeCommand('node bin/gbp.mjs (no pnpm)', NODE, [join(REPO, 'packages/cli/bin/gbp.mjs'), ...cliArgs], out, four));
      show(await timeCommand('node --import tsx (no bundle)', NODE, [...TSX, cliMain, ...cliArgs], out, four));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// RESULTS.md
// ---------------------------------------------------------------------------------------------

const totalS = (performance.now() - tStart) / 1000;
log(`\nbench finished in ${totalS.toFixed(0)} s; load average now ${la()}`);

const mdRows: string[] = [];
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
for (const m of models) {
  const mr = rows.filter((r) => r.model === m);
  const torch = mr.find((r) => r.peer === 'torch')?.r;
  const tfjs = mr.find((r) => r.peer === 'tfjs-wasm')?.r;
  const cpu = mr.find((r) => r.peer === 'gradlens-cpu')?.r;
  for (const row of mr) {
    const name = row.reference ? `${row.peer} ¹` : (row.label ?? row.peer);
    if (!row.r) { mdRows.push(`| ${m} | ${name} | — | ${row.skip?.replace(/\|/g, '\\|')} | | | | | | | | |`); continue; }
    const t = row.r.times_ms; const med = median(t); const min = Math.min(...t);
    const rss = row.r.peak_rss_kb ?? NaN;
    const notTorch = row.peer !== 'torch';
    const vsTorch = torch && notTorch ? `${ratio(med, median(torch.times_ms))} (min ${ratio(min, Math.min(...torch.times_ms))})` : '';
    const vsCpu = cpu && isExtraBackend(row.peer) ? `${ratio(med, median(cpu.times_ms))} (min ${ratio(min, Math.min(...cpu.times_ms))})` : '';
    const vsTfjs = tfjs && row.peer !== 'tfjs-wasm' ? ratio(median(tfjs.times_ms), med) : '';
    const rssVsTorch = torch?.peak_rss_kb && notTorch ? ratio(rss, torch.peak_rss_kb) : '';
    mdRows.push(`| ${m} | ${name} | ${t.length} | ${fmtMs(med)} | ${fmtMs(min)} – ${fmtMs(Math.max(...t))} | ${(gbpFlops(m) / (med / 1000) / 1e9).toFixed(1)} | ${(rss / 1024).toFixed(0)} MB | ${vsTorch} | ${vsCpu} | ${vsTfjs} | ${rssVsTorch} | ${row.parity ?? ''} |`);
  }
}

const noteMap = new Map<string, Set<string>>();
for (const r of rows) {
  for (const n of r.r?.notes ?? []) {
    if (/tensors alive/.test(n)) continue;
    const k = `${r.peer.replace(' (no weight grads)', '')}: ${n}`;
    if (!noteMap.has(k)) noteMap.set(k, new Set());
    noteMap.get(k)!.add(r.model);
  }
}
const notes = [...noteMap].map(([k, ms]) => `${k} (${[...ms].join(', ')})`);

const flopLines = models.map((m) => {
  const L = layerMacs(m);
  const convs = L.filter((l) => !/fc|classifier/.test(l.name)).length;
  return `| ${m} | ${MODELS[m].size}×${MODELS[m].size} | ${MODELS[m].classes} | ${convs} conv + ${L.length - convs} linear | ${(forwardFlops(m) / 1e9).toFixed(3)} | ${(gbpFlops(m) / 1e9).toFixed(3)} |`;
});

const e2eLines = e2e.map((e) => (e.times
  ? `| ${e.name} | \`${e.command}\` | ${e.times.length} | ${fmtMs(median(e.times))} | ${fmtMs(Math.min(...e.times))} – ${fmtMs(Math.max(...e.times))} | ${(() => { const pt = e2e.find((x) => x.name === 'PyTorch script')?.times; return pt && e.name !== 'PyTorch script' ? ratio(median(e.times), median(pt)) : ''; })()} |`
  : `| ${e.name} | \`${e.command}\` | ${e.skip} | | | |`));

const md = `# \`pnpm bench\` results

Generated by \`pnpm bench${argv.length ? ` ${argv.join(' ')}` : ''}\` (bench/run.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${totalS.toFixed(0)} s.
${quick ? '\n**--quick run: a smoke test (3 runs, short budget), not a result.**\n' : ''}
- Machine: ${cpuModel}, ${availableParallelism()} logical cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; load average at start ${rows[0]?.load?.[0] ?? la()}, at end ${la()} (shared machine: other processes ran during the bench; compare ratios within this run only).
- Versions: node ${process.version}; torch ${torchVersion ?? `— (${torchMissing})`} (${TORCH_PYTHON}); @tensorflow/tfjs-backend-wasm ${tfjsVersion ?? '—'}; gradlens ${gitSha}${gitDirty ? ' (+ uncommitted changes in packages/ or examples/)' : ''}.
- Threads: PyTorch \`torch.set_num_threads(${threads})\`; tfjs-wasm 1 (tfjs turns the threaded wasm build off under Node, tfjs#3830; forcing it fails with ERR_WORKER_PATH); gradlens: ${[...new Set(rows.filter((r) => r.peer.startsWith('gradlens') && r.r).map((r) => `${r.peer} ${r.r!.threads}`))].join('; ') || '—'}.

## Guided backprop, batch 1, float32

One guided-backprop run = the seed's \`generate_gradients\`: forward, one-hot backward of class ${MODELS.resnet50.target} through ReLUs whose backward is clamped at 0, to the input. Same weights (bench/.cache/<model>.safetensors), same input (bench/.cache/input_<model>.f32) for every peer. Each (peer, model) runs in its own process: ${warmup} warm-up run${warmup > 1 ? 's' : ''}, then up to ${runs} timed runs (a peer stops early once its timed runs used ${budget} s, never below 3; **n** says how many). Peak RSS is the process's VmHWM (whole process: runtime, weights, graph).

Rows: **torch** is the seed's GuidedBackprop on PyTorch, the reference for the ratios and the Δ column; **tfjs-wasm** the same computation in TensorFlow.js; **gradlens-&lt;backend&gt;** one row per gradlens kernel backend (\`--backends\`, default: all the build has), each the seed's GuidedBackprop as ported (examples/guided_backprop.ts):
- **gradlens-cpu**: the default CPU kernels.
- **gradlens-gpujs-webasm**: \`model.to(await nn.resolve_device('gpujs-webasm'))\`: gpu.js's WebAssembly kernels (one thread) for the layers, tensors in host memory. 10–200× slower than the cpu kernels, so it runs under the **backend budget** (${backendBudget ? `${backendBudget} s` : 'none in this run'} per model for its ${warmup} warm-up + ${runs} timed runs, \`--backend-budget\`): when the first warm-up run (or the second, if the first paid one-time kernel compilation) says the runs will not fit, the cell is skipped with how long one run takes: never an extrapolated number.
- **gradlens-gpujs-webgpu (&lt;adapter&gt;)**: device-resident WebGPU: \`model.to(dev)\` and \`input.to(dev)\` with \`dev = await nn.resolve_device('gpujs-webgpu')\`, forward and one-hot backward as on the cpu (the one-hot moved to the device too), and every timed run ends with \`await input.grad.cpu()\` (the readback is timed). Labelled with the adapter; **software** (SwiftShader, llvmpipe, ...) means a CPU rasterizer: CPU speed, not GPU speed. Skipped with \`nn.resolve_device\`'s error where there is no WebGPU adapter (or no such backend in the build yet). Same budget.

A row that says "skipped" or "not available" was not measured, and why.

| model | peer | n | median | min – max | GFLOP/s | peak RSS | time × PyTorch (median; min) | time × gradlens-cpu (median; min) | tfjs-wasm time ÷ this | RSS × PyTorch | Δ vs PyTorch grad ² |
|---|---|---|---|---|---|---|---|---|---|---|---|
${mdRows.join('\n')}

- **time × PyTorch**: this peer's median ÷ PyTorch's median (below 1 = faster than PyTorch); in brackets the same for the fastest runs, which is less sensitive to other load on the machine. **time × gradlens-cpu**: for the other gradlens backends, this row's median ÷ gradlens-cpu's (above 1 = slower than the cpu kernels; min in brackets). **tfjs-wasm time ÷ this**: how many times faster than tfjs-wasm (medians).${busy ? `\n- **Warning**: ${busy}` : ''}
- ¹ PyTorch with \`requires_grad_(False)\` on every parameter (no weight gradients): a reference point, not the seed's code. The seed's parameters require grad, so PyTorch's main row also computes weight gradients.
- ² max |g − g_torch| / max |g_torch| over the input gradient (and cosine similarity). For every peer the gradient is the input leaf's (tfjs: \`tf.grad\`); PyTorch's guided ReLU masks can flip on activations within float32 rounding of 0, which shows as ~1e-2 on the 1000-class nets.
- **GFLOP/s** = ${'2 × forward conv+linear FLOPs'} ÷ median time: each conv/linear layer's multiply-adds (2 FLOPs each, batch 1) counted once for the forward and once for the gradient w.r.t. its input; weight gradients (computed by PyTorch's main row and possibly by gradlens), ReLU, pooling, batch norm, adds and the guided-ReLU masks are **not** counted. Counted from the architectures in bench/lib.ts (\`layerMacs\`):

| model | input | classes | layers counted | forward GFLOP | credited per run (GFLOP) |
|---|---|---|---|---|---|
${flopLines.join('\n')}

## One image, end to end (ResNet-50, 7 classes)

Process start to the four PNGs written (\`*_Guided_BP_color\`, \`*_Guided_BP_gray\`, \`*_pos_sal\`, \`*_neg_sal\`), examples/AF01HAHR.png, weights bench/.cache/resnet50.safetensors (PyTorch: the same state dict saved with \`torch.save\`, bench/.cache/resnet50.pt). One untimed run first (page cache; \`pnpm gbp\` builds its bundle if a source changed), then ${oneImageRuns} timed. The PyTorch script (bench/peers/torch_one_image.py) imports numpy, PIL, torch and torchvision.models, loads the state dict, runs the seed's preprocess_image and GuidedBackprop (target: top prediction, as \`pnpm gbp\`) and writes the four PNGs with the seed's helpers.
${e2e.length ? `
| what | command | n | median | min – max | × PyTorch script |
|---|---|---|---|---|---|
${e2eLines.join('\n')}
${e2e.filter((e) => e.phases).map((e) => `\n${e.name} phases (last run): ${e.phases}.`).join('')}
` : '\n(not run: --no-one-image, or resnet50 not among --models)\n'}
## Notes from the peers

${notes.map((n) => `- ${n}`).join('\n') || '- none'}
- tfjs-wasm: models written with tf ops (NHWC) from the same state dicts; guided ReLU is \`tf.customGrad\` (value relu(x), gradient relu(dy)·step(y)); tfjs-wasm has no DepthwiseConv2dNativeBackpropInput kernel, so the face-expression net's depthwise convs get a customGrad computing it with wasm depthwise convs (flipped filter, zero-upsampled gradient for stride 2). Gradients come from \`@tensorflow/tfjs\` (the union package registers them; tfjs-core's Node build does not). Its RSS includes that package's other modules.
- PyTorch runs the seed's GuidedBackprop unchanged (legacy \`register_backward_hook\`). On alexnet/vgg16, \`list(model.children())[0]\` is the \`features\` Sequential, so the seed's first-layer hook sees an inner node's gradient, not the image's (the backward still runs to the input, which requires grad; the Δ column uses the input's .grad). On the face net the first conv pads inside its module, so the hook sees the padded input's gradient (113×113).
`;
writeFileSync(outFile, md);
log(`wrote ${rel(outFile)}`);
