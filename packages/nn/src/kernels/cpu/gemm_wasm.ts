/**
 * WebAssembly SIMD sgemm. The module is assembled byte by byte below (with wasm_asm.ts; no
 * toolchain): one exported macro-kernel `macro(kc, mPanels, nPanels, ap, bp,
 * c, ldcBytes)` that multiplies MR-row panels of packed A by 8-column panels
 * of packed B, keeping the MR×8 tile in 2·MR f32x4 locals (register-blocked),
 * and stores the tile into a C block in wasm memory. Packing (with alpha
 * folded into A) and the alpha/beta merge of the C block into the caller's
 * array are done in TypeScript on Float32Array views of the wasm memory.
 * Accumulation is float32 within a KC-deep slice (like a float32 BLAS).
 */
import { checkGemmArgs, scaleC } from './gemm_js.ts';
import { emitter, f32x4add, f32x4mul, load32splat, macroModule, op, uleb, v128load, v128store, v128zero } from './wasm_asm.ts';

const NR = 8;

/**
 * Builds the module for an MR×8 micro-kernel; memory is imported as env.mem
 * (shared, with pages as both minimum and maximum, when `sharedPages` > 0).
 */
export function buildGemmModule(MR: number, sharedPages = 0): Uint8Array<ArrayBuffer> {
  // params
  const KC = 0, MP = 1, NP = 2, AP = 3, BP = 4, CB = 5, LDC = 6;
  // i32 locals
  const JR = 7, IR = 8, K = 9, PA = 10, PB = 11, CP = 12, BPP = 13;
  // v128 locals
  const ACC = 14; // 2·MR accumulators
  const B0 = ACC + 2 * MR, B1 = B0 + 1, A = B1 + 1;
  const nV128 = 2 * MR + 3;
  const { code, e } = emitter();
  e(op.i32(0), op.set(JR));
  e(op.block, op.loop);
  e(op.get(JR), op.get(NP), op.geU, op.brIf(1));
  e(op.get(BP), op.get(JR), op.get(KC), op.mul, op.i32(NR * 4), op.mul, op.add, op.set(BPP));
  e(op.i32(0), op.set(IR));
  e(op.block, op.loop);
  e(op.get(IR), op.get(MP), op.geU, op.brIf(1));
  e(op.get(AP), op.get(IR), op.get(KC), op.mul, op.i32(MR * 4), op.mul, op.add, op.set(PA));
  e(op.get(BPP), op.set(PB));
  for (let i = 0; i < 2 * MR; i++) e(v128zero, op.set(ACC + i));
  e(op.get(KC), op.set(K));
  e(op.block, op.loop);
  e(op.get(K), op.eqz, op.brIf(1));
  e(op.get(PB), v128load(0), op.set(B0));
  e(op.get(PB), v128load(16), op.set(B1));
  for (let i = 0; i < MR; i++) {
    e(op.get(PA), load32splat(4 * i), op.set(A));
    e(op.get(ACC + 2 * i), op.get(A), op.get(B0), f32x4mul, f32x4add, op.set(ACC + 2 * i));
    e(op.get(ACC + 2 * i + 1), op.get(A), op.get(B1), f32x4mul, f32x4add, op.set(ACC + 2 * i + 1));
  }
  e(op.get(PA), op.i32(MR * 4), op.add, op.set(PA));
  e(op.get(PB), op.i32(NR * 4), op.add, op.set(PB));
  e(op.get(K), op.i32(1), op.sub, op.set(K));
  e(op.br(0), op.end, op.end);
  // store the tile: cp = c + ir·MR·ldc + jr·32
  e(op.get(CB), op.get(IR), op.i32(MR), op.mul, op.get(LDC), op.mul, op.add,
    op.get(JR), op.i32(NR * 4), op.mul, op.add, op.set(CP));
  for (let i = 0; i < MR; i++) {
    e(op.get(CP), op.get(ACC + 2 * i), v128store(0));
    e(op.get(CP), op.get(ACC + 2 * i + 1), v128store(16));
    if (i < MR - 1) e(op.get(CP), op.get(LDC), op.add, op.set(CP));
  }
  e(op.get(IR), op.i32(1), op.add, op.set(IR), op.br(0), op.end, op.end);
  e(op.get(JR), op.i32(1), op.add, op.set(JR), op.br(0), op.end, op.end);
  e(op.end);
  const memory = sharedPages > 0 ? [0x03, ...uleb(sharedPages), ...uleb(sharedPages)] : [0x00, ...uleb(1)];
  return macroModule(7, 7, nV128, code, memory);
}

type MacroFn = (kc: number, mPanels: number, nPanels: number, ap: number, bp: number, c: number, ldcBytes: number) => void;

