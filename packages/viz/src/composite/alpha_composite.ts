import { make_image, packed_pixels } from '../image.ts';
import type { Image } from '../image.ts';

const PRECISION_BITS = 7;

function shiftForDiv255(a: number): number {
  return ((a >>> 8) + a) >>> 8;
}

/**
 * `PIL.Image.alpha_composite(dst, src)`: `src` over `dst`, both RGBA and the
 * same size, with Pillow's integer arithmetic (7 extra bits of precision,
 * rounded divisions by 255), so the result is bit-identical to PIL's.
 */
export function alpha_composite(dst: Image, src: Image): Image {
  if (dst.mode !== 'RGBA' || src.mode !== 'RGBA') {
    throw new Error(`alpha_composite: both images must be RGBA (got ${dst.mode} and ${src.mode})`);
  }
  if (dst.width !== src.width || dst.height !== src.height) {
    throw new Error(`alpha_composite: images do not match (${dst.width}x${dst.height} vs ${src.width}x${src.height})`);
  }
  const d = packed_pixels(dst);
  const s = packed_pixels(src);
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i += 4) {
    const sa = s[i + 3]!;
    if (sa === 0) {
      out[i] = d[i]!;
      out[i + 1] = d[i + 1]!;
      out[i + 2] = d[i + 2]!;
      out[i + 3] = d[i + 3]!;
      continue;
    }
    const blend = d[i + 3]! * (255 - sa);
    const outa255 = sa * 255 + blend;
    const coef1 = Math.floor((sa * 255 * 255 * (1 << PRECISION_BITS)) / outa255);
    const coef2 = 255 * (1 << PRECISION_BITS) - coef1;
    const round = 0x80 << PRECISION_BITS;
    for (let k = 0; k < 3; k++) {
      const tmp = s[i + k]! * coef1 + d[i + k]! * coef2;
      out[i + k] = shiftForDiv255(tmp + round) >>> PRECISION_BITS;
    }
    out[i + 3] = shiftForDiv255(outa255 + 0x80);
  }
  return make_image('RGBA', dst.width, dst.height, out);
}
