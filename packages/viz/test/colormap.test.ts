import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { apply_colormap_on_image, save_class_activation_images } from '../src/cam.ts';
import { get_cmap } from '../src/colormap/colormap.ts';
import { COLORMAP_NAMES } from '../src/colormap/tables.ts';
import { alpha_composite } from '../src/composite/alpha_composite.ts';
import { make_image, packed_pixels } from '../src/image.ts';
import type { Image } from '../src/image.ts';
import { read_image } from '../src/io/read_image.ts';
import { fixture, loadNpy, readPngRaw } from './helpers/fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'viz-cam-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectSamePixels(img: Image, goldPath: string): void {
  const gold = readPngRaw(goldPath);
  expect([img.width, img.height]).toEqual([gold.width, gold.height]);
  expect(img.mode).toBe('RGBA');
  expect(Buffer.compare(Buffer.from(packed_pixels(img)), Buffer.from(gold.rgba))).toBe(0);
}

describe('matplotlib colormaps', () => {
  // Exact: the tables are matplotlib's own float64 values and the index rule is reproduced.
  describe.each([...COLORMAP_NAMES])('%s', (name) => {
    const cmap = get_cmap(name);
    it.each(['f64', 'f32', 'i64', 'u8'])('%s input matches matplotlib exactly', (kind) => {
      const input = kind === 'u8' ? ndarray(Uint8Array.from({ length: 256 }, (_, i) => i), [256]) : loadNpy(`cmap_in_${kind}`);
      const gold = loadNpy(`cmap_${name}_${kind}`);
      const out = cmap(input);
      expect(out.shape).toEqual(gold.shape);
      expect(Array.from(out.data)).toEqual(Array.from(gold.data));
    });
  });

  it('unknown names fail clearly', () => {
    expect(() => get_cmap('nope')).toThrow(/unknown colormap 'nope'.*hsv/);
  });
});

describe('alpha_composite vs PIL', () => {
  it('is bit-exact on random RGBA pairs including alpha 0, 1 and 255', () => {
    const dst = loadNpy('composite_dst');
    const src = loadNpy('composite_src');
    const out = alpha_composite(
      make_image('RGBA', 16, 16, dst.data as Uint8Array),
      make_image('RGBA', 16, 16, src.data as Uint8Array),
    );
    expect(Array.from(packed_pixels(out))).toEqual(Array.from(loadNpy('composite_out').data));
  });

  it('rejects mismatched sizes and modes', () => {
    const a = make_image('RGBA', 2, 2, new Uint8Array(16));
    expect(() => alpha_composite(a, make_image('RGBA', 1, 2, new Uint8Array(8)))).toThrow(/do not match/);
    expect(() => alpha_composite(a, make_image('RGB', 2, 2, new Uint8Array(12)))).toThrow(/RGBA/);
  });
});

describe('apply_colormap_on_image vs PIL/matplotlib', () => {
  const face = read_image(fixture('AF01HAHR.png'));
  const crop = read_image(fixture('face_crop48x40.png'));
  const full = loadNpy('cam_act_full_u8');
  const act = ndarray(Float64Array.from(full.data, (v) => v / 255), full.shape); // Grad-CAM's uint8 map / 255

  // Exact: colormap lookup, astype(uint8) truncation and PIL's integer alpha_composite are reproduced.
  it('hsv on the face image (Grad-CAM style float map)', () => {
    const [heat, on] = apply_colormap_on_image(face, act, 'hsv');
    expectSamePixels(heat, fixture('cam', 'hsv_heatmap.png'));
    expectSamePixels(on, fixture('cam', 'hsv_on_image.png'));
  });

  describe.each([...COLORMAP_NAMES])('%s on a crop', (name) => {
    it.each(['u8', 'f32'])('%s activation', (tag) => {
      const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        const [heat, on] = apply_colormap_on_image(crop, loadNpy(`cam_act_${tag}`), name);
        expectSamePixels(heat, fixture('cam', `${name}_${tag}_heatmap.png`));
        expectSamePixels(on, fixture('cam', `${name}_${tag}_on_image.png`));
        // the f32 map holds one NaN: drawn transparent, reported once
        expect(spy).toHaveBeenCalledTimes(tag === 'f32' ? 1 : 0);
      } finally {
        spy.mockRestore();
      }
    });
  });

  it('save_class_activation_images writes the three PIL-identical files', () => {
    const dir = join(tmp, 'cam');
    const paths = save_class_activation_images(face, act, 'face', { dir });
    expect(readdirSync(dir).sort()).toEqual(['face_Cam_Grayscale.png', 'face_Cam_Heatmap.png', 'face_Cam_On_Image.png']);
    const check = (path: string, gold: string) => {
      const a = readPngRaw(path);
      const b = readPngRaw(fixture('cam', gold));
      expect(a.colorType).toBe(b.colorType);
      expect(Buffer.compare(Buffer.from(a.rgba), Buffer.from(b.rgba))).toBe(0);
    };
    check(paths.heatmap, 'hsv_heatmap.png');
    check(paths.on_image, 'hsv_on_image.png');
    check(paths.grayscale, 'hsv_grayscale.png');
  });

  it('rejects an activation map of the wrong shape', () => {
    expect(() => apply_colormap_on_image(crop, ndarray(new Float64Array(4), [2, 2]), 'jet')).toThrow(/does not match/);
  });
});
