import { describe, expect, it } from 'vitest';
import { convert_image, make_image, packed_pixels } from '../src/image.ts';
import { read_image } from '../src/io/read_image.ts';
import { resize } from '../src/resize/pil_resize.ts';
import type { ResampleFilter } from '../src/resize/filters.ts';
import { fixture, manifest, maxAbsDiff, readPngRaw } from './helpers/fixtures.ts';

function loadAs(path: string, gray: boolean) {
  const rgb = read_image(path);
  return gray ? convert_image(rgb, 'L') : rgb;
}

function pixelsOf(path: string, gray: boolean): Uint8Array {
  const raw = readPngRaw(path);
  const n = raw.width * raw.height;
  const c = gray ? 1 : 3;
  const out = new Uint8Array(n * c);
  for (let p = 0; p < n; p++) for (let k = 0; k < c; k++) out[p * c + k] = raw.rgba[p * 4 + k]!;
  return out;
}

const SOURCES: Record<string, string> = {
  face: 'AF01HAHR.png',
  face_gray: 'face_gray.png',
  face_crop48x40: 'face_crop48x40.png',
  face_crop48x40_gray: 'face_crop48x40_gray.png',
};

describe('PIL-compatible resize', () => {
  it('RGB -> L conversion is PIL-exact (source of the gray resize goldens)', () => {
    const ours = packed_pixels(convert_image(read_image(fixture('AF01HAHR.png')), 'L'));
    expect(maxAbsDiff(ours, pixelsOf(fixture('face_gray.png'), true))).toBe(0);
  });

  // Target: within ±1 grey level of PIL (Pillow 9.4) for every filter, up and down, RGB and L.
  // In practice the fixed-point pipeline is reproduced exactly (max difference 0);
  // only libm sin/cos last-bit differences could ever move a weight across a rounding boundary.
  it.each(manifest.resize.map((e) => [e.out, e] as const))('%s', (_name, e) => {
    const gray = e.src.endsWith('gray');
    const src = loadAs(fixture(SOURCES[e.src]!), false);
    const input = gray ? make_image('L', src.width, src.height, pixelsOf(fixture(SOURCES[e.src]!), true)) : src;
    const out = resize(input, e.size, e.filter as ResampleFilter);
    expect([out.width, out.height]).toEqual(e.size);
    const gold = pixelsOf(fixture(e.out), gray);
    expect(maxAbsDiff(packed_pixels(out), gold)).toBeLessThanOrEqual(1);
  });

  it('same size is a copy; invalid sizes and RGBA convolution are rejected clearly', () => {
    const im = read_image(fixture('face_crop48x40.png'));
    const same = resize(im, [48, 40], 'lanczos');
    expect(Array.from(packed_pixels(same))).toEqual(Array.from(packed_pixels(im)));
    expect(() => resize(im, [0, 10])).toThrow(/invalid target size/);
    expect(() => resize(convert_image(im, 'RGBA'), [10, 10], 'bilinear')).toThrow(/RGBA/);
    expect(resize(convert_image(im, 'RGBA'), [10, 10], 'nearest').mode).toBe('RGBA');
  });
});
