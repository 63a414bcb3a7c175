// Test helpers: load the goldens written by scripts/make_fixtures.py.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ndarray from 'ndarray';
import type { NdArray, TypedArray } from 'ndarray';
import { PNG } from 'pngjs';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

/** Minimal .npy reader (C order; f4, f8, u1, i8 -> Int32Array, b1). */
export function loadNpy(name: string): NdArray<TypedArray> {
  const buf = readFileSync(fixture(name.endsWith('.npy') ? name : `${name}.npy`));
  if (buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${name}: not an npy file`);
  const major = buf[6]!;
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1]!;
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${name}: fortran order unsupported`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)![1]!;
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const body = buf.subarray(hstart + hlen);
  const copy = new Uint8Array(body).buffer;
  let data: TypedArray;
  switch (descr) {
    case '<f4': data = new Float32Array(copy); break;
    case '<f8': data = new Float64Array(copy); break;
    case '|u1': data = new Uint8Array(copy); break;
    case '|b1': data = new Uint8Array(copy); break;
    case '<i8': data = Int32Array.from(new BigInt64Array(copy), (v) => Number(v)); break;
    default: throw new Error(`${name}: dtype ${descr} unsupported`);
  }
  return ndarray(data, shape);
}

/** Decoded PNG pixels as pngjs gives them (always RGBA 8-bit) plus the stored colour type. */
export function readPngRaw(path: string): { width: number; height: number; colorType: number; rgba: Uint8Array } {
  const bytes = readFileSync(path);
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, colorType: bytes[25]!, rgba: new Uint8Array(png.data) };
}

/** Largest absolute element difference (arrays of equal length). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > m || Number.isNaN(d)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Number of differing elements. */
export function countDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

export const manifest = JSON.parse(readFileSync(fixture('manifest.json'), 'utf8')) as {
  resize: { src: string; out: string; filter: string; size: [number, number] }[];
  png_variants: Record<string, string>;
  prep_face: { sum: number; min: number; max: number };
};
