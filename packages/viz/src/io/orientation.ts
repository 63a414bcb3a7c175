import { make_image, packed_pixels } from '../image.ts';
import type { Image } from '../image.ts';

/**
 * Applies an EXIF orientation (1..8) so the pixels come out upright, as
 * `PIL.ImageOps.exif_transpose` does: 2 mirror, 3 rotate 180, 4 flip,
 * 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
 */
export function apply_orientation(image: Image, orientation: number): Image {
  if (orientation <= 1 || orientation > 8) return image;
  const w = image.width;
  const h = image.height;
  const c = image.data.shape[2]!;
  const src = packed_pixels(image);
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(src.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        default: sx = w - 1 - y; sy = x; break; // 8
      }
      const o = (y * ow + x) * c;
      const i = (sy * w + sx) * c;
      for (let k = 0; k < c; k++) out[o + k] = src[i + k]!;
    }
  }
  return make_image(image.mode, ow, oh, out);
}
