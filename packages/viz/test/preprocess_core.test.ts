// Needs @gradlens/core (from_numpy, Tensor.requires_grad_, Tensor.numpy, Tensor.shape).
import { describe, expect, it } from 'vitest';
import { preprocess_image, recreate_image } from '../src/index.ts';
import { read_image } from '../src/io/read_image.ts';
import { fixture, loadNpy } from './helpers/fixtures.ts';

describe('preprocess_image (core tensor)', () => {
  it('returns a 1x3x224x224 tensor that requires grad, holding preprocess_image_array values', () => {
    const t = preprocess_image(read_image(fixture('AF01HAHR.png')));
    expect(t.shape).toEqual([1, 3, 224, 224]);
    expect(t.requires_grad).toBe(true);
    const gold = loadNpy('prep_face_sub7');
    expect(Math.abs(t.detach().numpy().get(0, 0, 0, 0) - gold.get(0, 0, 0))).toBeLessThan(0.02);
  });

  it('round-trips through recreate_image exactly without resizing', () => {
    const t = preprocess_image(read_image(fixture('ramp16.png')), { resize: false });
    expect(Array.from(recreate_image(t).data)).toEqual(Array.from(loadNpy('recreate_ramp16').data));
  });
});
