import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as torch from '@gradlens/core';
import {
  decode_safetensors, encode_safetensors, load_safetensors, MAX_HEADER_BYTES, save_safetensors, SafetensorsError,
} from '../src/io/safetensors.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/parity/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gradlens-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds a safetensors file from a header object and raw data bytes. */
function build(header: unknown, data: Uint8Array | number[] = [], rawHeader?: Uint8Array): Uint8Array {
  const h = rawHeader ?? new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.byteLength + data.length);
  new DataView(out.buffer).setUint32(0, h.byteLength, true);
  out.set(h, 8);
  out.set(data, 8 + h.byteLength);
  return out;
}

function f32bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

const flat = (t: torch.Tensor): number[] => Array.from(t.detach()._contiguousData());

describe('safetensors round trip', () => {
  it('save → load keeps names, order, shapes, dtypes and bits', () => {
    const sd = {
      'features.0.weight': torch.randn(4, 3, 3, 3),
      'features.0.bias': torch.tensor([1.5, -2, 3.25e-30, Number.NaN]),
      scalar: torch.tensor(7),
      empty: torch.zeros(0, 5),
      'bn.num_batches_tracked': torch.tensor(12345678901, { dtype: 'int64' }),
      'bn.running_mean': torch.tensor([-0, Infinity, -Infinity], { dtype: 'float64' }),
      mask: torch.tensor([true, false, true]),
    };
    const path = join(dir, 'rt.safetensors');
    save_safetensors(sd, path, { format: 'pt' });
    let meta: Record<string, string> | undefined;
    const back = load_safetensors(path, { onMetadata: (m) => (meta = m) });
    expect(meta).toEqual({ format: 'pt' });
    expect(Object.keys(back)).toEqual(Object.keys(sd));
    for (const [k, t] of Object.entries(sd)) {
      const b = back[k]!;
      expect(b.shape, k).toEqual(t.shape);
      expect(b.dtype, k).toBe(t.dtype === 'float64' ? 'float32' : t.dtype);
      expect(flat(b), k).toEqual(flat(t).map((v) => (t.dtype === 'float64' ? Math.fround(v) : v)));
    }
    expect(Object.is(flat(back['bn.running_mean']!)[0], -0)).toBe(true);
    // No temp files left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('the data buffer starts 8-byte aligned and the header is plain JSON', () => {
    const bytes = encode_safetensors({ a: torch.ones(3) });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header).toEqual({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } });
  });

  it('property: random float32 state dicts survive a byte round trip', () => {
    const arbTensor = fc
      .array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
      .chain((shape) =>
        fc
          .float32Array({ minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })
          .map((data) => ({ shape, data })),
      );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__' && s !== '__proto__'), arbTensor, { maxKeys: 5 }), (spec) => {
        const sd: Record<string, torch.Tensor> = {};
        for (const [k, { shape, data }] of Object.entries(spec)) sd[k] = torch.tensor(data, { shape });
        const back = decode_safetensors(encode_safetensors(sd));
        expect(new Set(Object.keys(back))).toEqual(new Set(Object.keys(sd)));
        for (const k of Object.keys(sd)) {
          expect(back[k]!.shape).toEqual(sd[k]!.shape);
          const a = flat(back[k]!);
          const b = flat(sd[k]!);
          expect(a.length).toBe(b.length);
          for (let i = 0; i < a.length; i++) expect(Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]))).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('save is atomic: a failed write leaves the old file untouched and no temp file', () => {
    const path = join(dir, 'atomic.safetensors');
    save_safetensors({ a: torch.ones(2) }, path);
    const before = readFileSync(path);
    const bad = { a: torch.ones(2), __metadata__: torch.ones(1) };
    expect(() => save_safetensors(bad, path)).toThrow(/__metadata__/);
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.includes('atomic') && f.endsWith('.tmp'))).toEqual([]);
    expect(() => save_safetensors({ a: torch.ones(2) }, join(dir, 'no/such/dir/x.safetensors'))).toThrow();
  });
});

