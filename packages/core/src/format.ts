import type { Tensor } from './tensor.ts';

function formatNumber(v: number, isFloat: boolean, decimals: number): string {
  if (!isFloat) return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toFixed(decimals);
}

/** PyTorch-like printing: `tensor([[1.0000, 2.0000]], grad_fn=<MulBackward0>)`, summarised past 1000 elements. */
export function formatTensor(t: Tensor): string {
  if (t._dev !== null) {
    // Values on a device are only readable asynchronously; print what is known now.
    const extras = [`size=[${t.shape.join(', ')}]`, `device='${t.device}'`];
    if (t.grad_fn) extras.push(`grad_fn=<${t.grad_fn.name()}>`);
    else if (t.requires_grad) extras.push('requires_grad=True');
    return `tensor(<values on the device: await t.cpu()>, ${extras.join(', ')})`;
  }
  const nd = t._nd;
  const isFloat = t.is_floating_point();
  const isBool = t.dtype === 'bool';
  const summarize = t.numel() > 1000;
  const fmt = (v: number): string => (isBool ? (v ? 'True' : 'False') : formatNumber(v, isFloat, 4));
  const rec = (dim: number, off: number, indent: string): string => {
    if (dim === nd.shape.length) return fmt(nd.data[off]!);
    const n = nd.shape[dim]!;
    const idx = summarize && n > 6 ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    const parts = idx.map((i) => (i < 0 ? '...' : rec(dim + 1, off + i * nd.stride[dim]!, indent + ' ')));
    const sep = dim === nd.shape.length - 1 ? ', ' : ',\n' + indent + ' ';
    return `[${parts.join(sep)}]`;
  };
  const body = rec(0, nd.offset, '       ');
  const extras: string[] = [];
  if (t.dtype === 'float64') extras.push('dtype=torch.float64');
  if (t.dtype === 'int64' && t.numel() === 0) extras.push('dtype=torch.int64');
  if (t.grad_fn) extras.push(`grad_fn=<${t.grad_fn.name()}>`);
  else if (t.requires_grad) extras.push('requires_grad=True');
  return `tensor(${[body, ...extras].join(', ')})`;
}
