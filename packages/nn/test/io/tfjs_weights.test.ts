import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  decode_tfjs_weights,
  float16_to_float32,
  load_tfjs_weights,
  permute_weight,
  shape_size,
  tf_same_padding,
  tfjs_conv_to_torch,
  tfjs_dense_to_torch,
  tfjs_depthwise_to_torch,
  TfjsWeightsError,
} from '../../src/io/tfjs_weights.ts';
import type { TfjsWeight } from '../../src/io/tfjs_weights.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-weights-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Write manifest + shards into a fresh sub-folder; returns the manifest path. */
function writeModel(name: string, manifest: unknown, shards: Record<string, Uint8Array>, rawManifest?: string): string {
  const sub = join(dir, name);
  rmSync(sub, { recursive: true, force: true });
  mkdirSync(sub, { recursive: true });
  for (const [p, b] of Object.entries(shards)) writeFileSync(join(sub, p), b);
  const mp = join(sub, 'model-weights_manifest.json');
  writeFileSync(mp, rawManifest ?? JSON.stringify(manifest));
  return mp;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const f32 = (...v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);
const i32 = (...v: number[]): Uint8Array => new Uint8Array(new Int32Array(v).buffer);
const u16 = (...v: number[]): Uint8Array => new Uint8Array(new Uint16Array(v).buffer);
const u8 = (...v: number[]): Uint8Array => new Uint8Array(v);

describe('load_tfjs_weights: tiny manifests round-trip', () => {
  it('decodes float32 / int32 / bool / uint8 / uint16 / float16 / legacy {min,scale} across groups and split shards', () => {
    const a = f32(1.5, -2.25, 3, 4, 5, 6); // shape [2,3]
    const b = i32(-7, 8); // int32 [2]
    const c = u8(1, 0, 255); // bool [3]
    const d = u8(0, 1, 2, 255); // uint8 quantized [2,2]
    const e = u16(0, 1000, 65535); // uint16 quantized [3]
    const h = u16(0x3c00, 0xc000, 0x7bff, 0x0001); // float16 [4]
    const l = u8(10, 20); // legacy {min, scale} -> uint8
    const g0 = concat(a, b, c, d);
    // group 0 split mid-weight into 3 shards; group 1 in a single shard
    const shards = { 'g0-shard1of3': g0.slice(0, 5), 'g0-shard2of3': g0.slice(5, 29), 'g0-shard3of3': g0.slice(29), 'g1.bin': concat(e, h, l) };
    const manifest = [
      {
        paths: ['g0-shard1of3', 'g0-shard2of3', 'g0-shard3of3'],
        weights: [
          { name: 'a', shape: [2, 3], dtype: 'float32' },
          { name: 'b', shape: [2], dtype: 'int32' },
          { name: 'c', shape: [3], dtype: 'bool' },
          { name: 'd', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
        ],
      },
      {
        paths: ['g1.bin'],
        weights: [
          { name: 'e', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.001, min: 2 } },
          { name: 'h', shape: [4], dtype: 'float32', quantization: { dtype: 'float16' } },
          { name: 'l', shape: [1, 2], dtype: 'float32', quantization: { min: 0.25, scale: 0.1 } },
        ],
      },
    ];
    const m = load_tfjs_weights(writeModel('roundtrip', manifest, shards));
    expect([...m.keys()]).toEqual(['a', 'b', 'c', 'd', 'e', 'h', 'l']);
    expect(m.get('a')).toEqual({ shape: [2, 3], data: new Float32Array([1.5, -2.25, 3, 4, 5, 6]) });
    expect(Array.from(m.get('b')!.data)).toEqual([-7, 8]);
    expect(Array.from(m.get('c')!.data)).toEqual([1, 0, 1]);
    expect(Array.from(m.get('d')!.data)).toEqual([-1, -0.5, 0, 126.5]);
    expect(Array.from(m.get('e')!.data)).toEqual([2, 3, 67.535].map(Math.fround));
    expect(Array.from(m.get('h')!.data)).toEqual([1, -2, 65504, Math.fround(2 ** -24)]);
    expect(Array.from(m.get('l')!.data)).toEqual([10 * 0.1 + 0.25, 20 * 0.1 + 0.25].map(Math.fround));
    expect(m.get('l')!.shape).toEqual([1, 2]);
    for (const w of m.values()) expect(w.data).toBeInstanceOf(Float32Array);
  });

  it('accepts a model.json with weightsManifest and scalar weights', () => {
    const mp = writeModel('modeljson', { format: 'graph-model', weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 's', shape: [], dtype: 'float32' }] }] }, { 'w.bin': f32(42) });
    expect(load_tfjs_weights(mp).get('s')).toEqual({ shape: [], data: new Float32Array([42]) });
  });

  it('rounds quantized int32 weights like tfjs', () => {
    const mp = writeModel('qint', [{ paths: ['w.bin'], weights: [{ name: 'q', shape: [3], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.3, min: 0 } }] }], { 'w.bin': u8(1, 2, 5) });
    expect(Array.from(load_tfjs_weights(mp).get('q')!.data)).toEqual([0, 1, 2]);
  });
});

