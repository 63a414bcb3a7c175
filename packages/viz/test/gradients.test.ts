import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { convert_to_grayscale, get_positive_negative_saliency, normalize_gradient, save_gradient_images } from '../src/gradients.ts';
import { fixture, loadNpy, readPngRaw } from './helpers/fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'viz-grad-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function warnings<T>(fn: () => T): { result: T; messages: string[] } {
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    const result = fn();
    return { result, messages: spy.mock.calls.map((c) => String(c[0])) };
  } finally {
    spy.mockRestore();
  }
}

describe.each(['f32', 'f64'])('goldens vs numpy (%s gradient)', (tag) => {
  const g = loadNpy(`grad_${tag}`);

  it('convert_to_grayscale matches numpy exactly (same float precision, same percentile lerp)', () => {
    const gold = loadNpy(`gray_${tag}`);
    const { result, messages } = warnings(() => convert_to_grayscale(g));
    expect(messages).toEqual([]);
    expect(result.shape).toEqual(gold.shape);
    expect(result.dtype).toBe(gold.dtype);
    expect(Array.from(result.data)).toEqual(Array.from(gold.data));
  });

  it('get_positive_negative_saliency matches numpy exactly', () => {
    const [pos, neg] = get_positive_negative_saliency(g);
    expect(Array.from(pos.data)).toEqual(Array.from(loadNpy(`pos_${tag}`).data));
    expect(Array.from(neg.data)).toEqual(Array.from(loadNpy(`neg_${tag}`).data));
    expect(pos.shape).toEqual(g.shape);
  });

  // Exact: normalisation and astype(uint8) truncation are reproduced step by step.
  it.each(['color', 'gray', 'pos_sal', 'neg_sal'])('save_gradient_images(%s) writes the same pixels as PIL', (kind) => {
    const input =
      kind === 'color' ? g : kind === 'gray' ? convert_to_grayscale(g) : get_positive_negative_saliency(g)[kind === 'pos_sal' ? 0 : 1];
    const path = save_gradient_images(input, `${tag}_${kind}`, { dir: join(tmp, tag) });
    expect(path).toBe(join(tmp, tag, `${tag}_${kind}.png`));
    const ours = readPngRaw(path);
    const gold = readPngRaw(fixture(`saved_${tag}_${kind}.png`));
    expect([ours.width, ours.height, ours.colorType]).toEqual([gold.width, gold.height, gold.colorType]);
    expect(Buffer.compare(Buffer.from(ours.rgba), Buffer.from(gold.rgba))).toBe(0);
  });
});

describe('degenerate input', () => {
  it('an all-zero gradient saves as a black image with one warning, no NaN', () => {
    const z = ndarray(new Float32Array(3 * 4 * 5), [3, 4, 5]);
    const { result: path, messages } = warnings(() => save_gradient_images(z, 'zero', { dir: join(tmp, 'degenerate') }));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/constant gradient/);
    const png = readPngRaw(path);
    for (let i = 0; i < png.rgba.length; i += 4) expect([png.rgba[i], png.rgba[i + 1], png.rgba[i + 2]]).toEqual([0, 0, 0]);
  });

  it('a constant gradient gives an all-zero grayscale map and a warning', () => {
    const c = ndarray(new Float64Array(3 * 6).fill(0.25), [3, 2, 3]);
    const { result, messages } = warnings(() => convert_to_grayscale(c));
    expect(Array.from(result.data)).toEqual(new Array(6).fill(0));
    expect(messages).toHaveLength(1);
  });

  it('a map whose 99th percentile is its minimum is binarised, with a warning', () => {
    const data = new Float64Array(3 * 200);
    data[7] = 5; // one hot pixel out of 200: below the 99th percentile's reach
    const { result, messages } = warnings(() => convert_to_grayscale(ndarray(data, [3, 10, 20])));
    expect(messages).toHaveLength(1);
    expect(Array.from(result.data).filter((v) => v === 1)).toHaveLength(1);
    expect(result.data[7]).toBe(1);
    expect(Array.from(result.data).every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('no positive part: positive saliency is zero, negative is computed, one warning', () => {
    const g = ndarray(Float32Array.from([-1, -2, -4, 0]), [1, 2, 2]);
    const { result, messages } = warnings(() => get_positive_negative_saliency(g));
    const [pos, neg] = result;
    expect(Array.from(pos.data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(neg.data, (v) => v + 0)).toEqual([0.25, 0.5, 1, 0]); // -0 (numpy's maximum(0, -0.0)) compared as 0
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/no positive values/);
  });

  it('no negative part: negative saliency is zero', () => {
    const g = ndarray(Float64Array.from([0, 1, 2, 4]), [4]);
    const { result, messages } = warnings(() => get_positive_negative_saliency(g));
    expect(Array.from(result[0].data)).toEqual([0, 0.25, 0.5, 1]);
    expect(Array.from(result[1].data)).toEqual([0, 0, 0, 0]);
    expect(messages[0]).toMatch(/no negative values/);
  });

  it('NaN and Inf are replaced (NaN -> 0, Inf -> extreme finite) with a single warning', () => {
    const g = ndarray(Float64Array.from([NaN, Infinity, -Infinity, 2, -1, 0]), [1, 2, 3]);
    const { result, messages } = warnings(() => get_positive_negative_saliency(g));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/non-finite/);
    expect(Array.from(result[0].data, (v) => v + 0)).toEqual([0, 1, 0, 1, 0, 0]);
    expect(Array.from(result[1].data, (v) => v + 0)).toEqual([0, 0, 1, 0, 1, 0]);
    const gray = warnings(() => convert_to_grayscale(g)).result;
    expect(Array.from(gray.data).every(Number.isFinite)).toBe(true);
  });

  it('an all-NaN gradient saves as a black image', () => {
    const g = ndarray(new Float32Array(12).fill(NaN), [3, 2, 2]);
    const { result: path, messages } = warnings(() => save_gradient_images(g, 'nan', { dir: join(tmp, 'degenerate') }));
    expect(messages).toHaveLength(1);
    expect(Array.from(readPngRaw(path).rgba).filter((_, i) => i % 4 !== 3).every((v) => v === 0)).toBe(true);
  });

  it('save_gradient_images creates the output folder and leaves no temporary files', () => {
    const dir = join(tmp, 'a', 'b', 'c');
    const g = ndarray(Float64Array.from([0, 1, 2, 3]), [2, 2]);
    save_gradient_images(g, 'made', { dir });
    expect(readdirSync(dir)).toEqual(['made.png']);
  });

  it('normalize_gradient rejects an empty array', () => {
    expect(() => normalize_gradient(ndarray(new Float64Array(0), [0]))).toThrow(/empty/);
  });
});
