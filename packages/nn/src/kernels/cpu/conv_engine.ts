/**
 * Conv engine: all three conv2d passes as one GEMM over shared wasm memory,
 * with the im2col folded into the packing of B (the column matrix is never
 * built), the K-slices accumulated inside the wasm micro-kernel (no per-slice
 * merge passes in JS), and the work split across a helper worker thread.
 *
 * - forward: out[oc, p] = Σ_k W[oc, k]·im2col(x)[k, p]            (B = implicit im2col)
 * - backward-weight: gW[oc, k] = Σ_p gy[oc, p]·im2col(x)[k, p]     (B = implicit im2colᵀ)
 * - backward-input, stride 1: a forward conv of gy with the flipped,
 *   transposed kernel (A = flipped W, B = implicit im2col of gy) — no col2im;
 *   stride > 1: col = Wᵀ·gy, then col2im (split by input channel).
 *
 * Threading: one helper worker (unref'd, so it never keeps a process alive)
 * runs the same task code (conv_engine_src.ts) on the other half of the output
 * (rows or columns, whichever duplicates less packing). Calls from the
 * calling thread are synchronous: it runs its half, then waits on an Atomics
 * counter. Results do not depend on which thread computed a region.
 *
 * Tensors are copied into the shared memory (x, w, gy: memcpy) and results
 * copied out (one pass over the output), because the caller's Float32Arrays
 * are not shared.
 */
import type { Conv2dParams } from '../types.ts';
import { emitter, f32x4add, f32x4mul, load32splat, macroModule, op, uleb, v128load, v128store, v128zero } from './wasm_asm.ts';
import { D, ENGINE_SOURCE, KIND_COL2IM, KIND_GEMM } from './conv_engine_src.ts';

const MR = 4, NR = 8, KC = 256, MC = 128, NC = 1024;
const MAX_PAGES = 16384; // 1 GiB address space (reserved, committed on growth)

/**
 * `macro(kc, mPanels, nPanels, ap, bp, c, ldcBytes, accumulate)`: for every
 * MR-row panel of packed A and 8-column panel of packed B, C tile (+)= A·B,
 * with the tile stored (accumulate = 0) or added (1) straight into C.
 */
