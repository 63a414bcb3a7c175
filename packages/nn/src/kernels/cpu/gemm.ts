/**
 * sgemm dispatch: the WebAssembly SIMD kernel (`gemm_wasm.ts`) when the
 * runtime supports it, the plain-TypeScript packed GEMM (`gemm_js.ts`)
 * otherwise. `setSgemmBackend` forces one (tests and benchmarks use it).
 *
 * Measured on the 2-core dev box (Node 20, median GFLOP/s, n=512/1024):
 * JS 4×4 f64 ≈ 3.8; wasm SIMD 4×8 f32x4 ≈ 23–27. The wasm micro-kernel was
 * also tried at 6×8 (12 accumulators): ≈ 18, slower (register spills).
 * 'wasm-mt' (opt-in, experimental) splits each macro-kernel call across a
 * worker thread over shared wasm memory: ≈ 36 vs 25 GFLOP/s on 1024³, but
 * packing stays on the calling thread and the per-block handshake costs, so
 * on ResNet conv shapes it is no faster (often slower) than 'wasm'; the
 * default is therefore single-threaded 'wasm'. Parallelising at the
 * conv level (batch/group/column blocks, packing included) is the next step.
 */
import type { SgemmFn } from '../types.ts';
import { sgemmJs } from './gemm_js.ts';
import { createWasmGemm } from './gemm_wasm.ts';

export type SgemmBackend = 'js' | 'wasm' | 'wasm-mt';

function tryWasm(): SgemmFn | null {
  try {
    if (typeof process !== 'undefined' && process.env['GRADLENS_NO_WASM'] === '1') return null;
    return createWasmGemm(4, 256, 128, 1024)?.sgemm ?? null;
  } catch {
    return null;
  }
}

const wasmImpl = tryWasm();
let mtImpl: SgemmFn | null | undefined; // created on first use (starts a worker thread)

function getMt(): SgemmFn | null {
  if (mtImpl === undefined) {
    try {
      mtImpl = wasmImpl === null ? null : createWasmGemm(4, 256, 128, 1024, 2)?.sgemm ?? null;
    } catch {
      mtImpl = null;
    }
  }
  return mtImpl;
}
let impl: SgemmFn = wasmImpl ?? sgemmJs;
let implName: SgemmBackend = wasmImpl !== null ? 'wasm' : 'js';

/** Row-major sgemm; see {@link SgemmFn}. */
export const sgemm: SgemmFn = (transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) =>
  impl(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);

/** Selects the sgemm implementation used by every CPU kernel. */
export function setSgemmBackend(name: SgemmBackend): void {
  if (name === 'wasm-mt') {
    const mt = getMt();
    if (mt === null) throw new Error('setSgemmBackend: wasm-mt needs WebAssembly SIMD, worker_threads and SharedArrayBuffer');
    impl = mt;
  } else if (name === 'wasm') {
    if (wasmImpl === null) throw new Error('setSgemmBackend: WebAssembly SIMD is not available in this runtime');
    impl = wasmImpl;
  } else if (name === 'js') {
    impl = sgemmJs;
  } else {
    throw new Error(`setSgemmBackend: unknown backend '${String(name)}'`);
  }
  implName = name;
}

/** The sgemm implementations this runtime can run (best first). */
export function availableSgemmBackends(): SgemmBackend[] {
  const out: SgemmBackend[] = [];
  if (wasmImpl !== null) out.push('wasm');
  if (wasmImpl !== null && typeof SharedArrayBuffer !== 'undefined' && typeof process !== 'undefined' &&
    typeof process.getBuiltinModule === 'function') out.push('wasm-mt');
  out.push('js');
  return out;
}

export function sgemmBackend(): SgemmBackend {
  return implName;
}

export { sgemmJs };