describe('quantization arithmetic', () => {
  it('uint8: value = fround(q*scale + min) for every q', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.double({ min: 1e-6, max: 10, noNaN: true }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        (q, scale, min) => {
          const m = decode_tfjs_weights([{ paths: ['x'], weights: [{ name: 'w', shape: [q.length], dtype: 'float32', quantization: { dtype: 'uint8', scale, min } }] }], [q]);
          const got = m.get('w')!.data;
          return Array.from(q).every((v, i) => got[i] === Math.fround(v * scale + min));
        },
      ),
    );
  });

  it('uint16 (little-endian): value = fround(q*scale + min)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 32 }), fc.double({ min: 1e-6, max: 1, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), (q, scale, min) => {
        const bytes = new Uint8Array(q.length * 2);
        q.forEach((v, i) => {
          bytes[2 * i] = v & 0xff;
          bytes[2 * i + 1] = v >> 8;
        });
        const got = decode_tfjs_weights([{ paths: ['x'], weights: [{ name: 'w', shape: [q.length], dtype: 'float32', quantization: { dtype: 'uint16', scale, min } }] }], [bytes]).get('w')!.data;
        return q.every((v, i) => got[i] === Math.fround(v * scale + min));
      }),
    );
  });

  it('float16 decoding matches known bit patterns', () => {
    expect(float16_to_float32(0x0000)).toBe(0);
    expect(Object.is(float16_to_float32(0x8000), -0)).toBe(true);
    expect(float16_to_float32(0x3c00)).toBe(1);
    expect(float16_to_float32(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(float16_to_float32(0x7bff)).toBe(65504);
    expect(float16_to_float32(0x0400)).toBe(2 ** -14);
    expect(float16_to_float32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(float16_to_float32(0x7c00)).toBe(Infinity);
    expect(float16_to_float32(0xfc00)).toBe(-Infinity);
    expect(float16_to_float32(0x7e00)).toBeNaN();
  });
});

describe('decode_tfjs_weights (browser variant)', () => {
  const manifest = [{ paths: ['p1', 'p2'], weights: [{ name: 'w', shape: [2], dtype: 'float32' }, { name: 'v', shape: [1], dtype: 'float32' }] }];
  const all = f32(1, 2, 3);
  it('takes shards as an ordered array of ArrayBuffers or views', () => {
    const m = decode_tfjs_weights(manifest, [all.slice(0, 6).buffer, all.subarray(6)]);
    expect(Array.from(m.get('w')!.data)).toEqual([1, 2]);
    expect(Array.from(m.get('v')!.data)).toEqual([3]);
  });
  it('takes shards as a Map keyed by manifest path', () => {
    const m = decode_tfjs_weights(manifest, new Map([['p2', all.slice(6)], ['p1', all.slice(0, 6)]]));
    expect(Array.from(m.get('w')!.data)).toEqual([1, 2]);
  });
  it('reports a wrong number of shards and a missing map entry', () => {
    expect(() => decode_tfjs_weights(manifest, [all], 'my.json')).toThrow(/my\.json.*expected 2 shard/);
    expect(() => decode_tfjs_weights(manifest, new Map([['p1', all]]))).toThrow(/missing shard 'p2'/);
  });
});

describe('errors name the file and the problem', () => {
  const good = [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [2], dtype: 'float32' }] }];
  it('missing manifest', () => {
    const p = join(dir, 'nope', 'x.json');
    expect(() => load_tfjs_weights(p)).toThrow(TfjsWeightsError);
    expect(() => load_tfjs_weights(p)).toThrow(/nope\/x\.json.*manifest file not found/);
  });
  it('missing shard', () => {
    const mp = writeModel('missing', [{ paths: ['w.bin', 'w2.bin'], weights: good[0]!.weights }], { 'w.bin': f32(1) });
    expect(() => load_tfjs_weights(mp)).toThrow(/missing shard file .*missing\/w2\.bin/);
  });
  it('size mismatch (too few and too many bytes)', () => {
    const few = writeModel('few', good, { 'w.bin': f32(1) });
    expect(() => load_tfjs_weights(few)).toThrow(/few\/model-weights_manifest\.json.*size mismatch in group 0: shard\(s\) \[w\.bin\] hold 4 bytes but .* need 8 bytes/);
    const many = writeModel('many', good, { 'w.bin': f32(1, 2, 3) });
    expect(() => load_tfjs_weights(many)).toThrow(/hold 12 bytes but .* need 8 bytes/);
  });
  it('unknown dtype and unknown quantization dtype', () => {
    const dt = writeModel('dtype', [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [2], dtype: 'float64' }] }], { 'w.bin': f32(1, 2, 3, 4) });
    expect(() => load_tfjs_weights(dt)).toThrow(/dtype\/model-weights_manifest\.json.*weight 'w' has unsupported dtype "float64"/);
    const qd = writeModel('qdtype', [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [2], dtype: 'float32', quantization: { dtype: 'int4', scale: 1, min: 0 } }] }], { 'w.bin': u8(1, 2) });
    expect(() => load_tfjs_weights(qd)).toThrow(/unknown quantization dtype "int4"/);
    const nominmax = writeModel('nominmax', [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8' } }] }], { 'w.bin': u8(1, 2) });
    expect(() => load_tfjs_weights(nominmax)).toThrow(/quantized as uint8 but lacks numeric "min" and "scale"/);
    const f16int = writeModel('f16int', [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [1], dtype: 'int32', quantization: { dtype: 'float16' } }] }], { 'w.bin': u16(1) });
    expect(() => load_tfjs_weights(f16int)).toThrow(/float16-quantized but has dtype int32/);
  });
  it('malformed JSON and malformed structure', () => {
    const bad = writeModel('badjson', null, {}, '[{"paths": ["w.bin"], ');
    expect(() => load_tfjs_weights(bad)).toThrow(/badjson\/model-weights_manifest\.json.*not valid JSON/);
    const notArr = writeModel('notarr', { foo: 1 }, {});
    expect(() => load_tfjs_weights(notArr)).toThrow(/malformed manifest: expected an array/);
    const noPaths = writeModel('nopaths', [{ weights: [] }], {});
    expect(() => load_tfjs_weights(noPaths)).toThrow(/group 0 has no "paths"/);
    const badShape = writeModel('badshape', [{ paths: [], weights: [{ name: 'w', shape: [2, -1], dtype: 'float32' }] }], {});
    expect(() => load_tfjs_weights(badShape)).toThrow(/weight 'w' has an invalid "shape"/);
    const dup = writeModel('dup', [{ paths: ['w.bin'], weights: [good[0]!.weights[0], good[0]!.weights[0]] }], { 'w.bin': f32(1, 2, 3, 4) });
    expect(() => load_tfjs_weights(dup)).toThrow(/duplicate weight name 'w'/);
  });
});

