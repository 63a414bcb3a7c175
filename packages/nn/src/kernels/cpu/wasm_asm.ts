/**
 * A tiny WebAssembly assembler shared by the hand-built SIMD modules (`gemm_wasm.ts`, the conv
 * engine): LEB128 encodings, the opcodes they use, an emitter, and the one-function module shell
 * (`macro(i32 × n)` over an imported `env.mem`).
 */

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function str(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

export const I32 = 0x7f;
export const V128 = 0x7b;

export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a], sub: [0x6b], mul: [0x6c], geU: [0x4f], ltU: [0x49], eqz: [0x45],
  block: [0x02, 0x40], loop: [0x03, 0x40], if: [0x04, 0x40], else: [0x05], end: [0x0b],
  brIf: (d: number) => [0x0d, ...uleb(d)], br: (d: number) => [0x0c, ...uleb(d)],
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
};
export const v128load = (offset: number): number[] => op.simd(0, 4, ...uleb(offset));
export const v128store = (offset: number): number[] => op.simd(11, 4, ...uleb(offset));
export const load32splat = (offset: number): number[] => op.simd(9, 2, ...uleb(offset));
export const f32x4add = op.simd(228);
export const f32x4mul = op.simd(230);
export const v128zero = [0xfd, ...uleb(12), ...new Array<number>(16).fill(0)];

/** A code buffer and `e(...)`, which appends opcodes (numbers or byte arrays) to it. */
export function emitter(): { code: number[]; e: (...xs: (number | number[])[]) => void } {
  const code: number[] = [];
  const e = (...xs: (number | number[])[]): void => {
    for (const x of xs) if (typeof x === 'number') code.push(x); else code.push(...x);
  };
  return { code, e };
}

/**
 * The module around one exported function `macro` taking `params` i32s, with `i32Locals` i32 and
 * `v128Locals` v128 locals and body `code`; `memory` is the limits of the imported `env.mem`
 * (flags byte first, as in the binary format).
 */
export function macroModule(params: number, i32Locals: number, v128Locals: number, code: number[], memory: number[]): Uint8Array<ArrayBuffer> {
  const body = [...uleb(2), ...uleb(i32Locals), I32, ...uleb(v128Locals), V128, ...code];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, params, ...new Array<number>(params).fill(I32), 0]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, ...memory]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('macro'), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}
