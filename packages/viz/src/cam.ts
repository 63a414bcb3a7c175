import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { get_cmap } from './colormap/colormap.ts';
import { alpha_composite } from './composite/alpha_composite.ts';
import { convert_image, make_image } from './image.ts';
import type { Image } from './image.ts';
import { save_image_with } from './save_image.ts';
import type { NumericArray } from './util/arrays.ts';
import { WarningCollector } from './util/warn.ts';

/**
 * Colours an activation map and lays it over an image, like the Python helper.
 * `activation` is an H×W ndarray matching the image: integer arrays index the
 * colormap's 256 entries, float arrays in [0, 1] are scaled (matplotlib's rule).
 * Returns `[heatmap, heatmap_on_image]`, both RGBA: the opaque heatmap, and the
 * image with the heatmap (alpha 0.4 → 102) composited over it with PIL's
 * `alpha_composite` arithmetic. NaN activations use matplotlib's transparent
 * "bad" colour, with a warning.
 */
export function apply_colormap_on_image(org_im: Image, activation: NumericArray, colormap_name: string): [Image, Image] {
  const w = new WarningCollector('apply_colormap_on_image');
  const out = applyWith(org_im, activation, colormap_name, w);
  w.flush();
  return out;
}

function applyWith(org_im: Image, activation: NumericArray, colormap_name: string, w: WarningCollector): [Image, Image] {
  const cmap = get_cmap(colormap_name);
  const s = activation.shape;
  if (s.length !== 2 || s[0] !== org_im.height || s[1] !== org_im.width) {
    throw new Error(
      `apply_colormap_on_image: activation shape [${s.join(', ')}] does not match the ${org_im.width}x${org_im.height} image (expected [${org_im.height}, ${org_im.width}])`,
    );
  }
  const rgba = cmap(activation).data;
  const n = org_im.width * org_im.height;
  const heat = new Uint8Array(n * 4);
  const opaque = new Uint8Array(n * 4);
  const alpha = Math.trunc(0.4 * 255);
  let bad = 0;
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) {
      const b = Math.trunc(rgba[p * 4 + k]! * 255);
      heat[p * 4 + k] = b;
      opaque[p * 4 + k] = b;
    }
    const a = rgba[p * 4 + 3]!;
    if (a === 0) bad++;
    opaque[p * 4 + 3] = Math.trunc(a * 255);
    heat[p * 4 + 3] = alpha;
  }
  if (bad > 0) w.add(`${bad} NaN activation value(s) drawn with the transparent 'bad' colour`);
  const { width, height } = org_im;
  const blank = make_image('RGBA', width, height, new Uint8Array(n * 4));
  let on = alpha_composite(blank, convert_image(org_im, 'RGBA'));
  on = alpha_composite(on, make_image('RGBA', width, height, heat));
  return [make_image('RGBA', width, height, opaque), on];
}

/** Options of {@link save_class_activation_images}. */
export interface SaveCamOptions {
  /** Output folder, created if missing (default `results`). */
  dir?: string;
  /** Colormap name (default `hsv`, as the Python). */
  colormap?: string;
}

/** Paths written by {@link save_class_activation_images}. */
export interface SavedCamPaths {
  heatmap: string;
  on_image: string;
  grayscale: string;
}

/**
 * Saves a class activation map three ways, like the Python helper:
 * `<file_name>_Cam_Heatmap.png` (coloured map), `<file_name>_Cam_On_Image.png`
 * (map over the image) and `<file_name>_Cam_Grayscale.png` (the map itself via
 * {@link save_image}). `activation_map` is H×W: floats in [0, 1] or 0–255 integers.
 */
export function save_class_activation_images(
  org_img: Image,
  activation_map: NumericArray,
  file_name: string,
  options: SaveCamOptions = {},
): SavedCamPaths {
  const dir = options.dir ?? 'results';
  mkdirSync(dir, { recursive: true });
  const w = new WarningCollector('save_class_activation_images');
  const [heatmap, onImage] = applyWith(org_img, activation_map, options.colormap ?? 'hsv', w);
  const paths: SavedCamPaths = {
    heatmap: join(dir, `${file_name}_Cam_Heatmap.png`),
    on_image: join(dir, `${file_name}_Cam_On_Image.png`),
    grayscale: join(dir, `${file_name}_Cam_Grayscale.png`),
  };
  save_image_with(heatmap, paths.heatmap, w);
  save_image_with(onImage, paths.on_image, w);
  save_image_with(activation_map, paths.grayscale, w);
  w.flush();
  return paths;
}