export function buildEngineModule(unrollK: 1 | 2 = 2): Uint8Array<ArrayBuffer> {
  const KCp = 0, MP = 1, NP = 2, AP = 3, BP = 4, CB = 5, LDC = 6, ACCF = 7;
  const JR = 8, IR = 9, K = 10, PA = 11, PB = 12, CP = 13, BPP = 14, T = 15;
  const ACC = 16, B0 = ACC + 2 * MR, B1 = B0 + 1, A = B1 + 1;
  const nV128 = 2 * MR + 3;
  const { code, e } = emitter();
  const step = (ao: number, bo: number): void => {
    e(op.get(PB), v128load(bo), op.set(B0));
    e(op.get(PB), v128load(bo + 16), op.set(B1));
    for (let i = 0; i < MR; i++) {
      e(op.get(PA), load32splat(ao + 4 * i), op.set(A));
      e(op.get(ACC + 2 * i), op.get(A), op.get(B0), f32x4mul, f32x4add, op.set(ACC + 2 * i));
      e(op.get(ACC + 2 * i + 1), op.get(A), op.get(B1), f32x4mul, f32x4add, op.set(ACC + 2 * i + 1));
    }
  };
  e(op.i32(0), op.set(JR));
  e(op.block, op.loop);
  e(op.get(JR), op.get(NP), op.geU, op.brIf(1));
  e(op.get(BP), op.get(JR), op.get(KCp), op.mul, op.i32(NR * 4), op.mul, op.add, op.set(BPP));
  e(op.i32(0), op.set(IR));
  e(op.block, op.loop);
  e(op.get(IR), op.get(MP), op.geU, op.brIf(1));
  e(op.get(AP), op.get(IR), op.get(KCp), op.mul, op.i32(MR * 4), op.mul, op.add, op.set(PA));
  e(op.get(BPP), op.set(PB));
  e(op.get(CB), op.get(IR), op.i32(MR), op.mul, op.get(LDC), op.mul, op.add,
    op.get(JR), op.i32(NR * 4), op.mul, op.add, op.set(CP));
  e(op.get(ACCF), op.if);
  e(op.get(CP), op.set(T));
  for (let i = 0; i < MR; i++) {
    e(op.get(T), v128load(0), op.set(ACC + 2 * i));
    e(op.get(T), v128load(16), op.set(ACC + 2 * i + 1));
    if (i < MR - 1) e(op.get(T), op.get(LDC), op.add, op.set(T));
  }
  e(op.else);
  for (let i = 0; i < 2 * MR; i++) e(v128zero, op.set(ACC + i));
  e(op.end);
  e(op.get(KCp), op.set(K));
  if (unrollK === 2) {
    e(op.block, op.loop);
    e(op.get(K), op.i32(2), op.ltU, op.brIf(1));
    step(0, 0);
    step(MR * 4, NR * 4);
    e(op.get(PA), op.i32(MR * 8), op.add, op.set(PA));
    e(op.get(PB), op.i32(NR * 8), op.add, op.set(PB));
    e(op.get(K), op.i32(2), op.sub, op.set(K));
    e(op.br(0), op.end, op.end);
    e(op.get(K), op.if);
    step(0, 0);
    e(op.end);
  } else {
    e(op.block, op.loop);
    e(op.get(K), op.eqz, op.brIf(1));
    step(0, 0);
    e(op.get(PA), op.i32(MR * 4), op.add, op.set(PA));
    e(op.get(PB), op.i32(NR * 4), op.add, op.set(PB));
    e(op.get(K), op.i32(1), op.sub, op.set(K));
    e(op.br(0), op.end, op.end);
  }
  for (let i = 0; i < MR; i++) {
    e(op.get(CP), op.get(ACC + 2 * i), v128store(0));
    e(op.get(CP), op.get(ACC + 2 * i + 1), v128store(16));
    if (i < MR - 1) e(op.get(CP), op.get(LDC), op.add, op.set(CP));
  }
  e(op.get(IR), op.i32(1), op.add, op.set(IR), op.br(0), op.end, op.end);
  e(op.get(JR), op.i32(1), op.add, op.set(JR), op.br(0), op.end, op.end);
  e(op.end);
  return macroModule(8, 8, nV128, code, [0x03, ...uleb(1), ...uleb(MAX_PAGES)]);
}

type MacroFn = (kc: number, mP: number, nP: number, ap: number, bp: number, c: number, ldcB: number, acc: number) => void;
type RunFn = (d: Int32Array) => void;
type EngineFactory = (mem: WebAssembly.Memory, macro: MacroFn, mr: number, nr: number, kc: number, mc: number, nc: number) => RunFn;

