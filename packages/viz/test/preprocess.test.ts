import ndarray from 'ndarray';
import { describe, expect, it, vi } from 'vitest';
import { read_image } from '../src/io/read_image.ts';
import { preprocess_image_array, recreate_image } from '../src/preprocess_array.ts';
import { fixture, loadNpy, manifest, maxAbsDiff } from './helpers/fixtures.ts';

describe('preprocess_image_array vs numpy', () => {
  it('normalises every possible byte value exactly like numpy float32 (ramp of all 256 values per channel)', () => {
    const out = preprocess_image_array(read_image(fixture('ramp16.png')), { resize: false });
    const gold = loadNpy('prep_ramp16');
    expect(out.shape).toEqual([1, 3, 16, 16]);
    expect(out.dtype).toBe('float32');
    expect(Array.from(out.data)).toEqual(Array.from(gold.data));
  });

  it('on the face image (224x224 LANCZOS + normalise) matches PIL/numpy within one grey level', () => {
    const out = preprocess_image_array(read_image(fixture('AF01HAHR.png')));
    expect(out.shape).toEqual([1, 3, 224, 224]);
    const gold = loadNpy('prep_face_sub7');
    const sub: number[] = [];
    for (let c = 0; c < 3; c++) for (let y = 0; y < 224; y += 7) for (let x = 0; x < 224; x += 7) sub.push(out.get(0, c, y, x));
    // ±1 grey level after /255/std is at most 1/255/0.224 ≈ 0.0176; the resize is bit-exact in practice.
    expect(maxAbsDiff(sub, Array.from(gold.data))).toBeLessThanOrEqual(1 / 255 / 0.224 + 1e-6);
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of out.data) {
      sum += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(Math.abs(sum - manifest.prep_face.sum)).toBeLessThan(224 * 224 * 3 * 0.0176);
    expect(lo).toBeCloseTo(manifest.prep_face.min, 5);
    expect(hi).toBeCloseTo(manifest.prep_face.max, 5);
  });
});

describe('recreate_image vs numpy', () => {
  it('inverts the ramp preprocessing exactly like numpy (float32 steps, np.round half to even)', () => {
    const out = recreate_image(loadNpy('prep_ramp16'));
    expect(out.shape).toEqual([16, 16, 3]);
    expect(Array.from(out.data)).toEqual(Array.from(loadNpy('recreate_ramp16').data));
  });

  it('clips and rounds a random tensor exactly like numpy', () => {
    const out = recreate_image(loadNpy('recreate_in_rand'));
    expect(Array.from(out.data)).toEqual(Array.from(loadNpy('recreate_out_rand').data));
  });

  it('accepts anything with numpy() (a core Tensor) and a 3xHxW array', () => {
    const a = loadNpy('prep_ramp16');
    const viaTensor = recreate_image({ numpy: () => a });
    const unbatched = recreate_image(ndarray(a.data, [3, 16, 16]));
    expect(Array.from(viaTensor.data)).toEqual(Array.from(unbatched.data));
  });

  it('replaces NaN/Inf instead of producing garbage, with one warning', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const out = recreate_image(ndarray(Float32Array.from([NaN, Infinity, -Infinity]), [3, 1, 1]));
      expect(spy).toHaveBeenCalledTimes(1);
      expect(out.data.length).toBe(3);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects arrays without 3 channels', () => {
    expect(() => recreate_image(ndarray(new Float32Array(8), [1, 2, 2, 2]))).toThrow(/3 channels/);
  });
});
