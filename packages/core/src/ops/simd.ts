/**
 * WebAssembly SIMD loops for the hottest float32 elementwise ops (relu, clamp, the relu/clamp
 * backward masks, add). In plain JavaScript these are branchy scalar loops over float32 arrays:
 * on activations and gradients, whose signs are random, the branches mispredict and a pass costs
 * 2–4 ns per element; here a pass is a 128-bit compare/select/min/max per 4 lanes (well under
 * 1 ns per element including the copies in and out of wasm memory).
 *
 * Every function gives bit-identical results to the scalar loop it replaces (see each one), and
 * returns false (the caller then runs its scalar loop) when WebAssembly SIMD is not available or a
 * scalar bound is not exactly a float32 (comparing a float32 with a non-float32 double bound and
 * with its float32 rounding can differ). Data is streamed through a small private memory in
 * chunks that stay in cache: A, B in, OUT out.
 */

const CH = 16384; // floats per chunk (64 KiB per region)
const A_OFF = 0;
const B_OFF = CH * 4;
const O_OFF = 2 * CH * 4;

type Kernel = (a: number, b: number, o: number, nbytes: number, s: number, t: number) => void;

interface Simd {
  F: Float32Array;
  clampMin: Kernel;
  clampMax: Kernel;
  clampBoth: Kernel;
  maskGt: Kernel;
  maskIn: Kernel;
  relu: Kernel;
  add: Kernel;
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

// params: 0 a, 1 b, 2 o, 3 nbytes (i32), 4 s, 5 t (f32); locals: 6 i (i32), 7 v (v128)
const get = (i: number): number[] => [0x20, ...uleb(i)];
const set = (i: number): number[] => [0x21, ...uleb(i)];
const simd = (code: number, ...imm: number[]): number[] => [0xfd, ...uleb(code), ...imm];
const load = (base: number): number[] => [...get(base), ...get(6), 0x6a, ...simd(0, 4, 0)];
const splat = (p: number): number[] => [...get(p), ...simd(0x13)];
const AND = simd(0x4e), OR = simd(0x50);
const NE = simd(0x42), GT = simd(0x44), LE = simd(0x45), GE = simd(0x46);
const ADD = simd(0xe4), PMIN = simd(0xea), PMAX = simd(0xeb);
const ZERO = [0xfd, ...uleb(12), ...new Array<number>(16).fill(0)];

/** o[i] = value(i) for i < nbytes/4 (in 16-byte steps; the regions are padded). */
function kernelBody(value: number[]): number[] {
  const code = [
    0x02, 0x40, 0x03, 0x40, // block loop
    ...get(6), ...get(3), 0x4f, 0x0d, 1, // i >= nbytes → break
    ...get(2), ...get(6), 0x6a, // store address o + i
    ...value,
    ...simd(11, 4, 0), // v128.store
    ...get(6), 0x41, 16, 0x6a, ...set(6), // i += 16
    0x0c, 0, 0x0b, 0x0b, // br loop; end; end
    0x0b,
  ];
  const locals = [2, 1, 0x7f, 1, 0x7b]; // 1 i32, 1 v128
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

const KERNELS: [string, number[]][] = [
  // pmax(v, s) = v < s ? s : v: the scalar `v < lo ? lo : v` (NaN and −0 kept)
  ['clampMin', [...load(0), ...splat(4), ...PMAX]],
  // pmin(v, t) = t < v ? t : v: the scalar `v > hi ? hi : v`
  ['clampMax', [...load(0), ...splat(5), ...PMIN]],
  ['clampBoth', [...load(0), ...splat(4), ...PMAX, ...splat(5), ...PMIN]],
  // g where x > s, else +0
  ['maskGt', [...load(0), ...splat(4), ...GT, ...load(1), ...AND]],
  // g where s <= x <= t, else +0
  ['maskIn', [...load(0), ...splat(4), ...GE, ...load(0), ...splat(5), ...LE, ...AND, ...load(1), ...AND]],
  // v where v > 0 or v is NaN, else +0
  ['relu', [...load(0), ...set(7), ...get(7), ...ZERO, ...GT, ...get(7), ...get(7), ...NE, ...OR, ...get(7), ...AND]],
  ['add', [...load(0), ...load(1), ...ADD]],
];

function build(): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f, F32 = 0x7d;
  const type = [1, 0x60, 6, I32, I32, I32, I32, F32, F32, 0];
  const exports: number[] = [KERNELS.length];
  KERNELS.forEach(([n], i) => exports.push(...name(n), 0x00, i));
  const bodies: number[] = [KERNELS.length];
  for (const [, v] of KERNELS) bodies.push(...kernelBody(v));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, type),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(4)]),
    ...section(3, [KERNELS.length, ...new Array<number>(KERNELS.length).fill(0)]),
    ...section(7, exports),
    ...section(10, bodies),
  ]);
}

