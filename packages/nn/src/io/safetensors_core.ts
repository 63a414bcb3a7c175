/**
 * safetensors encode/decode without Node imports (browsers can use this file directly).
 *
 * Format (https://github.com/huggingface/safetensors): an 8-byte little-endian unsigned header
 * length N, N bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, ...,
 * "__metadata__"?: {string: string}}`, then the byte buffer. Offsets are relative to the byte
 * buffer, the tensors tile it exactly (no gaps, no overlap), and data is little-endian C order.
 */
import * as torch from '@gradlens/core';

type Tensor = torch.Tensor;

/** A state dict: parameter/buffer name → tensor, in insertion order. */
export type StateDict = Record<string, Tensor>;

/** The safetensors header limit used by the reference implementation (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of each safetensors dtype this module understands. */
const ITEMSIZE: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Every dtype the format defines (for "unsupported" vs "unknown" messages). */
const KNOWN_DTYPES = new Set([
  ...Object.keys(ITEMSIZE), 'U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64',
]);

/** Options of {@link decode_safetensors}. */
export interface DecodeOptions {
  /** Name used in error messages (a file path); default `<buffer>`. */
  name?: string;
  /** Receives the `__metadata__` object when present. */
  onMetadata?: (metadata: Record<string, string>) => void;
  /**
   * @internal The caller hands `bytes` over (nobody else will read or write them): aligned F32
   * tensors then view them in place instead of being copied (`load_safetensors` on a file).
   */
  _adopt?: boolean;
}

