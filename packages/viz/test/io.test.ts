import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageDecodeError } from '../src/errors.ts';
import { make_image, packed_pixels } from '../src/image.ts';
import { write_file_atomic } from '../src/io/atomic_write.ts';
import { exif_orientation } from '../src/io/exif.ts';
import { decode_image, read_image } from '../src/io/read_image.ts';
import { encode_png, write_png } from '../src/io/write_png.ts';
import { fixture, loadNpy, manifest, maxAbsDiff } from './helpers/fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'viz-io-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('PNG reading vs PIL convert("RGB")', () => {
  // Exact for every variant: 8/16-bit, 1/2/4-bit gray, gray+alpha, palette (+tRNS), RGBA, colour keys, Adam7.
  it.each(Object.keys(manifest.png_variants))('%s', (name) => {
    const img = read_image(fixture('png', name));
    const gold = loadNpy(`png/${name.replace(/\.png$/, '')}.rgb`);
    expect(img.mode).toBe('RGB');
    expect([img.height, img.width, 3]).toEqual(gold.shape);
    expect(Array.from(packed_pixels(img))).toEqual(Array.from(gold.data));
  });

  it('16-bit gray keeps the high byte (deliberate: PIL 9.4 clips mode "I" at 255, saturating the image)', () => {
    const img = read_image(fixture('png16gray', 'l16.png'));
    expect(Array.from(packed_pixels(img))).toEqual(Array.from(loadNpy('png16gray/l16.highbyte').data));
  });

  it('reads the face image as 160x160 RGB', () => {
    const img = read_image(fixture('AF01HAHR.png'));
    expect([img.width, img.height, img.mode]).toEqual([160, 160, 'RGB']);
    expect(img.data.shape).toEqual([160, 160, 3]);
  });
});

describe('JPEG reading vs PIL (libjpeg)', () => {
  // Not exact: jpeg-js and libjpeg differ in IDCT rounding and chroma upsampling.
  // Measured on these fixtures (max / mean abs diff): 4:4:4 q95 3 / 0.52, gray 1 / 0.08, 4:2:0 q95 10 / 0.94,
  // progressive 5 / 0.77, orientation images (4:4:4 q100) 1 / 0.41; bounds below leave a little slack.
  it.each([
    ['face_q95_444.jpg', 4, 1.0],
    ['face_gray.jpg', 2, 0.5],
    ['face_q95_420.jpg', 12, 1.5],
    ['face_progressive.jpg', 8, 1.5],
  ] as const)('%s: max diff <= %d, mean diff <= %d', (name, maxTol, meanTol) => {
    const img = read_image(fixture('jpeg', name));
    const gold = loadNpy(`jpeg/${name.replace(/\.jpg$/, '')}.rgb`);
    expect([img.height, img.width, 3]).toEqual(gold.shape);
    const ours = packed_pixels(img);
    expect(maxAbsDiff(ours, gold.data)).toBeLessThanOrEqual(maxTol);
    let sum = 0;
    for (let i = 0; i < ours.length; i++) sum += Math.abs(ours[i]! - gold.data[i]!);
    expect(sum / ours.length).toBeLessThanOrEqual(meanTol);
  });

  // Orientation errors would move whole quadrants (differences ~200); decoding noise stays small.
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('EXIF orientation %d is applied like ImageOps.exif_transpose', (o) => {
    const img = read_image(fixture('jpeg', `orient${o}.jpg`));
    const gold = loadNpy(`jpeg/orient${o}.rgb`);
    expect([img.height, img.width, 3]).toEqual(gold.shape);
    expect(maxAbsDiff(packed_pixels(img), gold.data)).toBeLessThanOrEqual(2);
  });

  it('broken EXIF blocks fall back to orientation 1', () => {
    expect(exif_orientation(new Uint8Array(4))).toBe(1);
    expect(exif_orientation(Uint8Array.from([0x45, 0x78, 0x69, 0x66, 0, 0, 0x49, 0x49, 42, 0, 0xff, 0xff, 0, 0]))).toBe(1);
  });
});