let simdState: Simd | null | undefined;

function getSimd(): Simd | null {
  if (simdState !== undefined) return simdState;
  simdState = null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    if (typeof process !== 'undefined' && process.env?.['GRADLENS_NO_WASM'] === '1') return null;
    const bytes = build();
    if (!WebAssembly.validate(bytes)) return null;
    const mem = new WebAssembly.Memory({ initial: 4 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
    const e = inst.exports as Record<string, Kernel>;
    simdState = {
      F: new Float32Array(mem.buffer),
      clampMin: e['clampMin']!, clampMax: e['clampMax']!, clampBoth: e['clampBoth']!,
      maskGt: e['maskGt']!, maskIn: e['maskIn']!, relu: e['relu']!, add: e['add']!,
    };
  } catch {
    simdState = null;
  }
  return simdState;
}

/** Below this many elements the scalar loop is as fast (no chunk copies). */
const MIN_N = 256;

function exact(v: number): boolean {
  return Math.fround(v) === v || Number.isNaN(v);
}

/** out = k(a, b) chunk by chunk; false when SIMD is unavailable. */
function run(k: (s: Simd) => Kernel, a: Float32Array, b: Float32Array | null, out: Float32Array, s: number, t: number): boolean {
  const S = getSimd();
  if (S === null) return false;
  const kern = k(S);
  const F = S.F;
  const n = out.length;
  for (let i = 0; i < n; i += CH) {
    const m = Math.min(CH, n - i);
    F.set(a.subarray(i, i + m), A_OFF >> 2);
    if (b !== null) F.set(b.subarray(i, i + m), B_OFF >> 2);
    kern(A_OFF, B_OFF, O_OFF, ((m + 3) >> 2) << 4, s, t);
    out.set(F.subarray(O_OFF >> 2, (O_OFF >> 2) + m), i);
  }
  return true;
}

function f32s(...xs: unknown[]): boolean {
  for (const x of xs) if (!(x instanceof Float32Array)) return false;
  return true;
}

/** out = clamp(src, lo, hi) (either bound may be null), as `v < lo ? lo : v` then `r > hi ? hi : r`. */
export function simdClamp(src: ArrayLike<number>, lo: number | null, hi: number | null, out: ArrayLike<number>): boolean {
  if (!f32s(src, out) || src.length < MIN_N || (lo !== null && !exact(lo)) || (hi !== null && !exact(hi))) return false;
  const a = src as Float32Array, o = out as Float32Array;
  if (hi === null) return run((S) => S.clampMin, a, null, o, lo!, 0);
  if (lo === null) return run((S) => S.clampMax, a, null, o, 0, hi);
  return run((S) => S.clampBoth, a, null, o, lo, hi);
}

/** out = x > lo ? g : 0 (exclusive) or lo <= x <= hi ? g : 0 (inclusive). */
export function simdMask(x: ArrayLike<number>, g: ArrayLike<number>, lo: number, hi: number, inclusive: boolean, out: ArrayLike<number>): boolean {
  if (!f32s(x, g, out) || out.length < MIN_N || !exact(lo) || (inclusive && !exact(hi))) return false;
  return run((S) => (inclusive ? S.maskIn : S.maskGt), x as Float32Array, g as Float32Array, out as Float32Array, lo, inclusive ? hi : 0);
}

/** out = v > 0 || v is NaN ? v : 0 (out may be src). */
export function simdRelu(src: ArrayLike<number>, out: ArrayLike<number>): boolean {
  if (!f32s(src, out) || src.length < MIN_N || partialOverlap(src as Float32Array, out as Float32Array)) return false;
  return run((S) => S.relu, src as Float32Array, null, out as Float32Array, 0, 0);
}

/** True when two arrays share memory without being the very same range (a shifted overlap). */
function partialOverlap(p: Float32Array, q: Float32Array): boolean {
  if (p.buffer !== q.buffer) return false;
  if (p.byteOffset === q.byteOffset && p.length === q.length) return false;
  return p.byteOffset < q.byteOffset + q.byteLength && q.byteOffset < p.byteOffset + p.byteLength;
}

/**
 * out = x + y (float32 sum of float32 values: the same as rounding their double sum). `out` may
 * be x or y itself; a shifted overlap (where the scalar loop would read values it already wrote)
 * is left to the scalar loop.
 */
export function simdAdd(x: ArrayLike<number>, y: ArrayLike<number>, out: ArrayLike<number>): boolean {
  if (!f32s(x, y, out) || out.length < MIN_N) return false;
  const o = out as Float32Array;
  if (partialOverlap(x as Float32Array, o) || partialOverlap(y as Float32Array, o)) return false;
  return run((S) => S.add, x as Float32Array, y as Float32Array, out as Float32Array, 0, 0);
}