describe('tfjs -> PyTorch layouts', () => {
  const ramp = (shape: number[]): TfjsWeight => ({ shape, data: Float32Array.from({ length: shape_size(shape) }, (_, i) => i) });
  it('conv [KH,KW,IN,OUT] -> [OUT,IN,KH,KW]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (kh, kw, ci, co) => {
        const w = ramp([kh, kw, ci, co]);
        const t = tfjs_conv_to_torch(w);
        expect(t.shape).toEqual([co, ci, kh, kw]);
        for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
          expect(t.data[((o * ci + i) * kh + y) * kw + x]).toBe(w.data[((y * kw + x) * ci + i) * co + o]);
        }
      }),
      { numRuns: 30 },
    );
  });
  it('depthwise [KH,KW,IN,MULT] -> [IN*MULT,1,KH,KW] with out channel = in*MULT + m', () => {
    const [kh, kw, ci, mult] = [3, 2, 4, 3];
    const w = ramp([kh, kw, ci, mult]);
    const t = tfjs_depthwise_to_torch(w);
    expect(t.shape).toEqual([ci * mult, 1, kh, kw]);
    for (let c = 0; c < ci; c++) for (let m = 0; m < mult; m++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
      expect(t.data[((c * mult + m) * kh + y) * kw + x]).toBe(w.data[((y * kw + x) * ci + c) * mult + m]);
    }
  });
  it('dense [IN,OUT] -> [OUT,IN]', () => {
    const w = ramp([3, 2]);
    expect(tfjs_dense_to_torch(w)).toEqual({ shape: [2, 3], data: new Float32Array([0, 2, 4, 1, 3, 5]) });
  });
  it('permute_weight is inverted by the inverse permutation', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }).chain((shape) => fc.tuple(fc.constant(shape), fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }))), ([shape, perm]) => {
        const w = ramp(shape);
        const inv = new Array<number>(perm.length);
        perm.forEach((p, i) => (inv[p] = i));
        expect(permute_weight(permute_weight(w, perm), inv)).toEqual(w);
      }),
      { numRuns: 50 },
    );
    expect(() => permute_weight(ramp([2, 2]), [0, 0])).toThrow(/not a permutation/);
    expect(() => tfjs_dense_to_torch(ramp([2, 2, 2]))).toThrow(/rank-2/);
  });
  it("TF 'same' padding amounts", () => {
    expect(tf_same_padding(112, 3, 2)).toEqual([0, 1]);
    expect(tf_same_padding(56, 3, 1)).toEqual([1, 1]);
    expect(tf_same_padding(56, 3, 2)).toEqual([0, 1]);
    expect(tf_same_padding(28, 3, 2)).toEqual([0, 1]);
    expect(tf_same_padding(14, 3, 2)).toEqual([0, 1]);
    expect(tf_same_padding(7, 3, 1)).toEqual([1, 1]);
    expect(tf_same_padding(7, 3, 2)).toEqual([1, 1]);
    expect(tf_same_padding(7, 1, 1)).toEqual([0, 0]);
  });
});