// ---------------------------------------------------------------- helper thread
/** ctl layout (Int32 indices): 0 request seq (<0 stops), 1 done seq, 2 ready, 3 error, 16.. descriptor. */
const CTL_DESC = 16;
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { mem, module, ctl, src, warm, geo } = workerData;
const inst = new WebAssembly.Instance(module, { env: { mem } });
const run = (0, eval)(src)(mem, inst.exports.macro, geo[0], geo[1], geo[2], geo[3], geo[4]);
const c = new Int32Array(ctl);
const d = c.subarray(${CTL_DESC}, ${CTL_DESC + D.SIZE});
// Warm up (JIT + wasm tier-up) on a private scratch task before reporting ready.
const wd = new Int32Array(warm);
const t0 = Date.now();
while (Date.now() - t0 < 150) for (let i = 0; i < wd.length; i += ${D.SIZE}) run(wd.subarray(i, i + ${D.SIZE}));
Atomics.store(c, 2, 1);
Atomics.notify(c, 2);
let seen = 0;
for (;;) {
  for (let spin = 0; spin < 20000 && Atomics.load(c, 0) === seen; spin++);
  Atomics.wait(c, 0, seen);
  const s = Atomics.load(c, 0);
  if (s < 0) break;
  if (s === seen) continue;
  seen = s;
  try { run(d); } catch (e) { Atomics.store(c, 3, 1); }
  Atomics.store(c, 1, seen);
  Atomics.notify(c, 1);
}
`;

interface Helper {
  ctl: Int32Array;
  desc: Int32Array;
  seq: number;
  start(): void;
  wait(): void;
  ready(): boolean;
}

// ---------------------------------------------------------------- engine
interface Engine {
  mem: WebAssembly.Memory;
  run: RunFn;
  helper: Helper | null;
  /** Private pack areas (float index) per thread: [ap, bp]. */
  packs: [number, number][];
  /** First free float index after the fixed areas. */
  dynBase: number;
}

let engine: Engine | null | undefined;
let threadsWanted = defaultThreads();

function defaultThreads(): number {
  if (typeof process === 'undefined') return 1;
  const env = process.env['GRADLENS_THREADS'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return Math.min(n, 2);
  }
  return 2;
}

/**
 * Warm-up tasks for the helper (every A/B pack type, both strides, col2im),
 * so V8 has optimized all paths before real work arrives. They read and write
 * only the private scratch area at `s` (WARM_FLOATS floats).
 */
function makeWarmTasks(packs: [number, number][], s: number): Int32Array {
  const X = s, Wt = s + 256, GY = s + 1408, Cb = s + 3456, GX = s + 6016;
  const [ap, bp] = packs[1]!;
  const out = new Int32Array(8 * D.SIZE);
  const mk = (i: number, f: (d: Int32Array) => void): void => {
    const d = out.subarray(i * D.SIZE, (i + 1) * D.SIZE);
    d[D.KIND] = KIND_GEMM; d[D.APW] = ap; d[D.BPW] = bp; d[D.COFF] = Cb; d[D.LDC] = 64;
    d[D.H] = 8; d[D.W] = 8; d[D.KH] = 3; d[D.KW] = 3; d[D.OH] = 8; d[D.OW] = 8;
    d[D.SH] = 1; d[D.SW] = 1; d[D.PT] = 1; d[D.PL] = 1; d[D.DH] = 1; d[D.DW] = 1;
    f(d);
  };
  const gemm = (d: Int32Array, M: number, N: number, K: number, at: number, ao: number, lda: number, bt: number, bo: number, ldb: number): void => {
    d[D.M1] = M; d[D.N1] = N; d[D.K] = K; d[D.ATYPE] = at; d[D.AOFF] = ao; d[D.LDA] = lda;
    d[D.BTYPE] = bt; d[D.BOFF] = bo; d[D.LDB] = ldb;
  };
  mk(0, (d) => gemm(d, 32, 64, 36, 0, Wt, 36, 2, X, 64));
  mk(1, (d) => { gemm(d, 32, 36, 64, 0, GY, 64, 3, X, 64); d[D.ACCF] = 1; });
  mk(2, (d) => gemm(d, 32, 64, 4, 0, Wt, 36, 0, X, 64));
  mk(3, (d) => gemm(d, 32, 4, 64, 0, GY, 64, 1, X, 64));
  mk(4, (d) => gemm(d, 36, 64, 32, 1, Wt, 36, 0, GY, 64));
  mk(5, (d) => {
    gemm(d, 4, 64, 32 * 9, 2, Wt, 0, 2, GY, 64);
    d[D.AKK] = 9; d[D.ACKK] = 36;
  });
  mk(6, (d) => { d[D.KIND] = KIND_COL2IM; d[D.C0] = 0; d[D.C1] = 4; d[D.GXOFF] = GX; });
  mk(7, (d) => { gemm(d, 32, 16, 36, 0, Wt, 36, 2, X, 64); d[D.SH] = 2; d[D.SW] = 2; d[D.OH] = 4; d[D.OW] = 4; });
  return out;
}
const WARM_FLOATS = 8192;

function startHelper(mem: WebAssembly.Memory, module: WebAssembly.Module, packs: [number, number][], warmScratch: number): Helper | null {
  if (typeof process === 'undefined' || typeof process.getBuiltinModule !== 'function') return null;
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return null;
  const wt = process.getBuiltinModule('node:worker_threads');
  if (wt === undefined) return null;
  const ctlBuf = new SharedArrayBuffer((CTL_DESC + D.SIZE) * 4);
  const ctl = new Int32Array(ctlBuf);
  const warm = makeWarmTasks(packs, warmScratch);
  let failed = false;
  let worker: import('node:worker_threads').Worker;
  try {
    worker = new wt.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { mem, module, ctl: ctlBuf, src: ENGINE_SOURCE, warm: warm.buffer, geo: [MR, NR, KC, MC, NC] },
    });
  } catch {
    return null;
  }
  worker.unref(); // never keeps the process alive
  worker.on('error', () => { failed = true; });
  worker.on('exit', () => { failed = true; });
  const h: Helper = {
    ctl,
    desc: ctl.subarray(CTL_DESC, CTL_DESC + D.SIZE),
    seq: 0,
    start() {
      h.seq++;
      Atomics.store(ctl, 0, h.seq);
      Atomics.notify(ctl, 0);
    },
    wait() {
      const s = h.seq;
      for (let spin = 0; spin < 100000; spin++) if (Atomics.load(ctl, 1) === s) return;
      for (;;) {
        const cur = Atomics.load(ctl, 1);
        if (cur === s) break;
        if (Atomics.wait(ctl, 1, cur, 10000) === 'timed-out' && Atomics.load(ctl, 1) !== s) {
          failed = true;
          throw new Error('conv2d: helper thread did not answer within 10 s');
        }
      }
      if (Atomics.load(ctl, 3) !== 0) {
        failed = true;
        throw new Error('conv2d: helper thread failed');
      }
    },
    ready: () => !failed && Atomics.load(ctl, 2) === 1,
  };
  return h;
}

function createEngine(): Engine | null {
  if (typeof WebAssembly === 'undefined' || typeof SharedArrayBuffer === 'undefined') return null;
  if (typeof process !== 'undefined' && process.env['GRADLENS_NO_WASM'] === '1') return null;
  const bytes = buildEngineModule();
  if (!WebAssembly.validate(bytes)) return null;
  const apF = MC * KC, bpF = KC * NC;
  const packs: [number, number][] = [[0, apF], [apF + bpF, 2 * apF + bpF]];
  const warmScratch = 2 * (apF + bpF);
  const dynBase = Math.ceil((warmScratch + WARM_FLOATS) / 16) * 16;
  const pages = Math.ceil((dynBase * 4 + (8 << 20)) / 65536);
  const mem = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
  const module = new WebAssembly.Module(bytes);
  const inst = new WebAssembly.Instance(module, { env: { mem } });
  const factory = (0, eval)(ENGINE_SOURCE) as EngineFactory;
  const run = factory(mem, inst.exports['macro'] as MacroFn, MR, NR, KC, MC, NC);
  const helper = startHelper(mem, module, packs, warmScratch);
  return { mem, run, helper, packs, dynBase };
}

function getEngine(): Engine | null {
  if (engine === undefined) {
    try {
      engine = createEngine();
    } catch {
      engine = null;
    }
  }
  return engine;
}

let engineEnabled = true;

/** Turns the conv engine off (legacy im2col + sgemm path) or on; for benchmarks and tests. */
export function setConvEngine(on: boolean): void {
  engineEnabled = on;
}

export function convEngineEnabled(): boolean {
  return engineEnabled;
}

/** Number of threads the conv engine uses (1 or 2); GRADLENS_THREADS sets the default. */
export function setConvThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setConvThreads: expected a positive integer, got ${n}`);
  threadsWanted = Math.min(n, 2);
}

