import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { format_np_output } from '../src/format.ts';
import { make_image } from '../src/image.ts';
import { save_image } from '../src/save_image.ts';
import { fixture, loadNpy, readPngRaw } from './helpers/fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'viz-fmt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CASES = ['hw_f64', 'chw1_f32', 'chw3_f32', 'hwc_u8', 'chw3_big_f64', 'edges_f32', 'edges_f64'];

describe('format_np_output vs numpy', () => {
  // Exact: layout changes are exact and (a*255).astype(uint8) is reproduced in the input's precision.
  it.each(CASES)('%s', (name) => {
    const input = loadNpy(`fmt_in_${name}`);
    const gold = loadNpy(`fmt_out_${name}`);
    const out = format_np_output(input);
    expect(out.shape).toEqual(gold.shape);
    expect(out.dtype).toBe(gold.dtype);
    expect(Array.from(out.data)).toEqual(Array.from(gold.data));
  });
});

describe('save_image vs PIL', () => {
  // Exact: same uint8 pixels, same PNG colour type (compared after decoding, not byte-wise).
  it.each(['hw_f64', 'chw1_f32', 'chw3_f32', 'hwc_u8', 'edges_f32'])('%s', (name) => {
    const path = join(tmp, `${name}.png`);
    save_image(loadNpy(`fmt_in_${name}`), path);
    const ours = readPngRaw(path);
    const gold = readPngRaw(fixture(`save_${name}.png`));
    expect([ours.width, ours.height, ours.colorType]).toEqual([gold.width, gold.height, gold.colorType]);
    expect(Buffer.compare(Buffer.from(ours.rgba), Buffer.from(gold.rgba))).toBe(0);
  });

  it('saves an Image as is (RGBA kept)', () => {
    const px = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const path = join(tmp, 'img.png');
    save_image(make_image('RGBA', 3, 2, px), path);
    const back = readPngRaw(path);
    expect(back.colorType).toBe(6);
    expect(Array.from(back.rgba)).toEqual(Array.from(px));
  });

  it('rejects non-PNG paths and leaves nothing behind', () => {
    expect(() => save_image(ndarray(new Float64Array(4), [2, 2]), join(tmp, 'x.jpg'))).toThrow(/only PNG/);
    expect(readdirSync(tmp).filter((f) => f.startsWith('x.') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('fails atomically: a write into a missing folder leaves no file or temporary', () => {
    const dir = join(tmp, 'does-not-exist');
    expect(() => save_image(ndarray(new Float64Array(4), [2, 2]), join(dir, 'a.png'))).toThrow();
    expect(() => readdirSync(dir)).toThrow();
  });

  it('clips out-of-range values (max > 1 means 0-255 data) with a warning and never writes NaN', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const a = ndarray(Float64Array.from([-20, 300, NaN, 128.7]), [2, 2]);
      const path = join(tmp, 'clip.png');
      save_image(a, path);
      const back = readPngRaw(path);
      expect([back.rgba[0], back.rgba[4], back.rgba[8], back.rgba[12]]).toEqual([0, 255, 0, 128]);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(String(spy.mock.calls[0]![0])).toMatch(/non-finite.*clipped|clipped/);
    } finally {
      spy.mockRestore();
    }
  });
});