export interface WasmGemm {
  readonly MR: number;
  readonly threads: number;
  /** False while the helper thread is still starting (calls run single-threaded meanwhile). */
  ready(): boolean;
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
  ): void;
}

/**
 * Code of the helper thread: runs `macro` on the shared memory whenever the
 * request counter ctl[0] moves, then publishes it in ctl[1]. ctl[9] = 1 once
 * ready; a negative request stops it.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { mem, bytes, ctl } = workerData;
const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
const macro = inst.exports.macro;
const c = new Int32Array(ctl);
// Warm up so V8 tiers the kernel up to optimized code before real work
// arrives (otherwise the first split calls run baseline code and the split is
// badly unbalanced). Reads the pack area, writes only the private region at c[10].
const t0 = Date.now();
while (Date.now() - t0 < 150) macro(256, 4, 16, 0, 0, c[10], 16 * 8 * 4);
Atomics.store(c, 9, 1);
Atomics.notify(c, 9);
let seen = 0;
for (;;) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  if (seen < 0) break;
  macro(c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
  Atomics.store(c, 1, seen);
  Atomics.notify(c, 1);
}
`;

interface Helper {
  ctl: Int32Array;
  seq: number;
  /** Starts macro(args) on the helper thread. */
  start(kc: number, mP: number, nP: number, ap: number, bp: number, c: number, ldcB: number): void;
  wait(): void;
  ready(): boolean;
}

/** A helper thread sharing `mem`, or null where worker_threads/Atomics.wait are unavailable. */
function startHelper(mem: WebAssembly.Memory, bytes: Uint8Array<ArrayBuffer>, warmOffset: number): Helper | null {
  if (typeof process === 'undefined' || typeof process.getBuiltinModule !== 'function') return null;
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return null;
  const wt = process.getBuiltinModule('node:worker_threads');
  if (wt === undefined || !wt.isMainThread) return null;
  const ctlBuf = new SharedArrayBuffer(16 * 4);
  const ctl = new Int32Array(ctlBuf);
  ctl[10] = warmOffset;
  const worker = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { mem, bytes, ctl: ctlBuf } });
  worker.unref(); // never keeps the process alive
  let failed = false;
  worker.on('error', () => { failed = true; });
  const h: Helper = {
    ctl,
    seq: 0,
    start(kc, mP, nP, ap, bp, c, ldcB) {
      ctl[2] = kc; ctl[3] = mP; ctl[4] = nP; ctl[5] = ap; ctl[6] = bp; ctl[7] = c; ctl[8] = ldcB;
      h.seq++;
      Atomics.store(ctl, 0, h.seq);
      Atomics.notify(ctl, 0);
    },
    wait() {
      const s = h.seq;
      for (let spin = 0; spin < 2000; spin++) if (Atomics.load(ctl, 1) === s) return;
      for (;;) {
        const cur = Atomics.load(ctl, 1);
        if (cur === s) return;
        if (Atomics.wait(ctl, 1, cur, 5000) === 'timed-out' && Atomics.load(ctl, 1) !== s) {
          throw new Error('sgemm: helper thread did not answer within 5 s');
        }
      }
    },
    ready: () => !failed && Atomics.load(ctl, 9) === 1,
  };
  return h;
}