export function convThreads(): number {
  return threadsWanted;
}

/** Whether the engine exists and, if `threaded`, its helper thread is up. */
export function convEngineReady(threaded = false): boolean {
  const e = getEngine();
  if (e === null) return false;
  return !threaded || (e.helper !== null && e.helper.ready());
}

/** Resolves once the helper thread is warm (or immediately when there is none). */
export async function convEngineWarm(timeoutMs = 5000): Promise<boolean> {
  const e = getEngine();
  if (e === null || e.helper === null) return false;
  const t0 = Date.now();
  while (!e.helper.ready() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 10));
  return e.helper.ready();
}

// ---------------------------------------------------------------- memory
class Arena {
  F: Float32Array;
  private top: number;
  constructor(private readonly e: Engine) {
    this.top = e.dynBase;
    this.F = new Float32Array(e.mem.buffer);
  }
  alloc(n: number): number {
    const off = this.top;
    this.top = Math.ceil((off + n) / 16) * 16;
    return off;
  }
  /** Grows the memory to hold everything allocated; false if over the cap. */
  commit(): boolean {
    const need = this.top * 4;
    const have = this.e.mem.buffer.byteLength;
    if (need > have) {
      const pages = Math.ceil((need - have) / 65536);
      if (have / 65536 + pages > MAX_PAGES) return false;
      this.e.mem.grow(pages);
    }
    if (this.F.length * 4 !== this.e.mem.buffer.byteLength) this.F = new Float32Array(this.e.mem.buffer);
    return true;
  }
}

