import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import ndarray from 'ndarray';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { get_cmap } from '../src/colormap/colormap.ts';
import { COLORMAP_NAMES, COLORMAP_TABLES } from '../src/colormap/tables.ts';
import { alpha_composite } from '../src/composite/alpha_composite.ts';
import { format_np_output } from '../src/format.ts';
import { convert_to_grayscale, get_positive_negative_saliency, normalize_gradient } from '../src/gradients.ts';
import { make_image, packed_pixels } from '../src/image.ts';
import { percentile } from '../src/percentile.ts';
import { preprocess_image_array, recreate_image } from '../src/preprocess_array.ts';
import { resize } from '../src/resize/pil_resize.ts';
import type { ResampleFilter } from '../src/resize/filters.ts';
import { save_image } from '../src/save_image.ts';
import { readPngRaw } from './helpers/fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'viz-prop-'));
// Degenerate draws legitimately warn; keep the test output quiet.
beforeAll(() => {
  vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterAll(() => {
  vi.restoreAllMocks();
  rmSync(tmp, { recursive: true, force: true });
});

/** A C×H×W float array (float32 or float64) of finite values, including huge and tiny magnitudes. */
const gradientArb = fc
  .record({ c: fc.constantFrom(1, 2, 3), h: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 1, max: 6 }), f32: fc.boolean() })
  .chain(({ c, h, w, f32 }) =>
    fc
      .array(f32 ? fc.float({ noNaN: true, noDefaultInfinity: true }) : fc.double({ noNaN: true, noDefaultInfinity: true }), {
        minLength: c * h * w,
        maxLength: c * h * w,
      })
      .map((vals) => ndarray(f32 ? Float32Array.from(vals) : Float64Array.from(vals), [c, h, w])),
  );

const inUnit = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;

describe('properties', () => {
  it('convert_to_grayscale: 1xHxW, finite, in [0, 1]', () => {
    fc.assert(
      fc.property(gradientArb, (g) => {
        const out = convert_to_grayscale(g);
        expect(out.shape).toEqual([1, g.shape[1], g.shape[2]]);
        expect(Array.from(out.data).every(inUnit)).toBe(true);
      }),
    );
  });

  it('saliency: same shape, in [0, 1], positive and negative maps never overlap', () => {
    fc.assert(
      fc.property(gradientArb, (g) => {
        const [pos, neg] = get_positive_negative_saliency(g);
        expect(pos.shape).toEqual(g.shape);
        for (let i = 0; i < pos.data.length; i++) {
          expect(inUnit(pos.data[i]!) && inUnit(neg.data[i]!)).toBe(true);
          expect(pos.data[i]! * neg.data[i]! === 0).toBe(true);
        }
      }),
    );
  });

  it('normalize_gradient is idempotent and lands in [0, 1]', () => {
    fc.assert(
      fc.property(gradientArb, (g) => {
        const once = normalize_gradient(g);
        const twice = normalize_gradient(once);
        expect(Array.from(once.data).every(inUnit)).toBe(true);
        expect(Array.from(twice.data)).toEqual(Array.from(once.data));
      }),
    );
  });

  it('format_np_output of any finite array yields saveable data; saved PNGs decode (no NaN pixels)', () => {
    let k = 0;
    fc.assert(
      // C = 2 is not an image layout (PIL rejects it too); see the explicit test below
      fc.property(gradientArb.filter((g) => g.shape[0] !== 2), (g) => {
        const f = format_np_output(g);
        expect(Array.from(f.data).every(Number.isFinite)).toBe(true);
        const path = join(tmp, `p${k++}.png`);
        save_image(g, path);
        const png = readPngRaw(path);
        expect(png.width * png.height).toBe(f.shape[0]! * f.shape[1]!);
      }),
      { numRuns: 40 },
    );
  });

  it('save_image rejects a 2xHxW array with a clear error', () => {
    expect(() => save_image(ndarray(new Float64Array(4), [2, 1, 2]), join(tmp, 'two.png'))).toThrow(/cannot make an image from shape \[2, 1, 2\]/);
  });

  const filters: ResampleFilter[] = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'];
  it('resize: requested size, and a constant image stays constant under every filter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(...filters),
        (w, h, ow, oh, v, filter) => {
          const img = make_image('RGB', w, h, new Uint8Array(w * h * 3).fill(v));
          const out = resize(img, [ow, oh], filter);
          expect([out.width, out.height]).toEqual([ow, oh]);
          expect(packed_pixels(out).every((x) => x === v)).toBe(true);
        },
      ),
    );
  });

  it('colormaps: float x in [0, 1) picks entry floor(256 x); RGBA in [0, 1]', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COLORMAP_NAMES), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (name, x) => {
        const rgba = get_cmap(name)(ndarray(Float64Array.of(x), [1])).data;
        const k = Math.floor(x * 256);
        expect(Array.from(rgba)).toEqual([...COLORMAP_TABLES[name].slice(k * 3, k * 3 + 3), 1]);
      }),
    );
  });

  it('alpha_composite: opaque source wins, transparent source keeps the destination', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 3, maxLength: 3 }), (d, s) => {
        const dst = make_image('RGBA', 1, 1, d);
        expect(Array.from(packed_pixels(alpha_composite(dst, make_image('RGBA', 1, 1, Uint8Array.of(s[0]!, s[1]!, s[2]!, 255))))))
          .toEqual([s[0], s[1], s[2], 255]);
        expect(Array.from(packed_pixels(alpha_composite(dst, make_image('RGBA', 1, 1, Uint8Array.of(s[0]!, s[1]!, s[2]!, 0))))))
          .toEqual(Array.from(d));
      }),
    );
  });

  it('recreate_image inverts preprocess_image_array (no resize) exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.uint8Array({ minLength: 192, maxLength: 192 }), (w, h, bytes) => {
        const px = bytes.subarray(0, w * h * 3);
        const back = recreate_image(preprocess_image_array(make_image('RGB', w, h, px), { resize: false }));
        expect(Array.from(back.data)).toEqual(Array.from(px));
      }),
    );
  });

  it('percentile: q=0 is the min, q=100 the max, monotone in q', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 50 }), fc.double({ min: 0, max: 100, noNaN: true }), (xs, q) => {
        expect(percentile(xs, 0) === Math.min(...xs)).toBe(true); // == so that -0 and 0 compare equal
        expect(percentile(xs, 100) === Math.max(...xs)).toBe(true);
        const p = percentile(xs, q);
        expect(p).toBeGreaterThanOrEqual(Math.min(...xs));
        expect(p).toBeLessThanOrEqual(Math.max(...xs));
        expect(percentile(xs, Math.min(100, q + 1))).toBeGreaterThanOrEqual(p - 1e-9 * Math.abs(p));
      }),
    );
  });
});
