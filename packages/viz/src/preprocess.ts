import { from_numpy } from '@gradlens/core';
import type { Tensor } from '@gradlens/core';
import type { Image } from './image.ts';
import { preprocess_image_array } from './preprocess_array.ts';
import type { PreprocessOptions } from './preprocess_array.ts';

/**
 * Prepares an image for a torchvision-style CNN, like the Python helper:
 * resize to 224×224 with LANCZOS (unless `{ resize: false }`), scale to [0, 1],
 * normalise with the ImageNet mean/std, add the batch dimension, and return a
 * 1×3×H×W float32 `@gradlens/core` tensor with `requires_grad` set, ready for
 * gradient visualisations. The numeric work is {@link preprocess_image_array}.
 */
export function preprocess_image(pil_im: Image, options: PreprocessOptions = {}): Tensor {
  const t = from_numpy(preprocess_image_array(pil_im, options));
  t.requires_grad_(true);
  return t;
}