// ---------------------------------------------------------------- dispatch
/**
 * Minimum GEMM flops worth a thread handshake (~1 ms of one thread's work). Below that the
 * wake-up, and on a busy machine the wait for the other core, cost more than the split saves
 * (face-expression net: 3e6 → 2e7 took its warm median from ~89 to ~83 ms and its first call
 * from ~350 to ~310 ms; ResNet-50's GEMMs are all larger).
 */
let MT_MIN_FLOPS = 2e7;

/** Test hook: the smallest GEMM (in flops) split across threads (0 splits everything). */
export function setConvMtMinFlops(flops: number): number {
  const prev = MT_MIN_FLOPS;
  MT_MIN_FLOPS = flops;
  return prev;
}

/**
 * Runs a GEMM descriptor (M0=0, M1=M, N0=0, N1=N filled by the caller) on up
 * to two threads: splits columns when that duplicates less packing (M ≤ N)
 * and there are enough panels, rows otherwise.
 */
function runGemm(e: Engine, d: Int32Array, flops: number): void {
  const M = d[D.M1]!, N = d[D.N1]!;
  const h = e.helper;
  const useMt = threadsWanted > 1 && h !== null && flops >= MT_MIN_FLOPS && h.ready();
  const nP = Math.ceil(N / NR), mP = Math.ceil(M / MR);
  if (!useMt || (nP < 2 && mP < 2)) {
    d[D.APW] = e.packs[0]![0]; d[D.BPW] = e.packs[0]![1];
    e.run(d);
    return;
  }
  const wd = h.desc;
  wd.set(d);
  wd[D.APW] = e.packs[1]![0]; wd[D.BPW] = e.packs[1]![1];
  d[D.APW] = e.packs[0]![0]; d[D.BPW] = e.packs[0]![1];
  if ((M <= N && nP >= 2) || mP < 2) {
    const split = Math.ceil(nP / 2) * NR;
    d[D.N1] = split; wd[D.N0] = split;
  } else {
    const split = Math.ceil(mP / 2) * MR;
    d[D.M1] = split; wd[D.M0] = split;
  }
  h.start();
  try {
    e.run(d);
  } finally {
    h.wait();
  }
}

function runCol2im(e: Engine, d: Int32Array, C: number): void {
  const h = e.helper;
  const useMt = threadsWanted > 1 && h !== null && C >= 2 && h.ready() &&
    C * d[D.H]! * d[D.W]! * d[D.KH]! * d[D.KW]! >= MT_MIN_FLOPS / 64;
  d[D.C0] = 0; d[D.C1] = C;
  if (!useMt) {
    e.run(d);
    return;
  }
  const wd = h.desc;
  wd.set(d);
  const split = C >> 1;
  d[D.C1] = split; wd[D.C0] = split;
  h.start();
  try {
    e.run(d);
  } finally {
    h.wait();
  }
}

function setGeometry(d: Int32Array, p: Conv2dParams): void {
  d[D.H] = p.H; d[D.W] = p.W; d[D.KH] = p.KH; d[D.KW] = p.KW; d[D.OH] = p.OH; d[D.OW] = p.OW;
  d[D.SH] = p.strideH; d[D.SW] = p.strideW; d[D.PT] = p.padTop; d[D.PL] = p.padLeft;
  d[D.DH] = p.dilationH; d[D.DW] = p.dilationW;
}

const desc = new Int32Array(D.SIZE);
const desc2 = new Int32Array(D.SIZE);
const pad8 = (n: number): number => Math.ceil(n / NR) * NR;
const pad4 = (n: number): number => Math.ceil(n / MR) * MR;