/** Raised for malformed safetensors data; the message names the file. */
export class SafetensorsError extends Error {
  constructor(readonly file: string, message: string) {
    super(`safetensors: ${file}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

const F16_TABLE = (() => {
  // All 65536 half values as float32: exact, and cheaper than bit tricks per element.
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac === 0 ? sign * Infinity : NaN;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * Parses and validates a safetensors byte buffer into a state dict, in data (file) order.
 * F32/F16/BF16/F64 become float32 tensors; I64/I32/I16/I8/U8 become int64 tensors (exact up to
 * 2^53, e.g. BatchNorm's `num_batches_tracked`); BOOL becomes bool. Other dtypes are an error.
 */
export function decode_safetensors(bytes: Uint8Array, opts: DecodeOptions = {}): StateDict {
  const file = opts.name ?? '<buffer>';
  const fail = (msg: string): never => {
    throw new SafetensorsError(file, msg);
  };
  if (!isLittleEndian()) fail('big-endian hosts are not supported');
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  if (8 + headerLen > bytes.byteLength) {
    fail(`header length ${headerLen} runs past the end of the file (${bytes.byteLength} bytes; corrupt or truncated)`);
  }
  if (headerLen < 2) fail(`header length ${headerLen} is too small for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header does not start with '{' (got ${JSON.stringify(text.slice(0, 16))})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__[${JSON.stringify(k)}] is not a string`);
      }
      opts.onMetadata?.(raw as Record<string, string>);
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(`${where}: entry is not an object`);
    const info = raw as Record<string, unknown>;
    for (const k of Object.keys(info)) {
      if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') fail(`${where}: unknown field ${JSON.stringify(k)}`);
    }
    const dtype = info.dtype;
    if (typeof dtype !== 'string') return fail(`${where}: dtype missing or not a string`);
    if (!(dtype in ITEMSIZE)) {
      fail(
        KNOWN_DTYPES.has(dtype)
          ? `${where}: dtype ${dtype} is not supported (supported: F32, F16, BF16, F64 → float32; I64, I32, I16, I8, U8 → int64; BOOL)`
          : `${where}: unknown dtype ${JSON.stringify(dtype)}`,
      );
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && (s as number) >= 0)) {
      return fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const offs = info.data_offsets;
    if (
      !Array.isArray(offs) || offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
    ) {
      return fail(`${where}: data_offsets must be two non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data buffer (truncated file?)`);
    let numel = 1;
    for (const s of shape as number[]) numel *= s;
    const expected = numel * ITEMSIZE[dtype]!;
    if (expected !== end - begin) {
      fail(`${where}: shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }

  // The tensors must tile the buffer: sorted by offset, each starts where the previous ended.
  const order = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of order) {
    if (e.begin < cursor) fail(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap another tensor`);
    if (e.begin > cursor) fail(`tensor ${JSON.stringify(e.name)}: gap in the data buffer at bytes [${cursor}, ${e.begin})`);
    cursor = e.end;
  }
  if (cursor !== dataLen) fail(`tensors cover ${cursor} bytes of the ${dataLen}-byte data buffer (trailing bytes)`);

  const sd: StateDict = {};
  for (const e of order) sd[e.name] = decodeTensor(bytes, dataStart, e, fail, opts._adopt === true);
  return sd;
}

function decodeTensor(bytes: Uint8Array, dataStart: number, e: Entry, fail: (m: string) => never, adopt: boolean): Tensor {
  const at = bytes.byteOffset + dataStart + e.begin;
  if (adopt && e.dtype === 'F32' && at % 4 === 0) {
    // The bytes are ours (a file just read): view them, no copy.
    return torch.Tensor._make(new Float32Array(bytes.buffer, at, (e.end - e.begin) / 4), e.shape, 'float32');
  }
  // Copy into a fresh (aligned) ArrayBuffer, whatever the offset in the file. (Not `bytes.slice`:
  // on a Node Buffer that is a view into the shared pool.)
  const raw = new Uint8Array(bytes.subarray(dataStart + e.begin, dataStart + e.end)).buffer;
  const n = (e.end - e.begin) / ITEMSIZE[e.dtype]!;
  let data: Float32Array | Float64Array | Uint8Array;
  let dtype: torch.DType = 'float32';
  switch (e.dtype) {
    case 'F32':
      data = new Float32Array(raw);
      break;
    case 'F64':
      data = Float32Array.from(new Float64Array(raw));
      break;
    case 'F16': {
      const h = new Uint16Array(raw);
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = F16_TABLE[h[i]!]!;
      break;
    }
    case 'BF16': {
      const h = new Uint16Array(raw);
      const u = new Uint32Array(n);
      for (let i = 0; i < n; i++) u[i] = h[i]! << 16;
      data = new Float32Array(u.buffer);
      break;
    }
    case 'I64': {
      const b = new BigInt64Array(raw);
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = b[i]!;
        if (v > 9007199254740991n || v < -9007199254740991n) {
          fail(`tensor ${JSON.stringify(e.name)}: I64 value ${v} is not exactly representable (|v| > 2^53)`);
        }
        data[i] = Number(v);
      }
      dtype = 'int64';
      break;
    }
    case 'I32':
      data = Float64Array.from(new Int32Array(raw));
      dtype = 'int64';
      break;
    case 'I16':
      data = Float64Array.from(new Int16Array(raw));
      dtype = 'int64';
      break;
    case 'I8':
      data = Float64Array.from(new Int8Array(raw));
      dtype = 'int64';
      break;
    case 'U8':
      data = Float64Array.from(new Uint8Array(raw));
      dtype = 'int64';
      break;
    case 'BOOL': {
      const b = new Uint8Array(raw);
      for (let i = 0; i < n; i++) if (b[i]! > 1) fail(`tensor ${JSON.stringify(e.name)}: BOOL byte ${b[i]} is not 0 or 1`);
      data = b;
      dtype = 'bool';
      break;
    }
    default:
      return fail(`tensor ${JSON.stringify(e.name)}: dtype ${e.dtype} is not supported`);
  }
  // `data` is a fresh array owned by nobody else: wrap it (shape checked above) rather than copy it again.
  return torch.Tensor._make(data, e.shape, dtype);
}

const SAFE_DTYPE: Record<torch.DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64', bool: 'BOOL' };

/**
 * Serializes a state dict to safetensors bytes, tensors in the dict's order. float32 → F32,
 * float64 → F64, int64 → I64, bool → BOOL. `metadata` becomes `__metadata__`.
 */
export function encode_safetensors(sd: StateDict, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(sd)) {
    if (name === '__metadata__') throw new Error('safetensors: a tensor cannot be named __metadata__');
    const dtype = SAFE_DTYPE[t.dtype];
    const src = t.detach()._contiguousData();
    let chunk: Uint8Array;
    if (t.dtype === 'int64') {
      const b = new BigInt64Array(src.length);
      for (let i = 0; i < src.length; i++) b[i] = BigInt(Math.trunc(src[i]!));
      chunk = new Uint8Array(b.buffer);
    } else {
      chunk = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + chunk.byteLength] };
    chunks.push(chunk);
    offset += chunk.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data buffer starts 8-byte aligned (as the reference does).
  const padded = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.byteLength % 2 ** 32, true);
  dv.setUint32(4, Math.floor(json.byteLength / 2 ** 32), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}
