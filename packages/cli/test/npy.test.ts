/** The .npy writer produces exactly numpy.save's bytes (fixtures made by fixtures/make_npy_fixtures.py). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { encode_npy, npy_header, parse_npy } from '../src/npy.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(fixtures, name)));

describe('npy writer', () => {
  it.each([
    ['npy_f4_2x3x4.npy', [2, 3, 4]],
    ['npy_f4_3.npy', [3]],
    ['npy_f4_scalar.npy', []],
    ['npy_f4_1x1234567890x0.npy', [1, 1234567890, 0]],
    ['npy_f4_3x5x7.npy', [3, 5, 7]],
  ] as const)('writes the same bytes as numpy.save for %s', (name, shape) => {
    const numpy = read(name);
    const parsed = parse_npy(numpy);
    expect(parsed.shape).toEqual(shape);
    expect(parsed.descr).toBe('<f4');
    expect(parsed.fortran_order).toBe(false);
    const mine = encode_npy(parsed.data, shape);
    expect(Buffer.from(mine).equals(Buffer.from(numpy))).toBe(true);
  });

  it('keeps special values bit for bit (-0, subnormal, inf)', () => {
    const p = parse_npy(read('npy_f4_2x3x4.npy'));
    expect(Object.is(p.data[0], -0)).toBe(true);
    expect(p.data[1 * 12 + 1]).toBe(Infinity);
    expect(p.data[23]).toBeGreaterThan(0);
    expect(p.data[23]).toBeLessThan(1.2e-38);
  });

  it('header: v1.0 magic, 64-byte aligned data, newline-terminated dict', () => {
    const bytes = encode_npy(new Float32Array(3 * 112 * 112), [3, 112, 112]);
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = bytes[8]! | (bytes[9]! << 8);
    expect((10 + hlen) % 64).toBe(0);
    const header = Buffer.from(bytes.subarray(10, 10 + hlen)).toString('latin1');
    expect(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 112, 112), }")).toBe(true);
    expect(header.endsWith('\n')).toBe(true);
    expect(bytes.length).toBe(10 + hlen + 4 * 3 * 112 * 112);
    expect(npy_header([3, 112, 112])).toBe(header);
  });

  it('round-trips arbitrary float32 arrays', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }), fc.integer(), (shape, seed) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = new Float32Array(n);
        let s = seed | 0;
        for (let i = 0; i < n; i++) {
          s = (Math.imul(s, 1103515245) + 12345) | 0;
          data[i] = (s % 100000) / 7;
        }
        const p = parse_npy(encode_npy(data, shape));
        expect(p.shape).toEqual(shape);
        expect(p.data).toEqual(data);
        expect(p.data_offset % 64).toBe(0);
      }),
    );
  });

  it('rejects data that does not fill the shape', () => {
    expect(() => encode_npy(new Float32Array(5), [2, 3])).toThrow(/do not fill/);
  });
});