function isPointwise(p: Conv2dParams): boolean {
  return p.KH === 1 && p.KW === 1 && p.strideH === 1 && p.strideW === 1 &&
    p.padTop === 0 && p.padBottom === 0 && p.padLeft === 0 && p.padRight === 0;
}

/** Forward conv through the engine; false if the engine is unavailable (caller falls back). */
export function engineConv2dForward(
  p: Conv2dParams, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array,
): boolean {
  const e = getEngine();
  if (e === null) return false;
  const { N, C, H, W, OC, KH, KW, OH, OW, groups } = p;
  const Cg = C / groups, OCg = OC / groups, CKK = Cg * KH * KW, OHW = OH * OW, HW = H * W;
  const ldc = pad8(OHW);
  const ar = new Arena(e);
  const xo = ar.alloc(C * HW), wo = ar.alloc(OC * CKK), co = ar.alloc(pad4(OCg) * ldc);
  if (!ar.commit()) return false;
  const F = ar.F;
  F.set(w.subarray(0, OC * CKK), wo);
  const pw = isPointwise(p);
  const d = desc;
  d.fill(0);
  setGeometry(d, p);
  for (let n = 0; n < N; n++) {
    F.set(x.subarray(n * C * HW, (n + 1) * C * HW), xo);
    for (let g = 0; g < groups; g++) {
      d[D.KIND] = KIND_GEMM;
      d[D.M0] = 0; d[D.M1] = OCg; d[D.N0] = 0; d[D.N1] = OHW; d[D.K] = CKK;
      d[D.ATYPE] = 0; d[D.AOFF] = wo + g * OCg * CKK; d[D.LDA] = CKK;
      d[D.BTYPE] = pw ? 0 : 2; d[D.BOFF] = xo + g * Cg * HW; d[D.LDB] = HW;
      d[D.COFF] = co; d[D.LDC] = ldc; d[D.ACCF] = 0;
      runGemm(e, d, 2 * OCg * OHW * CKK);
      for (let oc = 0; oc < OCg; oc++) {
        const dst = (n * OC + g * OCg + oc) * OHW, src = co + oc * ldc;
        if (bias === null) {
          out.set(F.subarray(src, src + OHW), dst);
        } else {
          const b = bias[g * OCg + oc]!;
          for (let i = 0; i < OHW; i++) out[dst + i] = F[src + i]! + b;
        }
      }
    }
  }
  return true;
}

