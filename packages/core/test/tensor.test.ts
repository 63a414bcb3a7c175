/** Tensor creation, data access and the seed's idioms. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as torch from '../src/index.ts';
import { flat } from './helpers.ts';

describe('tensors', () => {
  it('creation: dtypes, shapes, like-constructors, FloatTensor sizes or data', () => {
    expect(torch.tensor([1, 2]).dtype).toBe('float32'); // PyTorch: int64 (JS cannot tell 1 from 1.0)
    expect(torch.tensor([[1, 2]], { dtype: 'float64' }).shape).toEqual([1, 2]);
    expect(torch.tensor([true, false]).dtype).toBe('bool');
    expect(torch.tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] }).dtype).toBe('float64');
    expect(torch.zeros(2, 3).shape).toEqual([2, 3]);
    expect(flat(torch.ones([2]))).toEqual([1, 1]);
    expect(flat(torch.full([2], 7))).toEqual([7, 7]);
    expect(torch.arange(4).dtype).toBe('int64');
    expect(flat(torch.arange(1, 2, 0.25))).toEqual([1, 1.25, 1.5, 1.75]);
    expect(torch.zeros_like(torch.ones(2, 1, { dtype: 'float64' })).dtype).toBe('float64');
    expect(flat(torch.ones_like(torch.zeros(3)))).toEqual([1, 1, 1]);
    const f = torch.FloatTensor(1, 7);
    expect([f.dtype, f.shape, f.size(-1), f.dim(), f.numel()]).toEqual(['float32', [1, 7], 7, 2, 7]);
    expect(torch.FloatTensor([[1, 2]]).tolist()).toEqual([[1, 2]]);
    expect(torch.tensor(3).item()).toBe(3);
    expect(() => torch.ones(2).item()).toThrow(/cannot be converted to Scalar/);
    expect(() => torch.tensor([[1, 2], [3]])).toThrow(/ragged/);
  });

  it('rand/randn are deterministic under manual_seed', () => {
    torch.manual_seed(42);
    const a = flat(torch.randn(5));
    const u = flat(torch.rand(3));
    torch.manual_seed(42);
    expect(flat(torch.randn(5))).toEqual(a);
    expect(flat(torch.rand(3))).toEqual(u);
    expect(u!.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('numpy() shares storage; .data.numpy().pick(0) is .data.numpy()[0]', () => {
    const t = torch.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], { requires_grad: true });
    expect(() => t.numpy()).toThrow(/Use tensor.detach\(\).numpy\(\) instead/);
    const first = t.data.numpy().pick(0);
    expect(first.shape).toEqual([2, 2]);
    expect(first.get(1, 0)).toBe(3);
    const arr = t.detach().numpy();
    arr.set(0, 0, 0, 100);
    expect(flat(t.detach())![0]).toBe(100);
    const back = torch.from_numpy(arr);
    expect(back.shape).toEqual([2, 2, 2]);
  });

  it('the seed\'s one-hot idiom: FloatTensor(1, n).zero_() then setitem([0, k], 1)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))), ([n, k]) => {
      const oneHot = torch.FloatTensor(1, n).zero_();
      const v = oneHot._version.value;
      oneHot.setitem([0, k], 1);
      expect(oneHot._version.value).toBe(v + 1);
      const expected = Array.from({ length: n }, (_, i) => (i === k ? 1 : 0));
      expect(flat(oneHot)).toEqual(expected);
      expect(flat(torch.one_hot(torch.tensor([k], { dtype: 'int64' }), n).to('float32'))).toEqual(expected);
    }), { numRuns: 20 });
  });

  it('views share storage with their base; reshape copies only when it must', () => {
    const x = torch.arange(6).to('float32').reshape(2, 3);
    const tt = x.t();
    expect(tt.is_contiguous()).toBe(false);
    expect(() => tt.view(6)).toThrow(/view size is not compatible/);
    expect(flat(tt.reshape(6))).toEqual([0, 3, 1, 4, 2, 5]);
    x.index(0).setitem(1, 42);
    expect(flat(tt)![2]).toBe(42);
    expect(x.index('...', torch.slice_(null, null, 2)).shape).toEqual([2, 2]);
    expect(x.index(null, 1).shape).toEqual([1, 3]);
  });

  it('printing follows PyTorch', () => {
    const x = torch.tensor([1, 2], { requires_grad: true });
    expect(String(x)).toBe('tensor([1.0000, 2.0000], requires_grad=True)');
    expect(String(x.mul(2))).toBe('tensor([2.0000, 4.0000], grad_fn=<MulBackward0>)');
  });
});