describe('safetensors dtype conversion', () => {
  it('F16 (normals, subnormals, ±0, ±inf, NaN) → float32', () => {
    const halves = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555];
    const expected = [1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, -0, Infinity, -Infinity, NaN, 0.333251953125];
    const data = new Uint8Array(new Uint16Array(halves).buffer);
    const sd = decode_safetensors(build({ h: { dtype: 'F16', shape: [2, 5], data_offsets: [0, 20] } }, data));
    expect(sd.h!.dtype).toBe('float32');
    expect(sd.h!.shape).toEqual([2, 5]);
    const got = flat(sd.h!);
    got.forEach((v, i) => expect(Object.is(v, expected[i]) || (Number.isNaN(v) && Number.isNaN(expected[i]))).toBe(true));
  });

  it('BF16 → float32 (upper half of the float32 bits)', () => {
    const vals = [1, -3.140625, 1e30, -0, Infinity];
    const u = new Uint32Array(new Float32Array(vals).buffer);
    const h = Uint16Array.from(u, (x) => x >>> 16);
    const sd = decode_safetensors(build({ b: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] } }, new Uint8Array(h.buffer)));
    expect(flat(sd.b!)).toEqual(Array.from(new Float32Array(new Uint32Array(Array.from(h, (x) => x << 16)).buffer)));
    expect(flat(sd.b!)[1]).toBe(-3.140625);
  });

  it('F64 → float32 rounds to nearest', () => {
    const vals = [0.1, 1 / 3, 1e300, -1e-50];
    const sd = decode_safetensors(
      build({ d: { dtype: 'F64', shape: [4], data_offsets: [0, 32] } }, new Uint8Array(new Float64Array(vals).buffer)),
    );
    expect(flat(sd.d!)).toEqual(vals.map(Math.fround));
  });

  it('integer dtypes become int64 tensors; unsupported dtypes are a clear error', () => {
    const i64 = new BigInt64Array([3n, -4n]);
    const sd = decode_safetensors(
      build(
        { n: { dtype: 'I64', shape: [2], data_offsets: [0, 16] }, m: { dtype: 'U8', shape: [1], data_offsets: [16, 17] } },
        [...new Uint8Array(i64.buffer), 200],
      ),
    );
    expect(sd.n!.dtype).toBe('int64');
    expect(flat(sd.n!)).toEqual([3, -4]);
    expect(flat(sd.m!)).toEqual([200]);
    const big = new BigInt64Array([2n ** 60n]);
    expect(() => decode_safetensors(build({ n: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(big.buffer)))).toThrow(/2\^53/);
    expect(() => decode_safetensors(build({ c: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)))).toThrow(
      /dtype C64 is not supported/,
    );
    expect(() => decode_safetensors(build({ c: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)))).toThrow(
      /unknown dtype "Q4"/,
    );
  });

  it('reads the F16/BF16/F64/I64 file written by PyTorch (make_parity_fixtures.py)', () => {
    const path = join(FIXTURES, 'dtypes.safetensors');
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'dtypes.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
    const sd = load_safetensors(path);
    expect(Object.keys(sd)).toEqual(Object.keys(expected));
    for (const [k, e] of Object.entries(expected)) {
      expect(sd[k]!.shape, k).toEqual(e.shape);
      expect(flat(sd[k]!), k).toEqual(e.values.map((v) => (k.startsWith('i64') ? v : Math.fround(v))));
    }
  });
});

describe('safetensors corrupt files', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data = f32bytes([1, 2]);
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['too short', () => new Uint8Array(5), /too short/],
    ['header length past the end', () => {
      const b = build(ok, data);
      new DataView(b.buffer).setUint32(0, 1000, true);
      return b;
    }, /runs past the end/],
    ['header length over the limit', () => {
      const b = build(ok, data);
      new DataView(b.buffer).setUint32(4, 1, true);
      return b;
    }, new RegExp(`exceeds the ${MAX_HEADER_BYTES}-byte limit`)],
    ['invalid UTF-8', () => build(null, data, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/],
    ['not JSON', () => build('{"a": ', data), /not valid JSON/],
    ['not an object', () => build('[1, 2]'), /does not start with/],
    ['JSON null', () => build('null'), /does not start with/],
    ['entry not an object', () => build({ a: 3 }), /entry is not an object/],
    ['missing dtype', () => build({ a: { shape: [2], data_offsets: [0, 8] } }, data), /dtype missing/],
    ['bad shape', () => build({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, data), /shape must be/],
    ['negative shape', () => build({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data), /shape must be/],
    ['bad offsets', () => build({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data), /data_offsets must be/],
    ['reversed offsets', () => build({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data), /end before they begin/],
    ['offsets past the buffer', () => build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), /run past the 8-byte data buffer/],
    ['size mismatch', () => build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), /needs 12 bytes but data_offsets span 8/],
    ['overlap', () => build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data), /overlap/],
    ['gap', () => build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data), /gap in the data buffer at bytes \[0, 4\)/],
    ['trailing bytes', () => build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data), /trailing bytes/],
    ['unknown field', () => build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8], x: 1 } }, data), /unknown field "x"/],
    ['bad metadata', () => build({ __metadata__: { a: 1 }, ...ok }, data), /__metadata__\["a"\] is not a string/],
    ['bad BOOL', () => build({ m: { dtype: 'BOOL', shape: [1], data_offsets: [0, 1] } }, [7]), /BOOL byte 7/],
  ];
  for (const [name, make, re] of cases) {
    it(name, () => {
      expect(() => decode_safetensors(make(), { name: 'weights.bin' })).toThrow(re);
      expect(() => decode_safetensors(make(), { name: 'weights.bin' })).toThrow(/^safetensors: weights\.bin: /);
    });
  }

  it('errors from files name the path; the sane file loads', () => {
    const path = join(dir, 'truncated.safetensors');
    const good = build(ok, data);
    writeFileSync(path, good.subarray(0, good.length - 2));
    expect(() => load_safetensors(path)).toThrow(SafetensorsError);
    expect(() => load_safetensors(path)).toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*run past`));
    expect(() => load_safetensors(join(dir, 'missing.safetensors'))).toThrow(/missing\.safetensors: cannot read file/);
    expect(existsSync(path)).toBe(true);
    expect(flat(load_safetensors(good).a!)).toEqual([1, 2]);
    // Metadata-only and empty files are valid.
    expect(load_safetensors(build({ __metadata__: { k: 'v' } }))).toEqual({});
  });

  it('unaligned data offsets are read correctly', () => {
    // Header of odd length: the F32 data starts at an unaligned file offset.
    let h = JSON.stringify({ b: { dtype: 'F32', shape: [2], data_offsets: [1, 9] }, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } });
    while ((8 + h.length + 1) % 4 !== 2) h += ' ';
    expect((8 + h.length + 1) % 4).not.toBe(0);
    const sd = decode_safetensors(build(h, [9, ...f32bytes([0.5, -7])]));
    expect(Object.keys(sd)).toEqual(['a', 'b']); // file (data) order
    expect(flat(sd.b!)).toEqual([0.5, -7]);
  });
});
