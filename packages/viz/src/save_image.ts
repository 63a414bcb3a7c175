import ndarray from 'ndarray';
import { formatWith } from './format.ts';
import { image_from_array, is_image } from './image.ts';
import type { Image } from './image.ts';
import { write_png } from './io/write_png.ts';
import type { NumericArray } from './util/arrays.ts';
import { WarningCollector } from './util/warn.ts';

/**
 * Saves an ndarray or an {@link Image} as a PNG file, like the Python helper:
 * arrays go through {@link format_np_output} first. Arrays whose maximum is
 * above 1 are taken as 0–255 values (clipped and truncated to uint8, with a
 * warning if anything had to be clipped). The write is atomic. Only `.png`
 * paths are accepted.
 */
export function save_image(im: NumericArray | Image, path: string): void {
  const w = new WarningCollector('save_image');
  save_image_with(im, path, w);
  w.flush();
}

/** {@link save_image} reporting into an existing warning collector. */
export function save_image_with(im: NumericArray | Image, path: string, w: WarningCollector): void {
  if (!/\.png$/i.test(path)) throw new Error(`save_image: only PNG output is supported, got "${path}"`);
  if (is_image(im)) {
    write_png(im, path);
    return;
  }
  const f = formatWith(im, w);
  let bytes: Uint8Array;
  if (f.dtype === 'uint8') bytes = f.data as Uint8Array;
  else {
    const src = f.data;
    bytes = new Uint8Array(src.length);
    let clipped = 0;
    for (let i = 0; i < src.length; i++) {
      const x = Math.trunc(src[i]!);
      if (x < 0 || x > 255) clipped++;
      bytes[i] = x < 0 ? 0 : x > 255 ? 255 : x;
    }
    if (clipped > 0) w.add(`${clipped} value(s) outside 0-255 clipped`);
  }
  write_png(image_from_array(ndarray(bytes, f.shape)), path);
}