/** Instantiates the SIMD GEMM, or returns null when WebAssembly SIMD is unavailable. */
export function createWasmGemm(MR = 4, KC = 256, MC = 128, NC = 1024, threads: 1 | 2 = 1): WasmGemm | null {
  if (typeof WebAssembly === 'undefined') return null;
  const mcPad = Math.ceil(MC / MR) * MR;
  const apBytes = mcPad * KC * 4, bpBytes = NC * KC * 4, cBytes = mcPad * NC * 4;
  const warmBytes = threads > 1 ? 16 * 128 * 4 : 0; // helper's private warm-up tile
  const total = apBytes + bpBytes + cBytes + warmBytes;
  const pages = Math.ceil(total / 65536);
  const bytes = buildGemmModule(MR, threads > 1 ? pages : 0);
  if (!WebAssembly.validate(bytes)) return null;
  const mem = threads > 1
    ? new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true })
    : new WebAssembly.Memory({ initial: pages });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
  const macro = inst.exports['macro'] as MacroFn;
  const helper = threads > 1 ? startHelper(mem, bytes, apBytes + bpBytes + cBytes) : null;
  if (threads > 1 && helper === null) return null;
  /** Minimum flops of one macro call worth splitting across threads. */
  const MT_MIN_FLOPS = 1 << 20;

  function macroSplit(kc: number, mP: number, nP: number, ldcB: number): void {
    if (helper === null || !helper.ready() || 2 * kc * mP * MR * nP * NR < MT_MIN_FLOPS) {
      macro(kc, mP, nP, AP, BPo, CBo, ldcB);
      return;
    }
    if (nP >= 2) {
      const h = nP >> 1;
      helper.start(kc, mP, nP - h, AP, BPo + h * kc * NR * 4, CBo + h * NR * 4, ldcB);
      macro(kc, mP, h, AP, BPo, CBo, ldcB);
    } else {
      const h = mP >> 1;
      helper.start(kc, mP - h, nP, AP + h * kc * MR * 4, BPo, CBo + h * MR * ldcB, ldcB);
      macro(kc, h, nP, AP, BPo, CBo, ldcB);
    }
    helper.wait();
  }
  const AP = 0, BPo = apBytes, CBo = apBytes + bpBytes;
  const ap = new Float32Array(mem.buffer, AP, apBytes / 4);
  const bp = new Float32Array(mem.buffer, BPo, bpBytes / 4);
  const cb = new Float32Array(mem.buffer, CBo, cBytes / 4);

  function packA(tA: boolean, A: Float32Array, aOff: number, lda: number, ic: number, pc: number, mc: number, kc: number, alpha: number): void {
    for (let ir = 0; ir < mc; ir += MR) {
      const base = ir * kc;
      const mr = Math.min(MR, mc - ir);
      if (!tA) {
        for (let i = 0; i < MR; i++) {
          let d = base + i;
          if (i < mr) {
            let s = aOff + (ic + ir + i) * lda + pc;
            for (let k = 0; k < kc; k++) { ap[d] = alpha * A[s++]!; d += MR; }
          } else {
            for (let k = 0; k < kc; k++) { ap[d] = 0; d += MR; }
          }
        }
      } else {
        let d = base;
        let s = aOff + pc * lda + ic + ir;
        for (let k = 0; k < kc; k++) {
          for (let i = 0; i < MR; i++) ap[d + i] = i < mr ? alpha * A[s + i]! : 0;
          d += MR;
          s += lda;
        }
      }
    }
  }

  function packB(tB: boolean, B: Float32Array, bOff: number, ldb: number, pc: number, jc: number, kc: number, nc: number): void {
    for (let jr = 0; jr < nc; jr += NR) {
      const base = jr * kc;
      const nr = Math.min(NR, nc - jr);
      if (!tB) {
        let d = base;
        let s = bOff + pc * ldb + jc + jr;
        if (nr === NR) {
          for (let k = 0; k < kc; k++) {
            bp[d] = B[s]!; bp[d + 1] = B[s + 1]!; bp[d + 2] = B[s + 2]!; bp[d + 3] = B[s + 3]!;
            bp[d + 4] = B[s + 4]!; bp[d + 5] = B[s + 5]!; bp[d + 6] = B[s + 6]!; bp[d + 7] = B[s + 7]!;
            d += NR;
            s += ldb;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            for (let j = 0; j < NR; j++) bp[d + j] = j < nr ? B[s + j]! : 0;
            d += NR;
            s += ldb;
          }
        }
      } else {
        for (let j = 0; j < NR; j++) {
          let d = base + j;
          if (j < nr) {
            let s = bOff + (jc + jr + j) * ldb + pc;
            for (let k = 0; k < kc; k++) { bp[d] = B[s++]!; d += NR; }
          } else {
            for (let k = 0; k < kc; k++) { bp[d] = 0; d += NR; }
          }
        }
      }
    }
  }

  function sgemm(
    tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
    beta: number, C: Float32Array, cOff: number, ldc: number,
  ): void {
    checkGemmArgs('sgemm', tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc);
    if (M === 0 || N === 0) return;
    if (K === 0 || alpha === 0) {
      scaleC(M, N, beta, C, cOff, ldc);
      return;
    }
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      const nPanels = Math.ceil(nc / NR);
      const ldcb = nPanels * NR;
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        const b = pc === 0 ? beta : 1;
        packB(tB, B, bOff, ldb, pc, jc, kc, nc);
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic);
          packA(tA, A, aOff, lda, ic, pc, mc, kc, alpha);
          macroSplit(kc, Math.ceil(mc / MR), nPanels, ldcb * 4);
          for (let i = 0; i < mc; i++) {
            const c = cOff + (ic + i) * ldc + jc;
            const s = i * ldcb;
            if (b === 0) for (let j = 0; j < nc; j++) C[c + j] = cb[s + j]!;
            else if (b === 1) for (let j = 0; j < nc; j++) C[c + j] = C[c + j]! + cb[s + j]!;
            else for (let j = 0; j < nc; j++) C[c + j] = b * C[c + j]! + cb[s + j]!;
          }
        }
      }
    }
  }

  return { MR, threads: helper !== null ? 2 : 1, sgemm, ready: () => helper === null || helper.ready() };
}
