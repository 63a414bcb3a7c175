/**
 * @gradlens/viz — the classic CNN-visualisation helpers of
 * pytorch-cnn-visualizations (`misc_functions.py`), numerically faithful to
 * numpy / PIL / matplotlib. Functions take and return scijs `ndarray`s (the
 * numpy analogue) and {@link Image}s (the PIL analogue).
 *
 * @packageDocumentation
 */
export { convert_to_grayscale, get_positive_negative_saliency, normalize_gradient, save_gradient_images } from './gradients.ts';
export type { FloatArray, SaveGradientOptions } from './gradients.ts';
export { format_np_output } from './format.ts';
export type { FormattedArray } from './format.ts';
export { save_image } from './save_image.ts';
export { preprocess_image_array, recreate_image, IMAGENET_MEAN, IMAGENET_STD } from './preprocess_array.ts';
export type { HasNumpy, PreprocessOptions } from './preprocess_array.ts';
export { preprocess_image } from './preprocess.ts';
export { apply_colormap_on_image, save_class_activation_images } from './cam.ts';
export type { SaveCamOptions, SavedCamPaths } from './cam.ts';
export { get_cmap, COLORMAP_N } from './colormap/colormap.ts';
export type { Colormap } from './colormap/colormap.ts';
export { COLORMAP_NAMES } from './colormap/tables.ts';
export type { ColormapName } from './colormap/tables.ts';
export { alpha_composite } from './composite/alpha_composite.ts';
export { resize } from './resize/pil_resize.ts';
export { Resampling } from './resize/filters.ts';
export type { ResampleFilter } from './resize/filters.ts';
export { percentile } from './percentile.ts';
export { read_image, decode_image } from './io/read_image.ts';
export { write_png, encode_png } from './io/write_png.ts';
export { write_file_atomic } from './io/atomic_write.ts';
export { apply_orientation } from './io/orientation.ts';
export { ImageDecodeError, MAX_IMAGE_PIXELS } from './errors.ts';
export { make_image, convert_image, image_from_array, packed_pixels, channels_of, is_image } from './image.ts';
export type { Image, ImageMode } from './image.ts';
export type { NumericArray, FloatKind } from './util/arrays.ts';
