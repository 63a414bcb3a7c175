/**
 * Minimal writer (and header reader) for numpy's `.npy` format, version 1.0,
 * for float32 arrays: little-endian `'<f4'`, C order. The bytes are exactly
 * what `numpy.save` writes (numpy >= 1.23, which leaves spare spaces in the
 * header so the first axis can grow in place): magic `\x93NUMPY`, version
 * 1.0, a uint16 LE header length, the header dict padded with spaces and a
 * final newline so that data starts at a multiple of 64 bytes, then the data.
 */
import { writeFileSync } from 'node:fs';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
/** numpy's format.GROWTH_AXIS_MAX_DIGITS: room left for the growth axis to get longer. */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** Python's repr of a shape tuple: `()`, `(3,)`, `(3, 4)`. */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The header text (dict, padding and newline) numpy writes for a C-order '<f4' array of `shape`. */
export function npy_header(shape: readonly number[]): string {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`npy: invalid shape [${shape.join(', ')}]`);
  }
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) header += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length);
  // 10 bytes of preamble (magic 6 + version 2 + length 2) + header + '\n' must be a multiple of 64
  const used = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((ARRAY_ALIGN - (used % ARRAY_ALIGN)) % ARRAY_ALIGN) + '\n';
  if (header.length > 0xffff) throw new Error('npy: header too long for format version 1.0');
  return header;
}

/** Encodes float32 values of the given shape (C order) as `.npy` v1.0 bytes. */
export function encode_npy(data: Float32Array | ArrayLike<number>, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`npy: ${data.length} values do not fill shape [${shape.join(', ')}] (${n})`);
  const header = npy_header(shape);
  const pre = MAGIC.length + 4 + header.length;
  const out = new Uint8Array(pre + 4 * n);
  out.set(MAGIC, 0);
  out[6] = 1; // major
  out[7] = 0; // minor
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const dv = new DataView(out.buffer, pre);
  for (let i = 0; i < n; i++) dv.setFloat32(4 * i, data[i] as number, true);
  return out;
}

/** Writes a `.npy` file (callers wanting atomicity write into a staging folder). */
export function write_npy(path: string, data: Float32Array | ArrayLike<number>, shape: readonly number[]): void {
  writeFileSync(path, encode_npy(data, shape));
}

/** What {@link parse_npy} reads back. */
export interface NpyArray {
  descr: string;
  fortran_order: boolean;
  shape: number[];
  /** Offset of the data in the file (a multiple of 64 for files numpy writes). */
  data_offset: number;
  data: Float32Array;
}

/**
 * Parses a v1.0 `.npy` file holding a little-endian float32 array (what
 * {@link encode_npy} and `numpy.save(float32_array)` write). Throws on anything else.
 */
export function parse_npy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new Error('npy: bad magic');
  if (bytes[6] !== 1 || bytes[7] !== 0) throw new Error(`npy: unsupported version ${bytes[6]}.${bytes[7]}`);
  const hlen = bytes[8]! | (bytes[9]! << 8);
  const header = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + hlen));
  if (!header.endsWith('\n')) throw new Error('npy: header does not end with a newline');
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`npy: malformed header ${JSON.stringify(header)}`);
  if (descr !== '<f4') throw new Error(`npy: only '<f4' is supported, got '${descr}'`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const off = 10 + hlen;
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== off + 4 * n) throw new Error(`npy: expected ${off + 4 * n} bytes, got ${bytes.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + off, 4 * n);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
  return { descr, fortran_order: fortran === 'True', shape, data_offset: off, data };
}