/** Backward-input through the engine; false if unavailable. */
export function engineConv2dBackwardInput(p: Conv2dParams, gy: Float32Array, w: Float32Array, gx: Float32Array): boolean {
  const e = getEngine();
  if (e === null) return false;
  const { N, C, H, W, OC, KH, KW, OH, OW, groups } = p;
  const Cg = C / groups, OCg = OC / groups, KK = KH * KW, CKK = Cg * KK, OHW = OH * OW, HW = H * W;
  const pw = isPointwise(p);
  const flip = !pw && p.strideH === 1 && p.strideW === 1;
  const colRows = pw || flip ? Cg : CKK;
  const ldc = pad8(pw || flip ? HW : OHW);
  const ar = new Arena(e);
  const go = ar.alloc(OC * OHW), wo = ar.alloc(OC * CKK), co = ar.alloc(pad4(colRows) * ldc);
  const gxo = pw || flip ? 0 : ar.alloc(Cg * HW);
  if (!ar.commit()) return false;
  const F = ar.F;
  F.set(w.subarray(0, OC * CKK), wo);
  const d = desc;
  d.fill(0);
  for (let n = 0; n < N; n++) {
    F.set(gy.subarray(n * OC * OHW, (n + 1) * OC * OHW), go);
    for (let g = 0; g < groups; g++) {
      d.fill(0);
      d[D.KIND] = KIND_GEMM;
      d[D.COFF] = co; d[D.LDC] = ldc; d[D.ACCF] = 0;
      d[D.M0] = 0; d[D.N0] = 0;
      if (pw) {
        // gx[c, p] = Σ_oc W[oc, c]·gy[oc, p]
        d[D.M1] = Cg; d[D.N1] = HW; d[D.K] = OCg;
        d[D.ATYPE] = 1; d[D.AOFF] = wo + g * OCg * CKK; d[D.LDA] = CKK;
        d[D.BTYPE] = 0; d[D.BOFF] = go + g * OCg * OHW; d[D.LDB] = OHW;
      } else if (flip) {
        // forward conv of gy (OCg channels, OH×OW) with the flipped kernel → H×W
        d[D.M1] = Cg; d[D.N1] = HW; d[D.K] = OCg * KK;
        d[D.ATYPE] = 2; d[D.AOFF] = wo + g * OCg * CKK; d[D.AKK] = KK; d[D.ACKK] = CKK;
        d[D.BTYPE] = 2; d[D.BOFF] = go + g * OCg * OHW;
        d[D.H] = OH; d[D.W] = OW; d[D.KH] = KH; d[D.KW] = KW; d[D.OH] = H; d[D.OW] = W;
        d[D.SH] = 1; d[D.SW] = 1; d[D.DH] = p.dilationH; d[D.DW] = p.dilationW;
        d[D.PT] = p.dilationH * (KH - 1) - p.padTop; d[D.PL] = p.dilationW * (KW - 1) - p.padLeft;
      } else {
        // col[k, p] = Σ_oc W[oc, k]·gy[oc, p], then col2im
        d[D.M1] = CKK; d[D.N1] = OHW; d[D.K] = OCg;
        d[D.ATYPE] = 1; d[D.AOFF] = wo + g * OCg * CKK; d[D.LDA] = CKK;
        d[D.BTYPE] = 0; d[D.BOFF] = go + g * OCg * OHW; d[D.LDB] = OHW;
      }
      runGemm(e, d, 2 * OCg * OHW * CKK);
      const dst = (n * C + g * Cg) * HW;
      if (pw || flip) {
        for (let c = 0; c < Cg; c++) gx.set(F.subarray(co + c * ldc, co + c * ldc + HW), dst + c * HW);
      } else {
        const d2 = desc2;
        d2.fill(0);
        setGeometry(d2, p);
        d2[D.KIND] = KIND_COL2IM; d2[D.COFF] = co; d2[D.LDC] = ldc; d2[D.GXOFF] = gxo;
        runCol2im(e, d2, Cg);
        gx.set(F.subarray(gxo, gxo + Cg * HW), dst);
      }
    }
  }
  return true;
}

/** Backward-weight through the engine (gW only; the caller does gradBias); false if unavailable. */
export function engineConv2dBackwardWeight(p: Conv2dParams, x: Float32Array, gy: Float32Array, gw: Float32Array): boolean {
  const e = getEngine();
  if (e === null) return false;
  const { N, C, H, W, OC, KH, KW, OH, OW, groups } = p;
  const Cg = C / groups, OCg = OC / groups, CKK = Cg * KH * KW, OHW = OH * OW, HW = H * W;
  const pw = isPointwise(p);
  const ldc = pad8(CKK);
  const ar = new Arena(e);
  const xo = ar.alloc(N * C * HW), go = ar.alloc(N * OC * OHW), co = ar.alloc(pad4(OCg) * ldc);
  if (!ar.commit()) return false;
  const F = ar.F;
  F.set(x.subarray(0, N * C * HW), xo);
  F.set(gy.subarray(0, N * OC * OHW), go);
  const d = desc;
  d.fill(0);
  setGeometry(d, p);
  for (let g = 0; g < groups; g++) {
    for (let n = 0; n < N; n++) {
      d[D.KIND] = KIND_GEMM;
      d[D.M0] = 0; d[D.M1] = OCg; d[D.N0] = 0; d[D.N1] = CKK; d[D.K] = OHW;
      d[D.ATYPE] = 0; d[D.AOFF] = go + (n * OC + g * OCg) * OHW; d[D.LDA] = OHW;
      d[D.BTYPE] = pw ? 1 : 3; d[D.BOFF] = xo + (n * C + g * Cg) * HW; d[D.LDB] = HW;
      d[D.COFF] = co; d[D.LDC] = ldc; d[D.ACCF] = n > 0 ? 1 : 0;
      runGemm(e, d, 2 * OCg * OHW * CKK);
    }
    for (let oc = 0; oc < OCg; oc++) {
      const src = co + oc * ldc;
      gw.set(F.subarray(src, src + CKK), (g * OCg + oc) * CKK);
    }
  }
  return true;
}