describe('malformed image corpus', () => {
  const cases: [string, RegExp][] = [
    ['empty.png', /empty/],
    ['empty.jpg', /empty/],
    ['truncated.png', /truncated/],
    ['truncated_header.png', /truncated/],
    ['wrong_magic.png', /unrecognised or unsupported/],
    ['gif_magic.png', /unrecognised or unsupported/],
    ['bmp_magic.png', /unrecognised or unsupported/],
    ['zero_width.png', /zero-size/],
    ['huge_ihdr.png', /exceeds the limit/],
    ['bad_crc.png', /bad CRC in chunk IDAT/],
    ['bad_ihdr_crc.png', /bad CRC in chunk IHDR/],
    ['bad_zlib.png', /corrupt PNG/],
    ['no_idat.png', /no image data/],
    ['truncated.jpg', /truncated/],
    ['truncated_header.jpg', /truncated|corrupt/],
    ['garbage.jpg', /corrupt JPEG|truncated/],
    ['huge_sof.jpg', /exceeds the limit/],
    ['zero_height.jpg', /zero-size/],
  ];
  it('covers every file of the corpus', () => {
    expect(readdirSync(fixture('malformed')).sort()).toEqual(cases.map((c) => c[0]).sort());
  });
  it.each(cases)('%s -> ImageDecodeError naming the file', (name, reason) => {
    const path = fixture('malformed', name);
    let err: unknown;
    try {
      read_image(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageDecodeError);
    const e = err as ImageDecodeError;
    expect(e.message).toContain(path);
    expect(e.path).toBe(path);
    expect(e.message).toMatch(reason);
  });

  it('a missing file is a plain fs error naming the path', () => {
    expect(() => read_image(join(tmp, 'nope.png'))).toThrow(/nope\.png/);
  });
});

describe('PNG writing', () => {
  it.each(['L', 'RGB', 'RGBA'] as const)('%s round-trips through write_png/read', (mode) => {
    const c = mode === 'L' ? 1 : mode === 'RGB' ? 3 : 4;
    const px = Uint8Array.from({ length: 5 * 3 * c }, (_, i) => (i * 53 + 7) % 256);
    const img = make_image(mode, 5, 3, px);
    const bytes = encode_png(img);
    expect(bytes[25]).toBe({ L: 0, RGB: 2, RGBA: 6 }[mode]);
    const path = join(tmp, `rt_${mode}.png`);
    write_png(img, path);
    const back = read_image(path); // RGB view
    const expected = new Uint8Array(15 * 3);
    for (let p = 0; p < 15; p++) for (let k = 0; k < 3; k++) expected[p * 3 + k] = px[p * c + (c === 1 ? 0 : k)]!;
    expect(Array.from(packed_pixels(back))).toEqual(Array.from(expected));
    expect(decode_image(bytes).width).toBe(5);
  });

  it('write_file_atomic replaces the target and leaves no temporary files; failures leave nothing', () => {
    const dir = join(tmp, 'atomic');
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(join(tmp, 'placeholder'), '');
    expect(() => write_file_atomic(join(dir, 'x.bin'), new Uint8Array(3))).toThrow();
    const path = join(tmp, 'atomic.bin');
    write_file_atomic(path, Uint8Array.from([1, 2, 3]));
    write_file_atomic(path, Uint8Array.from([4, 5]));
    expect(readdirSync(tmp).filter((f) => f.includes('atomic'))).toEqual(['atomic.bin']);
    // renaming onto a directory fails: the temporary file must be cleaned up
    expect(() => write_file_atomic(tmp, Uint8Array.from([1]))).toThrow();
    expect(readdirSync(join(tmp, '..')).filter((f) => f.endsWith('.tmp') && f.includes('viz-io-'))).toEqual([]);
  });
});
